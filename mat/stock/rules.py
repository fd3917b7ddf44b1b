"""The stock rules of clinical-rules.md ("Controlled-substance stock"): pure, all reasons at once.

No Flask, no database: lots, quantities, ``today`` and the profile are arguments.

Readings of the rule book where it leaves room (also in the README, "Controlled-substance stock"):
- **Quantities** are mL for liquids (measured to 0.1 mL) and units for solids (whole units, half
  units of a scored tablet): a dose's quantity is its ``volume_ml`` or ``amount_mg / strength``.
- **Which lot** (``stock_expired``, ``stock_insufficient``): a dose comes from one container,
  never two, so it is drawn from the station's lot that expires first *among the lots that hold
  the whole dose and have not expired*. A lot expires at the end of its expiry date: usable on
  that date, refused from the next day. When no lot qualifies, ``stock_expired`` fires if
  expired stock is what is left at the station (it must be destroyed, Form 41), and
  ``stock_insufficient`` if no unexpired lot holds the dose; with only expired lots left, only
  ``stock_expired`` fires.
- **Receipts** (``stock_receipt``): a lot already past its expiry date on the day it arrives is
  refused, and so is a lot number the clinic already holds for the product with another expiry
  date (a typo on one of the two receipts).
- **Tolerance of a count** (``stock_reconciliation``): a liquid line may differ by the larger
  of 0.5 % of the volume drawn from that lot at that station on the counted day and 1 mL (the
  profile's ``stock_tolerance_liquid_percent`` and ``..._min_ml``); a solid line by
  ``stock_tolerance_solid_units`` (0: any unit is a variance). The tolerance is per lot, the
  unit the count is taken in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from mat.formulary.catalog import LIQUID_STEP_ML, Product
from mat.profiles import Profile
from mat.violations import Violation

DEFAULT_STATION = "window-1"


@dataclass(frozen=True, slots=True)
class LotStock:
    """A lot's stock at one station, as a dose or a count sees it."""

    lot_id: int
    lot_number: str
    expires_on: date
    on_hand: Decimal


def is_expired(expires_on: date, today: date) -> bool:
    """Past its expiry date: a lot expiring today is still usable today."""
    return today > expires_on


def quantity_of(product: Product, amount_mg: Decimal) -> Decimal:
    """What a dose of ``amount_mg`` takes from stock: mL of a liquid, units of a solid."""
    if product.is_liquid:
        return (amount_mg / product.strength_mg).quantize(LIQUID_STEP_ML)
    return amount_mg / product.strength_mg


def units_of(product: Product, amount_mg: Decimal) -> Decimal | None:
    """The number of tablets or films of a dose (``None`` for a liquid)."""
    return None if product.is_liquid else quantity_of(product, amount_mg)


def number_text(value: Decimal) -> str:
    """``Decimal("2.000")`` -> ``"2"``, ``Decimal("0.50")`` -> ``"0.5"``."""
    return f"{value.normalize():f}"


def quantity_text(product: Product, quantity: Decimal) -> str:
    """``"4 mL"``, ``"1 film"``, ``"8 films"``, ``"0.5 tablet"``."""
    amount = number_text(quantity)
    if product.is_liquid:
        return f"{amount} mL"
    plural = "" if 0 < quantity <= 1 else "s"
    return f"{amount} {product.unit}{plural}"


def is_measurable_quantity(product: Product, quantity: Decimal) -> bool:
    """A stock quantity the product can hold: 0.1 mL steps, whole (or scored half) units."""
    if quantity <= 0:
        return False
    step = LIQUID_STEP_ML if product.is_liquid else Decimal("0.5" if product.scored else 1)
    return quantity % step == 0


# ---- a dose's lot (stock_expired, stock_insufficient) ------------------------------------


def choose_lot(
    lots: Sequence[LotStock],
    quantity: Decimal,
    today: date,
    *,
    product: Product,
    station: str,
    profile: Profile,
) -> tuple[LotStock | None, list[Violation]]:
    """The lot a dose of ``quantity`` is drawn from, or every reason none may be.

    ``lots`` are the product's lots holding stock at the station.
    """
    usable = [
        lot for lot in lots if not is_expired(lot.expires_on, today) and lot.on_hand >= quantity
    ]
    if usable:
        return min(usable, key=lambda lot: (lot.expires_on, lot.lot_id)), []
    expired = sorted(
        (lot for lot in lots if is_expired(lot.expires_on, today) and lot.on_hand > 0),
        key=lambda lot: (lot.expires_on, lot.lot_id),
    )
    fresh = [lot for lot in lots if not is_expired(lot.expires_on, today) and lot.on_hand > 0]
    found: list[Violation] = []
    wanted = quantity_text(product, quantity)
    if expired:
        names = ", ".join(
            f"{lot.lot_number} (expired {lot.expires_on.isoformat()}, "
            f"{quantity_text(product, lot.on_hand)})"
            for lot in expired
        )
        found.append(
            Violation(
                "stock_expired",
                profile.severity("stock_expired"),
                f"Only expired stock of {product.code} is left at {station} to draw {wanted} "
                f"from: {names}. Expired stock is never dispensed; record its destruction "
                "(Form 41)."
                if not fresh
                else f"Expired lots of {product.code} at {station} are not dispensed: {names}.",
            )
        )
    if fresh or not expired:
        held = ", ".join(
            f"{lot.lot_number} holds {quantity_text(product, lot.on_hand)}" for lot in fresh
        )
        found.append(
            Violation(
                "stock_insufficient",
                profile.severity("stock_insufficient"),
                f"No lot of {product.code} at {station} holds {wanted}"
                + (f" ({held})" if held else ": there is no stock of it here")
                + "; a dose is never drawn from two containers. Receive or transfer stock.",
            )
        )
    return None, found


