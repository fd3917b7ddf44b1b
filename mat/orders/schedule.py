"""An order's stored schedule and the doses it plans for each date: pure, dates are arguments.

The one stored representation of every order, whatever the prescriber typed (a single dose,
explicit steps, a titration or a taper), is a list of ``Step(start, dose_mg)`` meaning "from this
date on, this total daily dose", plus the order's effective end date (``None``: open-ended).
``planned_doses`` turns it into one ``PlannedDose`` per date and slot.

Amounts are ``Decimal`` mg. An amount the product cannot measure is refused with
``ScheduleError("dose_not_measurable", ...)``, never rounded. The one exception is a generated
taper: the prescriber asked for a percentage, which rarely lands on a measurable amount, so each
generated taper dose is rounded to the nearest amount the product measures (``taper_steps``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from mat.formulary.catalog import Product

Mode = Literal["observed", "take_home"]
Split = Sequence[tuple[str, Decimal]]  # (slot, fraction of the day's dose)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index is date.weekday()
DAILY: tuple[tuple[str, Decimal], ...] = (("daily", Decimal(1)),)
ONE_DAY = timedelta(days=1)


class ScheduleError(ValueError):
    """A schedule that cannot be dispensed as written; ``rule`` is a clinical-rules.md id."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True, slots=True)
class Step:
    """From ``start`` on (until the next step or the order's end) the total daily dose."""

    start: date
    dose_mg: Decimal


@dataclass(frozen=True, slots=True)
class TakeHome:
    """The days an order lets the patient take doses home: weekdays, dates, or both; and
    ``split_slots``, later parts of a split dose taken home every day, handed out in the visit
    the earlier part is observed (``split_take_home`` in clinical-rules.md)."""

    weekdays: frozenset[str] = frozenset()
    dates: frozenset[date] = frozenset()
    split_slots: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weekdays) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a weekday; use mon, tue, ... sun.")

    def authorizes(self, day: date) -> bool:
        """Whether ``day`` is a take-home day: every dose of it may be taken home."""
        return WEEKDAYS[day.weekday()] in self.weekdays or day in self.dates


@dataclass(frozen=True, slots=True)
class PlannedDose:
    date: date
    slot: str
    dose_mg: Decimal
    volume_ml: Decimal | None  # liquids only, exact to 0.1 mL
    mode: Mode


def mg_text(amount: Decimal) -> str:
    """``Decimal("50.0")`` -> ``"50 mg"``: how amounts read in messages."""
    return f"{amount.normalize():f} mg"


def measure_text(product: Product) -> str:
    """How the product measures, for refusals: 'measures in steps of 1 mg (0.1 mL)'."""
    if product.is_liquid:
        return f"measures in steps of {mg_text(product.smallest_step_mg)} (0.1 mL)"
    if product.scored:
        return f"is given in half {product.unit}s of {mg_text(product.smallest_step_mg)}"
    return f"is given in whole {product.unit}s of {mg_text(product.strength_mg)}"


def nearest_measurable(amount: Decimal, product: Product) -> Decimal:
    """``amount`` rounded half up to the product's smallest step (used by tapers only)."""
    unit = product.smallest_step_mg
    return tidy((amount / unit).quantize(Decimal(1), rounding=ROUND_HALF_UP) * unit)


def tidy(amount: Decimal) -> Decimal:
    """72.0 -> 72, 2.50 -> 2.5: the same number, written the way a prescriber writes it (and
    never in exponent form, which ``normalize`` alone gives for 7.2E+1)."""
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1))
    return amount.normalize()


# ---- generation ---------------------------------------------------------------------------


def titration_steps(
    start: date,
    start_mg: Decimal,
    step_mg: Decimal,
    every_days: int,
    target_mg: Decimal,
    until: date | None = None,
) -> list[Step]:
    """Up by ``step_mg`` every ``every_days`` days from ``start_mg``; the last step is exactly
    ``target_mg`` (a smaller final rise), then the dose stays there. Steps after ``until`` (the
    order's end date) are not generated."""
    if step_mg <= 0 or every_days < 1:
        raise ValueError("A titration rises by more than 0 mg at least one day apart.")
    steps = [Step(start, start_mg)]
    dose, day = start_mg, start
    while dose < target_mg:
        day += timedelta(days=every_days)
        if until is not None and day > until:
            break
        dose = min(dose + step_mg, target_mg)
        steps.append(Step(day, dose))
    return steps


