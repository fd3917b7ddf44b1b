"""DEA records of the stock: inventories (21 CFR 1304.11), Form 106 (theft or significant loss),
Form 41 (destruction), and the recall question "who received lot X?".

Readings of the rule book where it leaves room (also in the README):
- an **inventory** (initial, then biennial) counts every lot at every station, is signed by the
  one who takes it and a witness, and records the date and whether it was taken at the opening
  or the close of business. It is a record, not a correction: it does not change the ledger
  (the daily count does), and a difference from the ledger needs an explanation
  (``stock_reconciliation``). There is one initial inventory;
- a **Form 106** record (``stock_loss_report``) states what was found missing, when, and how;
  the quantity itself leaves the ledger through the count that finds it (a count adjusts the
  ledger to what is there), so it is never taken twice. It may name that count;
- a **Form 41** record destroys stock: its quantity leaves the ledger, and two witnesses besides
  the person recording it sign (the rule book's "two witnesses").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from mat.audit.service import hold_writer_lock, record
from mat.auth.models import User
from mat.dosing.models import Dose
from mat.errors import Conflict, InvalidInput, RuleViolation
from mat.extensions import db
from mat.patients.models import Patient
from mat.profiles import Profile
from mat.stock import ledger, witness
from mat.stock.models import Lot, StockBalance
from mat.stock.records import (
    Destruction,
    Inventory,
    InventoryLine,
    StockCount,
    TheftLossReport,
)
from mat.stock.rules import is_expired, quantity_of, quantity_text
from mat.stock.service import (
    checked_quantity,
    lot_by_number,
    medication_by_code,
    station_by_code,
)
from mat.violations import Violation, blocking

# An inventory is recorded the day it is taken or within this many days (from the signed sheet).
INVENTORY_RECORDED_WITHIN_DAYS = 7


def _refuse(found: list[Violation], what: str, code: str, witness_problem: str | None) -> None:
    if blocking(found):
        raise RuleViolation(
            f"{what}: " + " ".join(v.message for v in found),
            code=code,
            violations=found,
            fields={"witness": [witness_problem]} if witness_problem else None,
            **witness.refusal_work([witness_problem]),
        )


# ---- inventories ---------------------------------------------------------------------------


def record_inventory(data: dict[str, Any], by: User, now: datetime, profile: Profile) -> Inventory:
    today = now.date()
    taken_on = data["taken_on"]
    if not today - timedelta(days=INVENTORY_RECORDED_WITHIN_DAYS) <= taken_on <= today:
        raise InvalidInput(
            "An inventory is recorded the day it is taken or soon after.",
            fields={
                "taken_on": [f"Use a date from the last {INVENTORY_RECORDED_WITHIN_DAYS} days."]
            },
        )
    if data["kind"] == "initial" and db.session.scalar(
        select(Inventory.id).where(Inventory.kind == "initial")
    ):
        raise Conflict("The initial inventory is already recorded.", code="initial_exists")
    hold_writer_lock(db.session)
    stmt = select(StockBalance.station_id, StockBalance.lot_id, StockBalance.on_hand).order_by(
        StockBalance.id
    )  # locked in one order, like every writer of several balances
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    expected = {(s, lot): ledger.exact(q) for s, lot, q in db.session.execute(stmt)}
    lines = []
    for n, item in enumerate(data["counted"]):
        station = station_by_code(item["station"], f"counted[{n}].station")
        medication = medication_by_code(item["product"], f"counted[{n}].product")
        if item["quantity"] != 0:
            checked_quantity(medication, item["quantity"], f"counted[{n}].quantity")
        lot = lot_by_number(medication, item["lot"], f"counted[{n}].lot")
        key = (station.id, lot.id)
        lines.append(
            InventoryLine(
                station_id=station.id,
                lot_id=lot.id,
                expected=expected.get(key, Decimal(0)),
                counted=item["quantity"],
            )
        )
    listed = {(line.station_id, line.lot_id) for line in lines}
    missing = sorted(key for key, q in expected.items() if q != 0 and key not in listed)
    if missing:
        raise InvalidInput(
            "An inventory counts every lot at every station.",
            fields={"counted": [f"{len(missing)} lot(s) holding stock are not counted."]},
        )
    explanation = (data.get("explanation") or "").strip() or None
    found = []
    differ = [line for line in lines if line.counted != line.expected]
    if differ and not explanation:
        found.append(
            Violation(
                "stock_reconciliation",
                profile.severity("stock_reconciliation"),
                f"{len(differ)} lot(s) differ from the stock record: explain the difference.",
            )
        )
    signer, problem = witness.confirm(data.get("witness"), not_=[by], now=now)
    if problem:
        found.append(
            Violation("stock_reconciliation", profile.severity("stock_reconciliation"), problem)
        )
    _refuse(found, "The inventory was not recorded", "stock_reconciliation", problem)
    assert signer is not None
    inventory = Inventory(
        kind=data["kind"],
        taken_on=taken_on,
        taken_at=data["taken_at"],
        explanation=explanation,
        by_id=by.id,
        witness_id=signer.id,
        at=now,
        lines=lines,
    )
    db.session.add(inventory)
    db.session.flush()
    record(
        "stock.inventory",
        entity_type="inventory",
        entity_id=inventory.id,
        records=[inventory, *lines],
        detail={
            "kind": inventory.kind,
            "taken_on": taken_on.isoformat(),
            "taken_at": inventory.taken_at,
            "lines": len(lines),
            "differ": len(differ),
            "witness": signer.username,
        },
    )
    return inventory


def inventories() -> list[Inventory]:
    return list(
        db.session.scalars(
            select(Inventory).order_by(Inventory.taken_on.desc(), Inventory.id.desc())
        )
    )


# ---- Form 106 ------------------------------------------------------------------------------


def record_theft_loss(data: dict[str, Any], by: User, now: datetime) -> TheftLossReport:
    station = station_by_code(data.get("station"))
    medication = medication_by_code(data["product"])
    checked_quantity(medication, data["quantity"])
    lot = lot_by_number(medication, data["lot"])
    if data["found_on"] > now.date():
        raise InvalidInput("A loss is found today or earlier.", fields={"found_on": ["Not later."]})
    count_id = data.get("count_id")
    if count_id is not None:
        count = db.session.get(StockCount, count_id)
        if count is None or count.station_id != station.id:
            raise InvalidInput(
                "The count named is not a count of this station.",
                fields={"count_id": [f"No count {count_id} of {station.code}."]},
            )
    report = TheftLossReport(
        station_id=station.id,
        lot_id=lot.id,
        kind=data["kind"],
        quantity=data["quantity"],
        found_on=data["found_on"],
        circumstances=data["circumstances"],
        count_id=count_id,
        by_id=by.id,
        at=now,
    )
    db.session.add(report)
    db.session.flush()
    record(
        "stock.form_106",
        entity_type="theft_loss_report",
        entity_id=report.id,
        records=[report],
        rules=["stock_loss_report"],
        detail={
            "station": station.code,
            "product": medication.code,
            "lot": lot.lot_number,
            "kind": report.kind,
            "quantity": str(report.quantity),
            "found_on": report.found_on.isoformat(),
        },
    )
    return report


def theft_loss_reports() -> list[TheftLossReport]:
    return list(db.session.scalars(select(TheftLossReport).order_by(TheftLossReport.id.desc())))


# ---- Form 41 -------------------------------------------------------------------------------


def record_destruction(
    data: dict[str, Any], by: User, now: datetime, profile: Profile
) -> Destruction:
    station = station_by_code(data.get("station"))
    medication = medication_by_code(data["product"])
    checked_quantity(medication, data["quantity"])
    lot = lot_by_number(medication, data["lot"])
    # Two signatures are what makes the record (Form 41): a missing one refuses the form like a
    # missing field, whatever the severity of stock_loss_report (a warning) in the profile.
    problems: list[str] = []
    signers: list[User] = []
    given = list(data.get("witnesses") or [])
    if len(given) != 2:
        problems.append("A destruction (Form 41) is witnessed by two people.")
    for credentials in given[:2]:
        signer, problem = witness.confirm(credentials, not_=[by, *signers], now=now)
        if problem:
            problems.append(problem)
        else:
            assert signer is not None
            signers.append(signer)
    if problems:
        raise InvalidInput(
            "The destruction was not recorded: " + " ".join(problems),
            code="witnesses_required",
            fields={"witnesses": problems},
            **witness.refusal_work(problems),
        )
    quantity: Decimal = data["quantity"]
    if not ledger.take(station.id, lot.id, quantity):
        product = medication.as_product()
        message = (
            f"{station.code} holds {quantity_text(product, ledger.on_hand(station.id, lot.id))} "
            f"of lot {lot.lot_number}: {quantity_text(product, quantity)} cannot be destroyed."
        )
        violation = Violation("stock_insufficient", profile.severity("stock_insufficient"), message)
        raise RuleViolation(message, code="stock_insufficient", violations=[violation])
    destruction = Destruction(
        station_id=station.id,
        lot_id=lot.id,
        quantity=quantity,
        method=data["method"],
        reason=data["reason"],
        by_id=by.id,
        witness1_id=signers[0].id,
        witness2_id=signers[1].id,
        at=now,
    )
    db.session.add(destruction)
    db.session.flush()
    ledger.move(
        "destruction", station.id, lot.id, -quantity, by, now, destruction_id=destruction.id
    )
    db.session.flush()
    record(
        "stock.form_41",
        entity_type="stock_destruction",
        entity_id=destruction.id,
        records=[destruction],
        rules=["stock_loss_report"],
        detail={
            "station": station.code,
            "product": medication.code,
            "lot": lot.lot_number,
            "quantity": str(quantity),
            "witnesses": [s.username for s in signers],
        },
    )
    return destruction


def destructions() -> list[Destruction]:
    return list(db.session.scalars(select(Destruction).order_by(Destruction.id.desc())))


# ---- recall --------------------------------------------------------------------------------


def recall(product: str, lot_number: str, today: date) -> dict[str, Any]:
    """Every dose drawn from the lot, with its patient (a read of each patient's record: one
    audit event naming them), and where the lot's stock is now."""
    medication = medication_by_code(product)
    lot: Lot = lot_by_number(medication, lot_number)
    rows = db.session.execute(
        select(Dose, Patient)
        .join(Patient, Patient.id == Dose.patient_id)
        .where(Dose.lot_id == lot.id)
        .order_by(Dose.dispensed_at, Dose.id)
    ).all()
    recipients = [
        {
            "dose_id": dose.id,
            "patient_id": patient.id,
            "mrn": patient.mrn,
            "patient_name": patient.display_name,
            "date": dose.service_date,
            "dispensed_at": dose.dispensed_at,
            "mode": dose.mode,
            "amount_mg": dose.amount_mg,
            "quantity": quantity_of(medication.as_product(), dose.amount_mg),
            "station": dose.station.code if dose.station else None,
            "status": "given" if dose.correction is None else f"{dose.correction.kind}ed",
        }
        for dose, patient in rows
    ]
    on_hand = [
        {
            "station": station.code,
            "product": medication.code,
            "lot": lot.lot_number,
            "expires_on": lot.expires_on,
            "on_hand": q,
            "unit": medication.as_product().unit,
            "expired": is_expired(lot.expires_on, today),
        }
        for station, held, q in ledger.balances()
        if held.id == lot.id
    ]
    record(
        "stock.recall",
        entity_type="lot",
        entity_id=lot.id,
        detail={
            "product": medication.code,
            "lot": lot.lot_number,
            "patients": sorted({r["patient_id"] for r in recipients}),
        },
    )
    return {
        "product": medication.code,
        "lot": lot.lot_number,
        "expires_on": lot.expires_on,
        "on_hand": on_hand,
        "recipients": recipients,
    }
