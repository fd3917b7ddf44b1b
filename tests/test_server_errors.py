"""A server error is a 500 in the contract's shape, rolled back, logged without patient data.

The failures are real: a trigger installed in the test's database refuses a write, either while
the request's one commit writes its audit events (``mat._commit``, after the view returned) or
while a view flushes. Nothing is mocked; Flask runs as in production (exceptions are answered,
not propagated to the test).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select, text

from mat.audit.models import AuditEvent
from mat.dosing.models import Hold
from mat.extensions import db
from mat.jsonio import read_json
from mat.patients.models import Patient
from tests.support.checks import assert_error, count

NAME, FAMILY, MRN = "Quennell", "Vantongeren", "SECRET-4471"
NEW = {
    "mrn": MRN,
    "given_name": NAME,
    "family_name": FAMILY,
    "date_of_birth": "1990-04-02",
    "admitted_on": "2026-11-16",
    "level_of_care": "outpatient",
}


@pytest.fixture
def production_errors(app: Flask) -> Flask:
    # TESTING makes Flask re-raise what no view handled; production answers it.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


class Triggers:
    """Test-only triggers that make the database refuse a write, on either engine."""

    def __init__(self) -> None:
        self.created: list[tuple[str, str]] = []

    def refuse_audit_action(self, action: str) -> None:
        """Refuse inserting the audit event ``action``: audit events are written by the
        request's commit, so the commit fails after the view returned its answer. A read is
        staged (``audit_staged_reads``) at that commit, a write chained: both are refused."""
        for table in ("audit_events", "audit_staged_reads"):
            if db.engine.dialect.name == "postgresql":
                self._pg(table, f"NEW.action = '{action}'", "'commit refused by the test'")
            else:
                # A runtime error that is not a constraint (not an IntegrityError, a 409).
                self._sqlite(table, f"NEW.action = '{action}'", "SELECT abs(-9223372036854775808);")

    def conflict_on_audit_action(self, action: str) -> None:
        """Make the commit that writes the audit event ``action`` fail as a lost race does: a
        constraint violation (an IntegrityError), which ``mat._commit`` answers with a 409."""
        if db.engine.dialect.name == "postgresql":
            self._pg("audit_events", f"NEW.action = '{action}'", "'lost race'", errcode="23505")
        else:
            self._sqlite("audit_events", f"NEW.action = '{action}'", "SELECT RAISE(ABORT, 'lost');")

    def refuse_patients(self) -> None:
        """Refuse inserting a patient, with the row's name and MRN in the database's message
        on PostgreSQL (as a unique violation's DETAIL would quote them)."""
        if db.engine.dialect.name == "postgresql":
            self._pg(
                "patients", "true", "'refused % % %', NEW.given_name, NEW.family_name, NEW.mrn"
            )
        else:
            self._sqlite("patients", "1", "SELECT abs(-9223372036854775808);")

    def _pg(self, table: str, when: str, message: str, errcode: str = "XX000") -> None:
        name = f"test_refuse_{table}"
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                    f"IF {when} THEN RAISE EXCEPTION {message} USING ERRCODE = '{errcode}'; "
                    "END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {name}()"
                )
            )
        self.created.append((name, table))

    def _sqlite(self, table: str, when: str, body: str) -> None:
        name = f"test_refuse_{table}"
        with db.engine.begin() as conn:
            conn.execute(
                text(f"CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN {when} BEGIN {body} END")
            )
        self.created.append((name, table))

    def drop(self) -> None:
        with db.engine.begin() as conn:
            for name, table in self.created:
                if conn.dialect.name == "postgresql":
                    conn.execute(text(f"DROP TRIGGER {name} ON {table}"))
                    conn.execute(text(f"DROP FUNCTION {name}()"))
                else:
                    conn.execute(text(f"DROP TRIGGER {name}"))


@pytest.fixture
def triggers(app: Flask) -> Iterator[Triggers]:
    made = Triggers()
    yield made
    db.session.rollback()
    made.drop()


def refusals() -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.outcome == "refused").order_by(AuditEvent.id)
    return list(db.session.scalars(stmt))


def assert_no_patient_data(caplog: pytest.LogCaptureFixture) -> str:
    logged = caplog.text
    assert "server error on" in logged
    for secret in (NAME, FAMILY, MRN):
        assert secret not in logged, logged
    return logged


# ---- a failed commit ------------------------------------------------------------------------


def test_a_commit_the_database_refuses_is_a_500_and_stores_nothing(
    production_errors, triggers, api, staff, caplog
) -> None:
    triggers.refuse_audit_action("patient.create")
    with caplog.at_level(logging.ERROR):
        response = api("post", "/api/v1/patients", as_=staff["nurse"], json=NEW)
    error = assert_error(response, 500, "internal_error")
    assert "logged" in error["message"]
    assert count(Patient) == 0  # the view's flush passed; the commit did not
    (refusal,) = refusals()
    assert refusal.action == "POST /api/v1/patients"
    assert json.loads(refusal.detail)["status"] == 500
    logged = assert_no_patient_data(caplog)
    assert "POST /api/v1/patients (endpoint patients_api.create)" in logged


