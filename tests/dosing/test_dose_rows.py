"""The dose row's own insert (``mat.dosing.dose_rows.insert_dose``): a Core INSERT, not the
session's flush. The ``Dose`` it hands back must be what reading the row back would give, and a
slot another window stored first must still be a 409, never a server error."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect, select

from mat.audit.records import object_digests, row_digest
from mat.dosing.dose_rows import insert_dose
from mat.dosing.models import Dose
from mat.errors import Conflict
from mat.extensions import db
from mat.orders.models import Order
from mat.orders.schedule import PlannedDose
from tests.support.checks import count
from tests.support.statements import statements


def _give(app: Any, patient: Any, staff: dict[str, Any], clock: Any, **flags: Any) -> Dose:
    order = db.session.scalars(select(Order).where(Order.patient_id == patient.id)).one()
    planned = PlannedDose(clock.now.date(), "daily", Decimal(40), Decimal(4), "observed")
    profile = app.extensions["mat_profile"]
    return insert_dose(
        patient.id, order, planned, "observed", staff["nurse"], clock.now, [], profile, **flags
    )


def test_the_dose_is_as_read_back_and_reads_nothing_again(
    app, patient, staff, sign_order, clock
) -> None:
    sign_order(patient)
    with app.test_request_context():
        dose = _give(app, patient, staff, clock, late_entry_reason="paper record")
        state = inspect(dose)
        assert state.persistent and not state.modified and not state.expired_attributes
        with statements() as seen:
            stored = {column.name: getattr(dose, column.name) for column in Dose.__table__.c}
            assert dose.dispenser.id == staff["nurse"].id
            assert dose.medication.code == "METH-10MGML"
            assert dose.correction is None and dose.loss is None
        assert seen == []  # every column and these relationships were set, none loaded
        assert stored["late_entry_reason"] == "paper record"
        assert stored["closure_dose"] is False and stored["attempt"] == 1
        # The audit digest is taken from the object: it must be the stored row's.
        row = db.session.execute(select(Dose.__table__).where(Dose.id == dose.id)).one()
        digest = row_digest(Dose.__table__, row._mapping)
        assert object_digests([dose]) == {f"doses/{dose.id}": digest}
        db.session.commit()
    assert count(Dose) == 1


def test_a_slot_stored_first_by_another_window_is_a_409(
    app, patient, staff, sign_order, clock
) -> None:
    sign_order(patient)
    with app.test_request_context():
        _give(app, patient, staff, clock)
        db.session.commit()
        with pytest.raises(Conflict) as refused:
            _give(app, patient, staff, clock)  # the same slot and attempt: the unique key
        assert refused.value.code == "already_dosed"
        db.session.rollback()
    assert count(Dose) == 1
