"""The demo seed writes nothing later than the moment it runs (a log printed at 13:41 listed
doses at 15:30): today's doses, holds, orders and screens fall at or before the seed's now."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from mat.demo import seed_demo_clinic
from mat.dosing.models import Dose, DoseCorrection, DrugScreen, Hold
from mat.extensions import db
from mat.orders.models import Order
from tests.conftest import TODAY


@pytest.mark.parametrize("at", [time(13, 41), time(6, 5)])
def test_the_demo_seed_dates_nothing_after_now(app, clock, at) -> None:
    clock.set(TODAY, at)
    seed_demo_clinic()
    db.session.commit()
    now = clock.now
    moments = [
        *db.session.scalars(select(Dose.dispensed_at)),
        *db.session.scalars(select(DoseCorrection.at)),
        *db.session.scalars(select(Hold.set_at)),
        *db.session.scalars(select(Order.signed_at)),
        *db.session.scalars(select(DrugScreen.recorded_at)),
    ]
    late = sorted(m for m in moments if m > now)
    assert not late, f"{len(late)} moments after {now}, the first {late[0]}"
    today = [
        d.dispensed_at
        for d in db.session.scalars(select(Dose).where(Dose.service_date == TODAY))
        if d.mode == "observed"
    ]
    assert today, "the demo shows doses given this morning"
    # Today's doses keep the demo's order: spread over the morning up to now, not all at once.
    assert len(set(today)) > 5


def test_the_demo_brings_bottles_back_but_one_patient_forgot(app, clock) -> None:
    """Take-home patients scan the weekend's bottles back when they come on Monday (TODAY);
    of those who came, only the forgetful one has bottles flagged at the window (before, every
    take-home patient had, which taught a nurse nothing)."""
    from mat.demo_history import FORGETFUL_PATIENT
    from mat.patients.models import Patient
    from mat.stock.bottles import bottles_out
    from mat.stock.records import BottleReturn

    clock.set(TODAY, time(13, 41))
    seed_demo_clinic()
    db.session.commit()
    patients = list(db.session.scalars(select(Patient).order_by(Patient.id)))
    came = set(db.session.scalars(select(Dose.patient_id).where(Dose.service_date == TODAY)))
    flagged = [i for i, p in enumerate(patients) if p.id in came and bottles_out(p.id, TODAY)]
    assert db.session.scalars(select(BottleReturn)).first() is not None
    assert flagged == [FORGETFUL_PATIENT]
    waiting = [i for i, p in enumerate(patients) if p.id not in came and bottles_out(p.id, TODAY)]
    assert waiting, "take-home patients who have not come yet today still owe the weekend's"


@pytest.mark.slow
@pytest.mark.parametrize("later", range(7))
def test_the_demo_seeds_on_every_day_of_the_week(app, clock, later) -> None:
    """`make run` seeds whatever day it is: on a Saturday the first methadone lot was drawn
    down to 1 mL, and yesterday's count, 3 mL short on it, refused to seed (a negative count)."""
    from datetime import timedelta

    from mat.stock.records import StockCount

    clock.set(TODAY + timedelta(days=later), time(13, 41))
    seed_demo_clinic()
    db.session.commit()
    count = db.session.scalars(select(StockCount)).one()
    assert count.status == "open", "the window's count shows its 3 mL variance"