def test_a_page_whose_commit_fails_is_a_500_page(
    production_errors, triggers, client, staff, patient
) -> None:
    from tests.auth.test_pages import sign_in

    sign_in(client, "nurse1")
    triggers.refuse_audit_action("patient.read")
    response = client.get(f"/window/{patient.id}")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page and "nothing was recorded" in page
    assert "Traceback" not in page and "OperationalError" not in page
    # The read of the record was rolled back with the rest: the refusal names the patient of
    # the address, so an auditor listing the patient's events still sees the attempt.
    assert [r.patient_id for r in refusals()] == [patient.id]


def test_a_commit_that_loses_a_race_is_a_409_naming_the_patient_of_the_address(
    production_errors, triggers, api, staff, patient
) -> None:
    triggers.conflict_on_audit_action("hold.place")
    path = f"/api/v1/patients/{patient.id}/holds"
    response = api("post", path, as_=staff["nurse"], json={"reason": "Intoxicated at window"})
    assert_error(response, 409, "conflict")
    assert count(Hold) == 0
    (refusal,) = refusals()
    assert refusal.action == f"POST {path}" and refusal.patient_id == patient.id
    assert json.loads(refusal.detail)["status"] == 409


def test_after_a_failed_commit_the_next_request_works(
    production_errors, triggers, api, staff
) -> None:
    triggers.refuse_audit_action("patient.create")
    assert api("post", "/api/v1/patients", as_=staff["nurse"], json=NEW).status_code == 500
    triggers.drop()
    triggers.created.clear()
    assert api("post", "/api/v1/patients", as_=staff["nurse"], json=NEW).status_code == 201
    assert count(Patient) == 1


# ---- an error inside a view ---------------------------------------------------------------


def test_a_database_error_in_a_view_logs_no_patient_identifiers(
    production_errors, triggers, api, staff, caplog
) -> None:
    triggers.refuse_patients()
    with caplog.at_level(logging.DEBUG):
        response = api("post", "/api/v1/patients", as_=staff["nurse"], json=NEW)
    assert_error(response, 500, "internal_error")
    assert count(Patient) == 0
    logged = assert_no_patient_data(caplog)
    # What an operator needs is there: the route rule, the exception types, the SQL.
    assert "endpoint patients_api.create" in logged
    assert "INSERT INTO patients" in logged
    assert "mat/patients/service.py" in logged  # the traceback's frames, without messages


def test_the_engine_hides_bound_parameters(app) -> None:
    # Whoever prints a database error (gunicorn's log of an escaped exception, a developer's
    # print) sees no names or MRNs bound to the statement.
    assert db.engine.hide_parameters is True


# ---- JSON that the grammar allows but nothing here can read ---------------------------------


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000, "[" * 100_000],
    ids=["arrays", "objects", "unclosed"],
)
def test_deeply_nested_json_is_400(api, staff, body) -> None:
    response = api(
        "post", "/api/v1/patients", as_=staff["nurse"], data=body, content_type="application/json"
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert set(response.get_json()) == {"error"}
    assert count(Patient) == 0


def test_deep_nesting_is_named_in_the_answer(api, staff, patient) -> None:
    body = '{"dates": ' + "[" * 50_000 + "]" * 50_000 + "}"
    response = api(
        "post",
        f"/api/v1/patients/{patient.id}/take-homes",
        as_=staff["nurse"],
        data=body,
        content_type="application/json",
    )
    assert assert_error(response, 400, "json_too_deep")["message"].startswith("The JSON body")


@pytest.mark.parametrize(
    "body",
    [
        {**NEW, "family_name": "\ud800"},
        {**NEW, "given_name": "x\udfff"},
        {**NEW, "\udc00": 1},
    ],
    ids=["high", "low", "key"],
)
def test_a_lone_surrogate_is_400_and_stores_nothing(api, staff, body) -> None:
    data = json.dumps(body)  # ensure_ascii: the surrogate travels as \\ud800, as a client sends it
    response = api(
        "post", "/api/v1/patients", as_=staff["nurse"], data=data, content_type="application/json"
    )
    assert_error(response, 400, "unpaired_surrogate")
    assert count(Patient) == 0


def test_a_lone_surrogate_deep_in_lists_is_400(api, staff, patient) -> None:
    data = '{"dates": [[["\\ud800"]]]}'
    response = api(
        "post",
        f"/api/v1/patients/{patient.id}/take-homes",
        as_=staff["nurse"],
        data=data,
        content_type="application/json",
    )
    assert_error(response, 400, "unpaired_surrogate")


def test_a_surrogate_pair_is_one_character() -> None:
    assert read_json('{"a": "\\ud840\\udc00"}') == {"a": "\U00020000"}
    assert read_json('"\\ud83d\\ude00"') == "\U0001f600"


@pytest.mark.parametrize("query", ["q=%ED%A0%80", "q=%FF%FE", "q=%C0"])
def test_a_query_string_that_is_not_utf8_is_never_a_500(api, staff, query) -> None:
    # werkzeug reads undecodable bytes as U+FFFD: a search for nothing, never a database error.
    response = api("get", f"/api/v1/patients?{query}", as_=staff["nurse"])
    assert response.status_code == 200
    assert response.get_json() == []


def test_a_body_that_is_not_utf8_is_400(api, staff) -> None:
    response = api(
        "post",
        "/api/v1/patients",
        as_=staff["nurse"],
        data=b'{"mrn": "\xff"}',
        content_type="application/json",
    )
    assert_error(response, 400, "not_utf8")
