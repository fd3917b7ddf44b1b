"""Amounts are JSON numbers; admission and closure dates fall in a sane range; bodies are at
most 1 MB unless a view says otherwise. Each refusal is a 4xx in the contract's shape and
stores nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from mat.auth.access import public
from mat.dosing.models import ClinicClosure, Dose
from mat.orders.models import Order
from mat.patients.models import Patient
from mat.patients.schemas import admission_problem
from mat.web import body_limit
from tests.conftest import TODAY
from tests.support.checks import assert_error, count

MB = 1024 * 1024

# ---- amounts must be JSON numbers ---------------------------------------------------------


@pytest.mark.parametrize("value", ["40", "40.0", True, None, [40], {"mg": 40}])
def test_a_dose_amount_that_is_not_a_number_is_422(give, patient, sign_order, value) -> None:
    sign_order(patient)
    error = assert_error(give(patient, value), 422)
    assert error["fields"]["amount_mg"]
    assert count(Dose) == 0


def test_the_same_dose_as_a_number_is_given(give, patient, sign_order) -> None:
    sign_order(patient)
    assert give(patient, 40).status_code == 201


def _order(clock: Any, **body: Any) -> dict[str, Any]:
    return {
        "medication": "METH-10MGML",
        "kind": "maintenance",
        "start_date": clock.now.date().isoformat(),
        **body,
    }


@pytest.mark.parametrize(
    "body, field",
    [
        ({"dose_mg": "60"}, "dose_mg"),
        ({"dose_mg": False}, "dose_mg"),
        (
            {"kind": "titration", "titration": {"start_mg": "30", "step_mg": 5, "every_days": 3,
                                                "target_mg": 60}},
            "titration.start_mg",
        ),
        (
            {"kind": "titration", "titration": {"start_mg": 30, "step_mg": 5, "every_days": "3",
                                                "target_mg": 60}},
            "titration.every_days",
        ),
        (
            {"kind": "titration", "titration": {"start_mg": 30, "step_mg": 5, "every_days": 3.5,
                                                "target_mg": 60}},
            "titration.every_days",
        ),
        (
            {"kind": "taper", "taper": {"start_mg": 80, "step_percent": "10", "every_days": 14,
                                        "end_mg": 0}},
            "taper.step_percent",
        ),
        ({"steps": [{"date": "2026-11-16", "dose_mg": "40"}]}, "steps.0.dose_mg"),
        (
            {"dose_mg": 60, "split": [{"slot": "am", "fraction": "0.5"},
                                      {"slot": "pm", "fraction": 0.5}]},
            "split.0.fraction",
        ),
    ],
)  # fmt: skip
def test_order_numbers_that_are_text_are_422(api, staff, patient, clock, body, field) -> None:
    response = api(
        "post",
        f"/api/v1/patients/{patient.id}/orders",
        as_=staff["prescriber"],
        json=_order(clock, **body),
    )
    error = assert_error(response, 422)
    assert field in error["fields"], error
    assert count(Order) == 0


def test_a_whole_number_written_with_a_zero_decimal_is_still_whole(
    api, staff, patient, clock
) -> None:
    titration = {"start_mg": 30, "step_mg": 5, "every_days": 3.0, "target_mg": 40}
    response = api(
        "post",
        f"/api/v1/patients/{patient.id}/orders/preview",
        as_=staff["prescriber"],
        json=_order(clock, kind="titration", titration=titration),
    )
    assert response.status_code == 200, response.get_json()


def test_the_window_s_give_form_refuses_an_amount_that_is_not_a_number(
    client, staff, patient, sign_order
) -> None:
    from tests.auth.test_pages import sign_in
    from tests.dosing.test_window_pages import give_form

    sign_order(patient)
    sign_in(client, "nurse1")
    form = give_form(client.get(f"/window/{patient.id}").get_data(as_text=True))
    response = client.post(f"/window/{patient.id}/give", data={**form, "amount_mg": "forty"})
    assert response.status_code == 422
    assert count(Dose) == 0
    assert client.post(f"/window/{patient.id}/give", data=form).status_code == 303
    assert count(Dose) == 1


# ---- admission dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "admitted, born, allowed",
    [
        (date(1949, 12, 31), date(1930, 1, 1), False),
        (date(1950, 1, 1), date(1930, 1, 1), True),
        (date(1990, 4, 1), date(1990, 4, 2), False),  # before the date of birth
        (date(1990, 4, 2), date(1990, 4, 2), True),
        (TODAY + timedelta(days=30), date(1990, 4, 2), True),
        (TODAY + timedelta(days=31), date(1990, 4, 2), False),
    ],
)
def test_admission_date_range(admitted, born, allowed) -> None:
    assert (admission_problem(admitted, born, TODAY) is None) is allowed


@pytest.mark.parametrize(
    "admitted_on, status",
    [("1949-12-31", 422), ("1950-01-01", 201), ("2026-12-16", 201), ("2026-12-17", 422)],
)
def test_admission_dates_through_the_api(api, staff, admitted_on, status) -> None:
    body = {
        "mrn": "A-1",
        "given_name": "Ada",
        "family_name": "Byron",
        "date_of_birth": "1930-01-01",
        "admitted_on": admitted_on,
        "level_of_care": "outpatient",
    }
    response = api("post", "/api/v1/patients", as_=staff["nurse"], json=body)
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert assert_error(response, 422)["fields"]["admitted_on"]
    assert count(Patient) == (1 if status == 201 else 0)


# ---- closure dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "days_from_today, status", [(-366, 422), (-365, 201), (730, 201), (731, 422)]
)
def test_closure_date_range(api, staff, days_from_today, status) -> None:
    day = TODAY + timedelta(days=days_from_today)
    response = api(
        "post",
        "/api/v1/closures",
        as_=staff["admin"],
        json={"date": day.isoformat(), "reason": "Holiday"},
    )
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert "a year back" in assert_error(response, 422)["fields"]["date"][0]
    assert count(ClinicClosure) == (1 if status == 201 else 0)


# ---- body size -----------------------------------------------------------------------------


def test_a_body_over_one_megabyte_is_413(api, staff) -> None:
    body = '{"mrn": "A-1", "given_name": "' + "x" * MB + '"}'
    response = api(
        "post", "/api/v1/patients", as_=staff["nurse"], data=body, content_type="application/json"
    )
    error = assert_error(response, 413, "payload_too_large")
    assert "too large" in error["message"]
    assert count(Patient) == 0


def test_a_body_just_under_the_limit_is_read(api, staff) -> None:
    body = '{"mrn": "A-1", "given_name": "' + "x" * (MB - 100) + '"}'
    response = api(
        "post", "/api/v1/patients", as_=staff["nurse"], data=body, content_type="application/json"
    )
    assert_error(response, 422)  # read, then refused for its content: not a 413


def test_a_form_over_the_limit_is_413(client) -> None:
    response = client.post("/login", data={"username": "x" * MB, "password": "p"})
    assert response.status_code == 413


@pytest.fixture
def upload_app(app: Flask) -> Flask:
    """Two test-only views, one with a bigger limit (as the import will have)."""
    from flask import request

    @public
    def default_view() -> tuple[str, int]:
        return str(len(request.get_data())), 200

    @body_limit(3 * MB)
    @public
    def big_view() -> tuple[str, int]:
        return str(len(request.get_data())), 200

    from mat.web_extensions import csrf

    for name, view in (("test_default", default_view), ("test_big", big_view)):
        app.add_url_rule(f"/{name}", name, csrf.exempt(view), methods=["POST"])
    return app


def test_a_view_may_take_a_bigger_body(upload_app, client) -> None:
    two_mb = b"x" * (2 * MB)
    assert client.post("/test_default", data=two_mb).status_code == 413
    big = client.post("/test_big", data=two_mb)
    assert big.status_code == 200 and big.get_data(as_text=True) == str(2 * MB)
    assert client.post("/test_big", data=b"x" * (3 * MB + 1)).status_code == 413
