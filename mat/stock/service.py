"""Stations, receipts and transfers: how stock enters the clinic and moves inside it.

Stock enters only by a receipt (clinical-rules.md, ``stock_receipt``), received by one user and
witnessed by another; a transfer moves part of a lot from one station to another, also signed
by two people (two-person custody of a move is the program's choice; the rule book names none).
Services flush and never commit; every write is an audit event in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mat.audit.service import record
from mat.auth.models import User
from mat.errors import Conflict, InvalidInput, RuleViolation
from mat.extensions import db
from mat.formulary.models import Medication
from mat.profiles import Profile
from mat.stock import ledger, witness
from mat.stock.models import Lot, Station, StockReceipt, StockTransfer
from mat.stock.rules import (
    DEFAULT_STATION,
    is_measurable_quantity,
    quantity_text,
    receipt_violations,
)
from mat.violations import Violation, blocking, rule_ids

# ---- looking things up ---------------------------------------------------------------------


def station_by_code(code: str | None, field: str = "station") -> Station:
    code = code or DEFAULT_STATION
    station = db.session.scalar(select(Station).where(Station.code == code))
    if station is None:
        raise InvalidInput(
            f"There is no station {code!r}.",
            fields={field: [f"Unknown station {code!r}; see /api/v1/stock/stations."]},
        )
    return station


def all_stations() -> list[Station]:
    return list(db.session.scalars(select(Station).order_by(Station.code)))


def medication_by_code(code: str, field: str = "product") -> Medication:
    medication = db.session.scalar(select(Medication).where(Medication.code == code))
    if medication is None:
        raise InvalidInput(
            f"{code} is not in the formulary.",
            fields={field: [f"Unknown code {code!r}; see /api/v1/medications."]},
        )
    return medication


def find_lot(medication_id: int, lot_number: str) -> Lot | None:
    return db.session.scalar(
        select(Lot).where(Lot.medication_id == medication_id, Lot.lot_number == lot_number)
    )


def lot_by_number(medication: Medication, lot_number: str, field: str = "lot") -> Lot:
    lot = find_lot(medication.id, lot_number)
    if lot is None:
        raise InvalidInput(
            f"No lot {lot_number} of {medication.code} was ever received.",
            fields={field: [f"Unknown lot {lot_number!r} of {medication.code}."]},
        )
    return lot


def checked_quantity(medication: Medication, quantity: Decimal, field: str = "quantity") -> None:
    product = medication.as_product()
    if not is_measurable_quantity(product, quantity):
        measure = "0.1 mL steps" if product.is_liquid else f"whole {product.unit}s"
        if product.scored:
            measure = f"whole or half {product.unit}s"
        raise InvalidInput(
            f"{quantity} is not a quantity of {medication.code}.",
            fields={field: [f"Give a positive quantity in {measure}."]},
        )


# ---- stations ------------------------------------------------------------------------------


def add_station(data: dict[str, Any], by: User, now: datetime) -> Station:
    if db.session.scalar(select(Station.id).where(Station.code == data["code"])) is not None:
        raise Conflict(f"There is already a station {data['code']}.", code="duplicate_station")
    station = Station(code=data["code"], name=data["name"], created_by_id=by.id, created_at=now)
    db.session.add(station)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"There is already a station {data['code']}.", code="duplicate_station"
        ) from exc
    record("stock.station", entity_type="station", entity_id=station.id, detail=dict(data))
    return station


# ---- receipts ------------------------------------------------------------------------------


def receive(data: dict[str, Any], by: User, now: datetime, profile: Profile) -> StockReceipt:
    """Receive a lot into a station's stock, signed by ``by`` and a witness."""
    station = station_by_code(data.get("station"))
    medication = medication_by_code(data["product"])
    checked_quantity(medication, data["quantity"])
    lot = find_lot(medication.id, data["lot"])
    found = receipt_violations(
        product=medication.as_product(),
        lot_number=data["lot"],
        expires_on=data["expires_on"],
        received_on=now.date(),
        known_expiry=lot.expires_on if lot else None,
        profile=profile,
    )
    signer, problem = witness.confirm(data.get("witness"), not_=[by], now=now)
    if problem:
        found.append(Violation("stock_receipt", profile.severity("stock_receipt"), problem))
    if blocking(found):
        raise RuleViolation(
            "The receipt was not recorded: " + " ".join(v.message for v in found),
            code="stock_receipt",
            violations=found,
            fields={"witness": [problem]} if problem else None,
            **witness.refusal_work([problem]),
        )
    assert signer is not None
    if lot is None:
        lot = _new_lot(medication, data["lot"], data["expires_on"], now)
    receipt = StockReceipt(
        station_id=station.id,
        lot_id=lot.id,
        quantity=data["quantity"],
        supplier=data["supplier"],
        order_form=data["order_form"],
        received_by_id=by.id,
        witness_id=signer.id,
        received_at=now,
    )
    db.session.add(receipt)
    db.session.flush()
    ledger.add(station.id, lot.id, data["quantity"])
    ledger.move("receipt", station.id, lot.id, data["quantity"], by, now, receipt_id=receipt.id)
    db.session.flush()
    record(
        "stock.receipt",
        entity_type="stock_receipt",
        entity_id=receipt.id,
        records=[receipt, lot],
        rules=rule_ids(found),
        detail={
            "station": station.code,
            "product": medication.code,
            "lot": lot.lot_number,
            "expires_on": lot.expires_on.isoformat(),
            "quantity": str(data["quantity"]),
            "supplier": data["supplier"],
            "order_form": data["order_form"],
            "witness": signer.username,
        },
    )
    return receipt