def taper_steps(
    start: date,
    start_mg: Decimal,
    step_percent: Decimal,
    every_days: int,
    end_mg: Decimal,
    product: Product,
    until: date | None = None,
) -> tuple[list[Step], date | None]:
    """Down by ``step_percent`` of the current dose every ``every_days`` days.

    Each new dose is rounded half up to the product's smallest measurable step (the prescriber
    asked for a percentage, so rounding here is what they asked for). When the percentage is less
    than one measurable step, the dose goes down by one step so the taper always progresses.
    The dose never goes below ``end_mg``: the last step is exactly ``end_mg``, or, when
    ``end_mg`` is 0, one smallest measurable step, after which the order ends once that step has
    run its ``every_days`` (the returned end date; ``None`` when the taper holds at ``end_mg``).
    """
    if not 0 < step_percent <= 100 or every_days < 1:
        raise ValueError("A taper lowers by more than 0 % and at most 100 %, a day apart or more.")
    unit = product.smallest_step_mg
    steps = [Step(start, start_mg)]
    dose, day = start_mg, start
    while dose > end_mg:
        day += timedelta(days=every_days)
        if until is not None and day > until:
            return steps, None
        lower = nearest_measurable(dose * (100 - step_percent) / 100, product)
        lower = min(lower, tidy(dose - unit))  # always progress by one measurable step or more
        if end_mg == 0 and lower < unit:
            if dose <= unit:  # the smallest step has run its days: the order ends
                return steps, day - ONE_DAY
            lower = tidy(unit)
        dose = max(lower, end_mg)
        steps.append(Step(day, dose))
    return steps, None


def normalized(steps: Iterable[Step], end: date | None) -> tuple[tuple[Step, ...], date | None]:
    """The canonical form: amounts tidied (60.00 -> 60), consecutive equal doses merged, and a
    trailing 0 mg step turned into the end of the order, so explicit steps and generated ones
    are the same schedule."""
    merged: list[Step] = []
    for step in steps:
        if not merged or merged[-1].dose_mg != step.dose_mg:
            merged.append(Step(step.start, tidy(step.dose_mg)))
    if len(merged) > 1 and merged[-1].dose_mg == 0 and merged[-2].dose_mg != 0:
        stop = merged.pop().start - ONE_DAY
        end = stop if end is None else min(end, stop)
    return tuple(merged), end


def dose_on(steps: Sequence[Step], end: date | None, day: date) -> Decimal | None:
    """The total daily dose the schedule plans on ``day``; ``None`` outside the order."""
    if not steps or day < steps[0].start or (end is not None and day > end):
        return None
    current = steps[0].dose_mg
    for step in steps:
        if step.start > day:
            break
        current = step.dose_mg
    return current


# ---- planned doses ------------------------------------------------------------------------


def split_amounts(dose_mg: Decimal, split: Split, product: Product) -> list[tuple[str, Decimal]]:
    """The day's dose cut into its slots; refuses fractions that do not add up to exactly 1 and
    parts the product cannot measure (both ``dose_not_measurable``)."""
    parts = tuple(split) or DAILY
    if len({slot for slot, _ in parts}) != len(parts) or any(f <= 0 for _, f in parts):
        raise ValueError("Each split slot appears once, with a fraction above 0.")
    total = sum((fraction for _, fraction in parts), Decimal(0))
    if total != 1:
        raise ScheduleError(
            "dose_not_measurable",
            f"The split fractions add up to {total.normalize():f}, not 1; "
            "the parts would not make the whole dose.",
        )
    if not product.is_measurable(dose_mg):
        raise ScheduleError(
            "dose_not_measurable",
            f"{mg_text(dose_mg)} cannot be measured with {product.name}, which "
            f"{measure_text(product)}.",
        )
    amounts = [(slot, tidy(dose_mg * fraction)) for slot, fraction in parts]
    for slot, amount in amounts:
        if not product.is_measurable(amount):
            raise ScheduleError(
                "dose_not_measurable",
                f"The {slot} part of {mg_text(dose_mg)} would be {mg_text(amount)}, which "
                f"{product.name} cannot measure (it {measure_text(product)}).",
            )
    return amounts


def planned_doses(
    steps: Sequence[Step],
    end: date | None,
    split: Split,
    take_home: TakeHome | None,
    product: Product,
    start: date,
    stop: date,
) -> list[PlannedDose]:
    """One ``PlannedDose`` per slot for each date in ``[start, stop]`` the order covers.

    Dates before the first step or after ``end`` and 0 mg days plan nothing. ``mode`` is
    ``take_home`` on the dates ``take_home`` authorizes and for its ``split_slots`` every day,
    else ``observed``. Planning a range is the same as planning its sub-ranges one after the
    other.
    """
    planned: list[PlannedDose] = []
    if not steps:
        return planned
    day = max(start, steps[0].start)
    last = stop if end is None else min(stop, end)
    by_dose: dict[Decimal, list[tuple[str, Decimal]]] = {}  # each step's split is worked out once
    i = 0
    while day <= last:
        while i + 1 < len(steps) and steps[i + 1].start <= day:
            i += 1
        dose = steps[i].dose_mg
        if dose:  # a 0 mg day dispenses nothing
            if dose not in by_dose:
                by_dose[dose] = split_amounts(dose, split, product)
            whole_day = take_home is not None and take_home.authorizes(day)
            split_slots = take_home.split_slots if take_home else frozenset()
            planned += [
                PlannedDose(
                    day,
                    slot,
                    amount,
                    product.volume_ml(amount),
                    "take_home" if whole_day or slot in split_slots else "observed",
                )
                for slot, amount in by_dose[dose]
            ]
        day += ONE_DAY
    return planned