# ---- receipts (stock_receipt) --------------------------------------------------------------


def receipt_violations(
    *,
    product: Product,
    lot_number: str,
    expires_on: date,
    received_on: date,
    known_expiry: date | None,
    profile: Profile,
) -> list[Violation]:
    """What refuses a receipt besides its witness: an expired lot, a lot number already held
    for this product with another expiry date."""
    severity = profile.severity("stock_receipt")
    found = []
    if is_expired(expires_on, received_on):
        found.append(
            Violation(
                "stock_receipt",
                severity,
                f"Lot {lot_number} expired on {expires_on.isoformat()}: expired stock is not "
                "received into dispensing stock.",
            )
        )
    if known_expiry is not None and known_expiry != expires_on:
        found.append(
            Violation(
                "stock_receipt",
                severity,
                f"Lot {lot_number} of {product.code} is on record with expiry "
                f"{known_expiry.isoformat()}, not {expires_on.isoformat()}: check the label.",
            )
        )
    return found


# ---- counts (stock_reconciliation) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountedLot:
    """One line of a count as the rule sees it."""

    lot_id: int
    lot_number: str
    product: Product
    expected: Decimal
    counted: Decimal
    drawn_today: Decimal  # the quantity drawn from the lot at the station on the counted day


@dataclass(frozen=True, slots=True)
class CountResult:
    line: CountedLot
    variance: Decimal  # counted - expected: negative is stock missing
    tolerance: Decimal
    beyond_tolerance: bool


def tolerance(product: Product, drawn_today: Decimal, profile: Profile) -> Decimal:
    """How far a line may be off before it is a variance (see the module notes)."""
    if not product.is_liquid:
        return profile.stock_tolerance_solid_units
    share = drawn_today * profile.stock_tolerance_liquid_percent / 100
    return max(share, profile.stock_tolerance_liquid_min_ml).quantize(Decimal("0.001"))


def judge_count(
    lines: Sequence[CountedLot], explanation: str | None, station: str, profile: Profile
) -> tuple[list[CountResult], list[Violation]]:
    """Each line's variance and whether it is past tolerance; ``stock_reconciliation`` for each
    such line when the count carries no explanation."""
    results = []
    for line in lines:
        variance = line.counted - line.expected
        allowed = tolerance(line.product, line.drawn_today, profile)
        results.append(CountResult(line, variance, allowed, abs(variance) > allowed))
    found = []
    if not (explanation or "").strip():
        for result in results:
            if result.beyond_tolerance:
                product, line = result.line.product, result.line
                found.append(
                    Violation(
                        "stock_reconciliation",
                        profile.severity("stock_reconciliation"),
                        f"{product.code} lot {line.lot_number} at {station}: expected "
                        f"{quantity_text(product, line.expected)}, counted "
                        f"{quantity_text(product, line.counted)}; a variance past the "
                        f"tolerance ({quantity_text(product, result.tolerance)}) needs an "
                        "explanation.",
                    )
                )
    return results, found


def loss_warnings(
    results: Sequence[CountResult], station: str, profile: Profile
) -> list[Violation]:
    """``stock_loss_report`` (warn): stock missing past tolerance may be a theft or significant
    loss, which DEA asks to report on Form 106."""
    missing = [r for r in results if r.beyond_tolerance and r.variance < 0]
    if not missing:
        return []
    lots = ", ".join(
        f"{r.line.product.code} lot {r.line.lot_number} "
        f"({quantity_text(r.line.product, -r.variance)} missing)"
        for r in missing
    )
    return [
        Violation(
            "stock_loss_report",
            profile.severity("stock_loss_report"),
            f"Stock is missing at {station}: {lots}. If it is a theft or a significant loss, "
            "record a DEA Form 106.",
        )
    ]