def _new_lot(medication: Medication, number: str, expires_on: Any, now: datetime) -> Lot:
    lot = Lot(medication_id=medication.id, lot_number=number, expires_on=expires_on, created_at=now)
    db.session.add(lot)
    try:
        db.session.flush()
    except IntegrityError as exc:  # the same new lot received at the same moment elsewhere
        raise Conflict(
            f"Lot {number} was recorded at the same moment by someone else; retry.",
            code="conflict",
        ) from exc
    return lot


# ---- transfers -----------------------------------------------------------------------------


def transfer(data: dict[str, Any], by: User, now: datetime, profile: Profile) -> StockTransfer:
    """Move part of a lot from one station to another."""
    source = station_by_code(data["from_station"], "from_station")
    target = station_by_code(data["to_station"], "to_station")
    if source.id == target.id:
        raise InvalidInput(
            "A transfer goes to another station.",
            fields={"to_station": ["Choose a station other than the one it leaves."]},
        )
    medication = medication_by_code(data["product"])
    checked_quantity(medication, data["quantity"])
    lot = lot_by_number(medication, data["lot"])
    signer, problem = witness.confirm(data.get("witness"), not_=[by], now=now)
    if problem:
        raise InvalidInput(
            "The transfer was not recorded: " + problem,
            code="witness_refused",
            fields={"witness": [problem]},
            **witness.refusal_work([problem]),
        )
    assert signer is not None
    quantity: Decimal = data["quantity"]
    # The two balances are changed in station order, as a twin transfer the other way would,
    # so two transfers of one lot wait for each other rather than deadlock (PostgreSQL).
    if target.id < source.id:
        ledger.add(target.id, lot.id, quantity)
    if not ledger.take(source.id, lot.id, quantity):
        held = quantity_text(medication.as_product(), ledger.on_hand(source.id, lot.id))
        message = (
            f"{source.code} holds {held} of lot {lot.lot_number}: "
            f"{quantity_text(medication.as_product(), quantity)} cannot leave it."
        )
        violation = Violation("stock_insufficient", profile.severity("stock_insufficient"), message)
        raise RuleViolation(message, code="stock_insufficient", violations=[violation])
    if target.id > source.id:
        ledger.add(target.id, lot.id, quantity)
    moved = StockTransfer(
        lot_id=lot.id,
        from_station_id=source.id,
        to_station_id=target.id,
        quantity=quantity,
        note=data.get("note"),
        by_id=by.id,
        witness_id=signer.id,
        at=now,
    )
    db.session.add(moved)
    db.session.flush()
    ledger.move("transfer_out", source.id, lot.id, -quantity, by, now, transfer_id=moved.id)
    ledger.move("transfer_in", target.id, lot.id, quantity, by, now, transfer_id=moved.id)
    db.session.flush()
    record(
        "stock.transfer",
        entity_type="stock_transfer",
        entity_id=moved.id,
        records=[moved],
        detail={
            "from": source.code,
            "to": target.code,
            "product": medication.code,
            "lot": lot.lot_number,
            "quantity": str(quantity),
            "witness": signer.username,
        },
    )
    return moved
