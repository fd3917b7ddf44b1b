"""What a dose takes from stock, and what a correction gives back: the dosing window's two calls
into ``mat.stock``.

``draw_for_dose`` runs inside the dose's transaction, after the patient lock and the dosing
rules, right before the dose row is inserted: it names the station and the lot on the dose and
takes the quantity out of that lot in one guarded UPDATE: two statements per dose (the
station's lots of the product and the UPDATE; for a product with no stock at the station, that
SELECT and one for the station's id and whether the product is tracked at all). A refusal
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

from sqlalchemy import exists, select

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


def _lots_at(station_code: str, medication_id: int) -> tuple[int | None, list[LotStock]]:
    """(station id, the product's lots holding stock there); the id is None when no lot does."""
    rows = db.session.execute(
        select(Station.id, Lot.id, Lot.lot_number, Lot.expires_on, StockBalance.on_hand)
        .join(StockBalance, StockBalance.station_id == Station.id)
        .join(Lot, Lot.id == StockBalance.lot_id)
        .where(
            Station.code == station_code,
            Lot.medication_id == medication_id,
            StockBalance.on_hand > 0,
        )
    ).all()
    lots = [LotStock(lot, number, expires, ledger.exact(q)) for _, lot, number, expires, q in rows]
    return (rows[0][0] if rows else None), lots


def _station_and_tracking(station_code: str, medication_id: int) -> tuple[int, bool]:
    """The station's id (422 if unknown) and whether the product's stock is tracked."""
    station_id, tracked = db.session.execute(
        select(
            select(Station.id).where(Station.code == station_code).scalar_subquery(),
            exists().where(Lot.medication_id == medication_id),
        )
    ).one()
    if station_id is None:
        raise InvalidInput(
            f"There is no station {station_code!r}.",
            fields={"station": [f"Unknown station {station_code!r}; see /api/v1/stock/stations."]},
        )
    return station_id, bool(tracked)


def draw_for_dose(
    dose: Dose, medication: Medication, station_code: str, today: date, profile: Profile
) -> None:
    """Name the station and lot on ``dose`` (not yet inserted) and take its quantity."""
    product = medication.as_product()
    quantity = quantity_of(product, dose.amount_mg)
    for _ in range(DRAW_TRIES):
        station_id, lots = _lots_at(station_code, medication.id)
        if station_id is None:
            station_id, tracked = _station_and_tracking(station_code, medication.id)
            if not tracked:
                dose.station_id = station_id
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
        if ledger.take(station_id, chosen.lot_id, quantity):
            dose.station_id, dose.lot_id = station_id, chosen.lot_id
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
    station_id, lots = _lots_at(station_code, medication.id)
    if station_id is None:
        _, tracked = _station_and_tracking(station_code, medication.id)
        if not tracked:
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
