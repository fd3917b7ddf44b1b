"""An order's life after signing: superseded, discontinued, completed; the planned schedule;
and the database refusing any edit of a signed order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from mat.extensions import db
from mat.orders.models import Order
from tests.conftest import TODAY
from tests.orders.test_api import body, sign
from tests.support.checks import assert_error
from tests.support.factories import CRITERIA, RATIONALE


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def statuses(api: Any, staff: Any, patient: Any) -> list[tuple[int, str]]:
    listed = api("get", f"/api/v1/patients/{patient.id}/orders", as_=staff["nurse"]).get_json()
    return [(o["id"], o["status"]) for o in listed]


def schedule(api: Any, staff: Any, patient: Any, start: str, stop: str) -> list[dict[str, Any]]:
    response = api(
        "get", f"/api/v1/patients/{patient.id}/schedule?from={start}&to={stop}", as_=staff["nurse"]
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_new_order_supersedes_the_active_one_from_its_start_date(
    api, staff, patient, clock
) -> None:
    first = sign(api, staff, patient, dose_mg=40).get_json()
    second = sign(api, staff, patient, dose_mg=45, start_date=day(3)).get_json()
    planned = schedule(api, staff, patient, day(0), day(4))
    assert [(p["date"], p["dose_mg"], p["order_id"]) for p in planned] == [
        (day(0), 40, first["id"]),
        (day(1), 40, first["id"]),
        (day(2), 40, first["id"]),
        (day(3), 45, second["id"]),
        (day(4), 45, second["id"]),
    ]
    assert statuses(api, staff, patient) == [(second["id"], "active"), (first["id"], "active")]
    clock.set(TODAY + timedelta(days=3))
    assert statuses(api, staff, patient) == [(second["id"], "active"), (first["id"], "superseded")]
    record = api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"]).get_json()
    assert record["active_order"]["id"] == second["id"]


def test_discontinuing_ends_the_order_from_today(api, staff, patient, clock) -> None:
    order = sign(api, staff, patient).get_json()
    clock.set(TODAY + timedelta(days=2))
    response = api(
        "post",
        f"/api/v1/orders/{order['id']}/discontinue",
        as_=staff["prescriber"],
        json={"reason": "Patient moved to another program."},
    )
    assert response.status_code == 200, response.get_json()
    stopped = response.get_json()
    assert stopped["status"] == "discontinued"
    assert stopped["discontinued"]["effective_on"] == day(2)
    assert stopped["discontinued"]["by"]["username"] == "doc"
    assert [p["date"] for p in schedule(api, staff, patient, day(0), day(5))] == [day(0), day(1)]
    assert statuses(api, staff, patient) == [(order["id"], "discontinued")]
    again = api(
        "post",
        f"/api/v1/orders/{order['id']}/discontinue",
        as_=staff["prescriber"],
        json={"reason": "Twice."},
    )
    assert_error(again, 409, "order_discontinued")
    record = api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"]).get_json()
    assert record["active_order"] is None


@pytest.mark.parametrize("payload", [{}, {"reason": ""}, {"reason": "ab"}, {"reason": 5}])
def test_discontinuing_needs_a_reason(api, staff, patient, payload) -> None:
    order = sign(api, staff, patient).get_json()
    path = f"/api/v1/orders/{order['id']}/discontinue"
    error = assert_error(api("post", path, as_=staff["prescriber"], json=payload), 422)
    assert "reason" in error["fields"]
    assert db.session.get(Order, order["id"]).discontinuation is None


def test_discontinuing_an_unknown_order_is_404(api, staff) -> None:
    response = api(
        "post", "/api/v1/orders/999/discontinue", as_=staff["prescriber"], json={"reason": "None."}
    )
    assert_error(response, 404, "order_not_found")


def test_a_taper_to_zero_completes(api, staff, patient, clock) -> None:
    taper = {"start_mg": 10, "step_percent": 10, "every_days": 7, "end_mg": 0}
    order = sign(api, staff, patient, kind="taper", dose_mg=None, taper=taper).get_json()
    assert order["end_date"] is not None
    assert [s["dose_mg"] for s in order["steps"]] == [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    assert order["schedule"][-1]["date"] == order["end_date"]
    clock.set(TODAY + timedelta(days=7 * 10))
    assert statuses(api, staff, patient) == [(order["id"], "completed")]


def test_a_split_order_plans_each_slot(api, staff, patient) -> None:
    split = [{"slot": "am", "fraction": 0.5}, {"slot": "pm", "fraction": 0.5}]
    sign(api, staff, patient, dose_mg=90, split=split, justification="Rapid metabolizer.")
    planned = schedule(api, staff, patient, day(0), day(0))
    assert [(p["slot"], p["dose_mg"], p["volume_ml"]) for p in planned] == [
        ("am", 45, 4.5),
        ("pm", 45, 4.5),
    ]


def test_a_split_that_cannot_be_measured_is_refused(api, staff, patient) -> None:
    split = [{"slot": "am", "fraction": 0.5}, {"slot": "pm", "fraction": 0.5}]
    response = sign(api, staff, patient, medication="BUP-SL-8", dose_mg=8, split=split)
    error = assert_error(response, 422, "order_blocked")
    assert [v["rule"] for v in error["violations"]] == ["dose_not_measurable"]


@pytest.mark.parametrize(
    "query, field",
    [
        (f"from={day(3)}&to={day(1)}", "to"),
        (f"from={day(0)}&to={day(400)}", "to"),
        ("from=yesterday", "from"),
    ],
)
def test_bad_schedule_ranges_are_422(api, staff, patient, query, field) -> None:
    response = api("get", f"/api/v1/patients/{patient.id}/schedule?{query}", as_=staff["nurse"])
    assert field in assert_error(response, 422)["fields"]


def test_the_schedule_defaults_to_four_weeks_from_today(api, staff, patient) -> None:
    sign(api, staff, patient)
    planned = api("get", f"/api/v1/patients/{patient.id}/schedule", as_=staff["auditor"]).get_json()
    assert [p["date"] for p in planned] == [day(n) for n in range(28)]


def test_orders_of_an_unknown_patient_are_404(api, staff) -> None:
    assert_error(api("get", "/api/v1/patients/999/orders", as_=staff["nurse"]), 404)
    assert_error(api("get", "/api/v1/patients/999/schedule", as_=staff["nurse"]), 404)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE orders SET first_dose_mg = 400",
        "UPDATE orders SET justification = 'edited later'",
        "DELETE FROM orders",
        "UPDATE take_home_authorizations SET safe_transport_and_storage = false",
        "DELETE FROM take_home_authorizations",
    ],
)
def test_the_database_refuses_to_edit_or_delete_a_signed_order(
    app, api, staff, patient, statement
) -> None:
    take_home = {"weekdays": ["sun"], "criteria": CRITERIA, "rationale": RATIONALE}
    assert sign(api, staff, patient, take_home=take_home).status_code == 201
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with pytest.raises(DatabaseError, match="append_only"), engine.begin() as conn:
            conn.execute(text(statement))
        with engine.connect() as conn:
            row = conn.execute(text("SELECT first_dose_mg, justification FROM orders")).one()
            assert (row[0], row[1]) == (40, None)
    finally:
        engine.dispose()


def test_the_database_refuses_to_undo_a_discontinuation(app, api, staff, patient) -> None:
    order = sign(api, staff, patient).get_json()
    api(
        "post",
        f"/api/v1/orders/{order['id']}/discontinue",
        as_=staff["prescriber"],
        json={"reason": "Stopped."},
    )
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with pytest.raises(DatabaseError, match="append_only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM order_discontinuations"))
    finally:
        engine.dispose()


def test_preview_and_sign_share_one_body(api, staff, patient) -> None:
    preview = api(
        "post",
        f"/api/v1/patients/{patient.id}/orders/preview",
        as_=staff["prescriber"],
        json=body(dose_mg=45),
    ).get_json()
    signed = sign(api, staff, patient, dose_mg=45).get_json()
    assert preview["violations"] == []
    assert [{**p, "order_id": signed["id"]} for p in preview["schedule"]] == signed["schedule"]
