"""Migration 0006 keeps what was recorded before it, on both engines: take-home authorizations
signed under the old criteria keep their answers, and every patient gets an episode."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DatabaseError

from mat.extensions import db
from tests.support import pg

SCHEDULE = (
    '{"end": null, "split": [], "steps": [["2026-11-16", "60"]], '
    '"take_home": {"dates": [], "weekdays": ["sat", "sun"]}}'
)
# Written under 0003's schema, as the API of the time stored them.
BEFORE_0006 = [
    "INSERT INTO users (id, username, full_name, initials, password_hash, active, created_at) "
    "VALUES (1, 'doc', 'Dr Old', 'DO', 'x', true, '2026-11-01 08:00:00+00:00')",
    "INSERT INTO patients (id, mrn, given_name, family_name, date_of_birth, admitted_on, "
    "level_of_care, status, created_at, updated_at) VALUES "
    "(1, 'OLD-1', 'Ada', 'Before', '1980-01-01', '2026-09-01', 'maintenance', 'active', "
    "'2026-09-01 08:00:00+00:00', '2026-09-01 08:00:00+00:00'), "
    "(2, 'OLD-2', 'Bo', 'Gone', '1981-01-01', '2026-06-01', 'outpatient', 'discharged', "
    "'2026-06-01 08:00:00+00:00', '2026-10-20 15:00:00+00:00')",
    "INSERT INTO orders (id, patient_id, medication_id, kind, start_date, end_date, "
    "first_dose_mg, schedule, request, justification, warnings, profile_id, profile_version, "
    "signed_by_id, signed_at) SELECT 1, 1, id, 'maintenance', '2026-11-16', NULL, 60, "
    f"'{SCHEDULE}', '{{}}', NULL, '[]', 'us-federal', '2024.1', 1, "
    "'2026-11-16 08:00:00+00:00' FROM medications WHERE code = 'METH-10MGML'",
    "INSERT INTO take_home_authorizations (id, order_id, no_recent_misuse, regular_attendance, "
    "no_behavioral_problems, no_diversion, stable_home, safe_storage, note, affirmed_by_id, "
    "affirmed_at) VALUES (1, 1, true, true, true, true, true, true, 'Lock box seen.', 1, "
    "'2026-11-16 08:00:00+00:00')",
]


def _app(url: str):
    """An app whose in-process ``flask_migrate.upgrade()`` / ``downgrade()`` work."""
    from mat import create_app
    from mat.db_cli import bind_migrations

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    bind_migrations(app)
    return app


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.sqlite3'}"
        return
    pg.require()
    name = pg.create_database(f"mat_m06_{os.getpid()}")
    try:
        yield pg.url(name)
    finally:
        pg.drop_database(name)


def _upgrade_with_old_records(url: str) -> None:
    from flask_migrate import upgrade

    app = _app(url)
    with app.app_context():
        upgrade(revision="0003")
        with db.engine.begin() as conn:
            for statement in BEFORE_0006:
                conn.execute(text(statement))
        upgrade()
        db.engine.dispose()


def test_authorizations_signed_before_keep_their_answers(empty_database: str) -> None:
    from mat.orders.answers import order_answer
    from mat.orders.models import Order, TakeHomeAuthorization
    from mat.orders.schemas import OrderOut

    _upgrade_with_old_records(empty_database)
    app = _app(empty_database)
    with app.app_context():
        auth = db.session.scalar(select(TakeHomeAuthorization))
        assert auth.criteria_list == "before-2024"
        assert auth.criteria == {
            "no_recent_misuse": True,
            "regular_attendance": True,
            "no_behavioral_problems": True,
            "no_diversion": True,
            "stable_home": True,
            "safe_storage": True,
        }
        assert (auth.note, auth.rationale) == ("Lock box seen.", None)
        answer = OrderOut().dump(order_answer(db.session.get(Order, 1), "active"))
        assert answer["take_home"]["criteria_list"] == "before-2024"
        assert answer["take_home"]["criteria"]["stable_home"] is True
        assert answer["take_home"]["note"] == "Lock box seen."
        db.session.remove()
        # Still append-only after the table was rebuilt (SQLite) or altered (PostgreSQL).
        engine = create_engine(empty_database)
        try:
            with pytest.raises(DatabaseError, match="append_only"), engine.begin() as conn:
                conn.execute(text("UPDATE take_home_authorizations SET stable_home = false"))
            with pytest.raises(DatabaseError), engine.begin() as conn:  # one whole form
                conn.execute(
                    text(
                        "INSERT INTO take_home_authorizations (order_id, regular_attendance, "
                        "no_behavioral_problems, no_diversion, note, affirmed_by_id, "
                        "affirmed_at) VALUES (1, true, true, true, '', 1, "
                        "'2026-11-16 08:00:00+00:00')"
                    )
                )
        finally:
            engine.dispose()
        db.engine.dispose()


def test_every_patient_registered_before_has_an_episode(empty_database: str) -> None:
    from mat.patients.models import PatientEpisode

    _upgrade_with_old_records(empty_database)
    app = _app(empty_database)
    with app.app_context():
        episodes = list(db.session.scalars(select(PatientEpisode).order_by(PatientEpisode.id)))
        facts = [
            (e.patient_id, e.number, e.admitted_on.isoformat(), e.level_of_care) for e in episodes
        ]
        assert facts == [(1, 1, "2026-09-01", "maintenance"), (2, 1, "2026-06-01", "outpatient")]
        assert episodes[0].discharge is None
        gone = episodes[1].discharge
        assert gone is not None and (gone.discharged_on, gone.by_id) == (None, None)
        db.session.remove()
        db.engine.dispose()


def test_downgrade_is_refused_once_an_authorization_answers_the_2024_criteria(
    empty_database: str,
) -> None:
    from flask_migrate import downgrade

    _upgrade_with_old_records(empty_database)
    app = _app(empty_database)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO orders (id, patient_id, medication_id, kind, start_date, "
                    "first_dose_mg, schedule, request, warnings, profile_id, profile_version, "
                    "signed_by_id, signed_at) SELECT 2, 1, medication_id, kind, start_date, "
                    "first_dose_mg, schedule, request, warnings, 'us-federal', '2024.2', 1, "
                    "'2026-11-17 08:00:00+00:00' FROM orders WHERE id = 1"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO take_home_authorizations (id, order_id, no_active_use_or_risk, "
                    "regular_attendance, no_behavioral_problems, no_diversion, "
                    "safe_transport_and_storage, rationale, note, affirmed_by_id, affirmed_at) "
                    "VALUES (2, 2, true, true, true, true, false, 'Stable.', '', 1, "
                    "'2026-11-17 08:00:00+00:00')"
                )
            )
        with pytest.raises(SystemExit):  # flask-migrate logs the RuntimeError and exits 1
            downgrade(revision="0003")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM take_home_authorizations")).scalar() == 2
        db.engine.dispose()


def test_downgrade_to_0003_works_while_only_old_records_exist(tmp_path) -> None:
    from flask_migrate import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    _upgrade_with_old_records(url)
    app = _app(url)
    with app.app_context():
        downgrade(revision="0003")
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT stable_home, note FROM take_home_authorizations"))
            assert [tuple(r) for r in row] == [(1, "Lock box seen.")]
        upgrade()
        db.engine.dispose()
