"""Statements per dose plan and per recorded dose: a small number that does not grow with the
patient's history (issue 10). The audit trail's own statements are counted apart."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from mat.dosing.models import Dose
from mat.dosing.patient_day import patient_with_orders
from mat.extensions import db
from mat.formulary.models import Medication
from tests.support.statements import statements


def _checkpoint(sql: str) -> bool:
    """A statement of the audit chain's signed checkpoint (mat.audit.checkpoints): written by
    whichever chained write comes first after CHECKPOINT_EVERY, so counted apart."""
    flat = sql.lower()
    return "audit_checkpoints" in flat or ("count(" in flat and "audit_events" in flat)


def _history(factory: Any, clock: Any, sign_order: Any, staff: Any, days: int) -> Any:
    """A patient admitted ``days`` ago, a new order every 30 days, dosed every day until today."""
    today = clock.now.date()
    start = today - timedelta(days=days)
    patient = factory.patient(admitted_on=start)
    day = start
    while day <= today:
        clock.set(day)
        sign_order(patient, dose_mg=40 + (day - start).days // 30)
        day += timedelta(days=30)
    clock.set(today)
    medication = db.session.query(Medication).filter_by(code="METH-10MGML").one()
    for offset in range(days):
        served = start + timedelta(days=offset)
        db.session.add(
            Dose(
                patient_id=patient.id,
                order_id=_order_on(patient.id, served),
                medication_id=medication.id,
                service_date=served,
                slot="daily",
                mode="observed",
                amount_mg=Decimal(40 + offset // 30),
                volume_ml=Decimal(4),
                dispensed_at=datetime.combine(served, time(9), clock.zone),
                dispenser_id=staff["nurse"].id,
                profile_id="federal",
                profile_version="1",
            )
        )
    db.session.commit()
    return patient


def _order_on(patient_id: int, day: date) -> int:
    from mat.orders.service import governing_order, patient_orders

    order = governing_order(patient_orders(patient_id), day)
    assert order is not None
    return order.id


def _count(seen: list[str]) -> tuple[int, int]:
    """(statements, of which a checkpoint's) of one request."""
    checkpoint = sum(1 for s in seen if _checkpoint(s))
    return len(seen) - checkpoint, checkpoint


# Every statement the database sees, the audit trail's included (issue 10: at most 5 a plan, 8 a
# dose). A dose plan: the bearer token with the user's roles; the patient with the orders that
# can govern the window; the window's doses, holds and screens; the read's audit event, staged
# unchained (mat.audit.staging). An observed dose on PostgreSQL: token; the patient locked by its
# read (FOR UPDATE OF patients) with its orders; the window; the station and lots; the insert;
# then the audit chain: the chain's tail (mat_audit_chain_tail: the advisory lock, the sealing
# setting, the staged reads sealed and the chain's head read, one call), the events inserted in
# one statement.
PLAN_MOST = 5
DOSE_MOST = 8
# SQLite has no FOR UPDATE (an UPDATE takes the write lock: one more statement) and inserts a
# batch of events one row a statement (its RETURNING order is not guaranteed, so SQLAlchemy does
# not batch them): a dose after a plan read chains two events.
DOSE_MOST_SQLITE = 10
# A signed checkpoint of the chain, now and then: the latest one, the events since, the insert.
CHECKPOINT_MOST = 3


def _measure(client: Any, days: int, patient_id: int, headers: dict[str, str]) -> dict[str, Any]:
    path = f"/api/v1/patients/{patient_id}"
    with statements() as plan_seen:
        response = client.get(f"{path}/dose-plan", headers=headers)
    assert response.status_code == 200, response.get_json()
    plan = response.get_json()
    assert plan["status"] == "due", plan
    with statements() as dose_seen:
        response = client.post(
            f"{path}/doses", headers=headers, json={"amount_mg": plan["dose_mg"]}
        )
    assert response.status_code == 201, response.get_json()
    if os.environ.get("MAT_SHOW_STATEMENTS"):  # to see which statements a change added
        for name, seen in (("plan", plan_seen), ("dose", dose_seen)):
            print(f"--- {name}, {days} days: (statements, checkpoint) {_count(seen)}")  # noqa: T201
            for s in seen:
                print("   ", " ".join(s.split())[:200])  # noqa: T201
    return {"plan": _count(plan_seen), "dose": _count(dose_seen)}


def test_statements_do_not_grow_with_history(client, factory, clock, sign_order, staff) -> None:
    short = _history(factory, clock, sign_order, staff, 3)
    long = _history(factory, clock, sign_order, staff, 200)
    headers = {"Authorization": f"Bearer {factory.token(staff['nurse'])}"}
    ids = short.id, long.id
    counts = {
        days: _measure(client, days, pid, headers) for days, pid in zip((3, 200), ids, strict=True)
    }
    # a checkpoint of the audit chain may fall on either: only its part may differ
    assert counts[3]["plan"][0] == counts[200]["plan"][0], counts
    assert counts[3]["dose"][0] == counts[200]["dose"][0], counts
    dose_most = (
        DOSE_MOST if os.environ.get("MAT_TEST_DATABASE") == "postgresql" else DOSE_MOST_SQLITE
    )
    for measured in counts.values():
        assert measured["plan"][0] <= PLAN_MOST, counts
        assert measured["dose"][0] <= dose_most, counts
        assert measured["plan"][1] <= CHECKPOINT_MOST, counts
        assert measured["dose"][1] <= CHECKPOINT_MOST, counts


def test_an_idempotency_key_costs_a_dose_one_statement(
    client, factory, clock, sign_order, staff
) -> None:
    """A tablet's Idempotency-Key adds the stored answer's insert, no more: a dose does not look
    its key up first (mat.idempotency, ``look_up_first``; the bench's doses carry one)."""
    plain_patient = _history(factory, clock, sign_order, staff, 3)
    keyed_patient = _history(factory, clock, sign_order, staff, 3)
    headers = {"Authorization": f"Bearer {factory.token(staff['nurse'])}"}
    plain = _measure(client, 3, plain_patient.id, headers)["dose"][0]
    keyed = _measure(client, 3, keyed_patient.id, {**headers, "Idempotency-Key": "tablet-1"})
    assert keyed["dose"][0] == plain + 1, (plain, keyed)
    if os.environ.get("MAT_TEST_DATABASE") == "postgresql":  # the bench's dose, within budget
        assert keyed["dose"][0] <= DOSE_MOST, keyed


def test_only_orders_that_can_govern_the_window_are_read_and_they_still_govern(
    factory, clock, sign_order, plan
) -> None:
    """The patient's orders are read limited to those that can govern a date of the window: an
    order a newer open-ended one took over long ago is left out, an order still governing the
    dates before a newer one starts is not."""
    today = clock.now.date()
    patient = factory.patient(admitted_on=today - timedelta(days=120))
    for days_ago, dose_mg in ((120, 30), (20, 40), (5, 50)):
        clock.set(today - timedelta(days=days_ago))
        sign_order(patient, dose_mg=dose_mg)
    clock.set(today)
    assert Decimal(plan(patient)["dose_mg"]) == 50
    before = plan(patient, today - timedelta(days=6))  # the 40 mg order still governs it
    assert Decimal(before["dose_mg"]) == 40, before
    long_ago = plan(patient, today - timedelta(days=100))  # the first order governed it
    assert Decimal(long_ago["dose_mg"]) == 30, long_ago
    _, orders = patient_with_orders(patient.id, today - timedelta(days=14))
    assert sorted(o.first_dose_mg for o in orders) == [40, 50]


def test_an_older_order_governs_again_after_the_newer_one_is_discontinued(
    api, factory, clock, sign_order, plan, staff
) -> None:
    """A newer order that was discontinued does not hide the older one from the read: the older
    order governs again from the day the newer one stopped (api-contract.md)."""
    today = clock.now.date()
    patient = factory.patient(admitted_on=today - timedelta(days=40))
    clock.set(today - timedelta(days=40))
    sign_order(patient, dose_mg=40)
    clock.set(today - timedelta(days=30))
    newer = sign_order(patient, dose_mg=50)
    clock.set(today)
    _discontinue(api, staff, newer["id"])
    assert Decimal(plan(patient)["dose_mg"]) == 40


def _discontinue(api: Any, staff: Any, order_id: int) -> None:
    response = api(
        "post",
        f"/api/v1/orders/{order_id}/discontinue",
        as_=staff["prescriber"],
        json={"reason": "Back to the earlier dose."},
    )
    assert response.status_code == 200, response.get_json()


def test_a_take_home_authorization_and_a_discontinuation_cost_no_statement(
    api, client, factory, clock, sign_order, staff, take_home_criteria
) -> None:
    """The patient's orders are read with only what the rules look at (the take-home days are in
    the stored schedule; of a discontinuation only its date): a patient whose governing order
    carries a take-home authorization, beside a discontinued newer order, costs a dose plan and
    a dose no more statements than a patient with one plain order. A rule that came to read a
    column left out of the read (``patient_day.patient_with_orders``) would load it with one
    more statement, and fail here."""
    today = clock.now.date()
    plain = _history(factory, clock, sign_order, staff, 3)
    fuller = _history(factory, clock, sign_order, staff, 3)  # a first order, then two today
    take_homes = {"dates": [(today + timedelta(days=3)).isoformat()]}
    older = sign_order(fuller, take_home={**take_homes, "criteria": take_home_criteria})
    newer = sign_order(fuller, dose_mg=50)
    _discontinue(api, staff, newer["id"])
    headers = {"Authorization": f"Bearer {factory.token(staff['nurse'])}"}
    counts = {
        "plain": _measure(client, 3, plain.id, headers),
        "fuller": _measure(client, 3, fuller.id, headers),
    }
    assert counts["plain"]["plan"][0] == counts["fuller"]["plan"][0], counts
    assert counts["plain"]["dose"][0] == counts["fuller"]["dose"][0], counts
    _, orders = patient_with_orders(fuller.id, today - timedelta(days=14))
    assert {older["id"], newer["id"]} <= {o.id for o in orders}
    governing = next(o for o in orders if o.id == older["id"])
    assert governing.take_home is not None  # left out of the read, still there when asked for
    assert governing.stored.take_home is not None
