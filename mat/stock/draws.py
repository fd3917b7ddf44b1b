"""What a dose takes from stock, and what a correction gives back: the dosing window's two calls
into ``mat.stock``.

``draw_for_dose`` runs inside the dose's transaction, after the patient lock and the dosing
rules, right before the dose row is inserted: it names the station and the lot on the dose and
takes the quantity out of that lot in one guarded UPDATE: two statements per dose (one SELECT
for the station, whether the product is tracked at all and its lots holding stock there; then
the UPDATE, for a tracked product only). A refusal
(``stock_expired``, ``stock_insufficient``) rolls the whole request back, take-homes included
(all or nothing).

Stock tracking of a product starts with its first receipt (api-contract.md): until then a dose
of it names its station but no lot and takes nothing.

Corrections (clinical-rules.md "Corrections"; README "Controlled-substance stock"):
- a **void** says the record was an error, so the quantity goes back to the lot it came from
  (a ``return`` movement). Liquid that was poured but not given cannot go back into a stock
  bottle: that is a spill, not a void. A take-home is voided only the day it was handed out and
  only with its bottles back in the dispensary; bottles that left with the patient are a loss
  report, never a void;
- a **spill** says the dose was dispensed and lost: the quantity stays out of stock, written off
  (the stock report shows it as spilled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, select

from mat.auth.models import User
from mat.dosing.models import Dose, DoseCorrection
from mat.errors import InvalidInput, RuleViolation
from mat.extensions import db
from mat.formulary.models import Medication
from mat.profiles import Profile
from mat.stock import ledger
from mat.stock.models import Lot, Station, StockBalance
from mat.stock.rules import LotStock, choose_lot, quantity_of
from mat.violations import Violation

# A guarded UPDATE that finds the lot emptied by another window meanwhile looks again, this many
# times (another lot may still hold the dose); then the dose is refused.
DRAW_TRIES = 3


def _stock_at(station_code: str, medication_id: int) -> tuple[Station, bool, list[LotStock]]:
    """The station (422 if unknown), whether the product's stock is tracked at all, and the
    product's lots holding stock at the station: one statement."""
    rows = db.session.execute(
        _stock_statement(), {"station_code": station_code, "medication_id": medication_id}
    ).all()
    if not rows:
        raise InvalidInput(
            f"There is no station {station_code!r}.",
            fields={"station": [f"Unknown station {station_code!r}; see /api/v1/stock/stations."]},
        )
    lots = [
        LotStock(lot, number, expires, ledger.exact(q))
        for _, _, lot, number, expires, q in rows
        if lot is not None
    ]
    return rows[0][0], bool(rows[0][1]), lots


@cache
def _stock_statement() -> Select[Any]:
    """Built once per process with bound parameters (``station_code``, ``medication_id``):
    building it and its cache key was about 0.2 ms of every recorded dose's CPU."""
    medication_id = bindparam("medication_id", type_=Lot.medication_id.type)
    tracked = exists().where(Lot.medication_id == medication_id)
    return (
        select(Station, tracked, Lot.id, Lot.lot_number, Lot.expires_on, StockBalance.on_hand)
        .select_from(Station)
        .outerjoin(
            StockBalance,
            and_(
                StockBalance.station_id == Station.id,
                StockBalance.on_hand > 0,
                StockBalance.lot_id.in_(select(Lot.id).where(Lot.medication_id == medication_id)),
            ),
        )
        .outerjoin(Lot, Lot.id == StockBalance.lot_id)
        .where(Station.code == bindparam("station_code", type_=Station.code.type))
    )


def draw_for_dose(
    dose: Dose, medication: Medication, station_code: str, today: date, profile: Profile
) -> None:
    """Name the station and lot on ``dose`` (not yet inserted) and take its quantity."""
    product = medication.as_product()
    quantity = quantity_of(product, dose.amount_mg)
    for _ in range(DRAW_TRIES):
        station, tracked, lots = _stock_at(station_code, medication.id)
        if not lots and not tracked:
            dose.station = station
            return
        chosen, found = choose_lot(
            lots, quantity, today, product=product, station=station_code, profile=profile
        )
        if chosen is None:
            raise RuleViolation(
                "The dose was not recorded: " + " ".join(v.message for v in found),
                code="dose_blocked",
                violations=found,
            )
        if ledger.take(station.id, chosen.lot_id, quantity):
            dose.station, dose.lot_id = station, chosen.lot_id
            return
    # Three windows emptied the lots chosen in turn: say so rather than guess.
    raise RuleViolation(
        "The stock changed while the dose was recorded; try again.", code="dose_blocked"
    )


@dataclass(frozen=True)
class DrawPreview:
    """What a dose would meet at the station: whether the product is tracked, the lot it would
    be drawn from, or the rules that would refuse it."""

    tracked: bool
    lot: LotStock | None
    problems: list[Violation]


def preview_draw(
    medication: Medication, amount_mg: Decimal, station_code: str, today: date, profile: Profile
) -> DrawPreview:
    """For the window, before the nurse presses Give (the draw itself judges again)."""
    product = medication.as_product()
    _, tracked, lots = _stock_at(station_code, medication.id)
    if not lots and not tracked:
        return DrawPreview(False, None, [])
    chosen, found = choose_lot(
        lots, quantity_of(product, amount_mg), today, product=product, station=station_code,
        profile=profile,
    )  # fmt: skip
    return DrawPreview(True, chosen, found)


def return_for_correction(dose: Dose, correction: DoseCorrection, by: User, at: datetime) -> None:
    """A void puts the dose's quantity back into its lot; a spill leaves it written off."""
    if correction.kind != "void" or dose.lot_id is None or dose.station_id is None:
        return
    quantity = quantity_of(dose.medication.as_product(), dose.amount_mg)
    ledger.add(dose.station_id, dose.lot_id, quantity)
    ledger.move("return", dose.station_id, dose.lot_id, quantity, by, at, dose_id=dose.id)
    db.session.flush()
