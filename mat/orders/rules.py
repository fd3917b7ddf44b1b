"""Order rules of docs/clinical-rules.md, checked when a prescriber previews or signs an order.

``order_violations`` answers every rule that fires at once, each with the severity the profile
gives it and a sentence that names the numbers. Pure: the patient's history and the profile are
arguments. ``prescriber_required`` is a role check and lives in the service, not here.

Readings of the rule book where it leaves room (each repeated next to its rule):
- first-day rules apply to treatment day 1 (``admitted_on``: the current episode of care's
  admission), to day 1 of the patient's last induction order, and to day 1 of this order when it
  is an induction; "(and day 2)" is the buprenorphine 16 mg day-2 limit, the methadone 50 mg cap
  is day 1 only;
- a change of dose (increase or taper step) must come at least N days after the dose it changes
  started: the dose is held N days before it moves again. The first step is compared with the
  patient's current dose, except in an induction, which restarts treatment;
- ``taper_step_max`` judges ``taper`` orders only (a maintenance order that lowers a dose for
  safety is not a taper), and a step counts as within 10 % when it is the measurable amount
  nearest to a 10 % step, or the product's smallest possible step;
- ``dose_jump`` and the ten-times part of ``dose_implausible`` compare the order's first dose with
  the current dose of the same substance; a switch of substance is not a jump. Neither judges an
  ``induction``: it restarts treatment and the first-day rules judge it (restarting at 40 mg
  after a taper to 4 mg is an induction, not a decimal error). The absolute ceiling still does.
The first-dose label and the dose after missed days are read in ``restart_rules.py``, an order's
take-home rules in ``take_home_plan.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from mat.formulary.catalog import Product
from mat.orders.restart_rules import first_dose_label_violations, not_reduced_violations
from mat.orders.schedule import ScheduleError, mg_text, nearest_measurable, split_amounts
from mat.orders.spec import OrderSpec, Schedule, draft_schedule, unmeasurable_doses
from mat.orders.take_home_plan import (
    TAKE_HOME_WINDOW_DAYS,
    ExceptionSpan,
    take_home_criteria_violations,
    take_home_plan_violations,
)
from mat.profiles import Profile
from mat.violations import Violation

__all__ = ["TAKE_HOME_WINDOW_DAYS", "ExceptionSpan", "PatientHistory", "order_violations"]

_SHOWN = 3  # repeated breaches of one rule: name this many, count the rest


@dataclass(frozen=True, slots=True)
class PatientHistory:
    """What the order rules need to know about the patient; the service builds it.

    ``current_dose_mg``: the total daily dose on the day before the new order starts (from the
    active order), ``None`` when there is none. ``current_dose_since``: the date that dose
    started. ``current_substance``: its substance (``None``: assume the order's own).
    ``last_induction_start``: start date of the patient's most recent induction order.
    ``missed_days``: consecutive missed days before the order's start (unordered gaps
    included); ``last_dose_*``: the last day the patient was dosed before it, its total and
    substance. ``take_home_exceptions``: the patient's approved SMA-168 exceptions.
    """

    admitted_on: date
    current_dose_mg: Decimal | None = None
    current_dose_since: date | None = None
    current_substance: str | None = None
    last_induction_start: date | None = None
    missed_days: int = 0
    last_dose_mg: Decimal | None = None
    last_dose_substance: str | None = None
    last_dose_on: date | None = None
    take_home_exceptions: tuple[ExceptionSpan, ...] = ()


@dataclass(frozen=True, slots=True)
class _Change:
    on: date
    before: Decimal
    after: Decimal
    before_since: date | None  # when the dose being changed started, if known


@dataclass(frozen=True, slots=True)
class _Order:
    spec: OrderSpec
    product: Product
    history: PatientHistory
    profile: Profile
    schedule: Schedule

    def violation(self, rule: str, message: str) -> Violation:
        return Violation(rule, self.profile.severity(rule), message)

    @property
    def current_dose(self) -> Decimal | None:
        """The current dose, when it is comparable with this order (same substance, above 0)."""
        h = self.history
        if h.current_dose_mg is None or h.current_dose_mg <= 0:
            return None
        if h.current_substance not in (None, self.product.substance):
            return None
        return h.current_dose_mg

    def changes(self) -> list[_Change]:
        """Every change of daily dose the order makes, the first one against the current dose."""
        found: list[_Change] = []
        before = None if self.spec.kind == "induction" else self.current_dose
        since = self.history.current_dose_since if before is not None else None
        for step in self.schedule.steps:
            if before is not None and step.dose_mg != before:
                found.append(_Change(step.start, before, step.dose_mg, since))
            if step.dose_mg != before:
                before, since = step.dose_mg, step.start
        return found


def order_violations(
    spec: OrderSpec, product: Product, history: PatientHistory, profile: Profile
) -> list[Violation]:
    """Every order rule that fires for ``spec``, in rule-book order; empty when none does."""
    order = _Order(spec, product, history, profile, draft_schedule(spec, product))
    found: list[Violation] = []
    for check in (
        _methadone_first_day_max,
        _methadone_first_dose_label,
        _methadone_increase_step,
        _methadone_high_dose,
        _buprenorphine_day1_max,
        _buprenorphine_high_dose,
        _taper_step_max,
        _dose_jump,
        _dose_implausible,
        _missed_doses_dose_not_reduced,
        _dose_not_measurable,
        _take_home_plan,
    ):
        found += check(order)
    return found


def _first_days(order: _Order) -> list[tuple[date, str]]:
    """Dates that are day 1 of something the first-day rules restart with, and what."""
    starts = [(order.history.admitted_on, "treatment")]
    if order.history.last_induction_start is not None:
        starts.append((order.history.last_induction_start, "the induction"))
    if order.spec.kind == "induction":
        starts.append((order.spec.start_date, "the induction"))
    unique: dict[date, str] = {}
    for day, what in starts:  # a date that is day 1 twice is judged once
        unique.setdefault(day, what)
    return list(unique.items())


def _methadone_first_day_max(order: _Order) -> list[Violation]:
    # The rule book's "(and day 2)" belongs to buprenorphine's 16 mg day-2 limit: methadone's
    # 50 mg cap is read as a day-1 cap, day 2 being governed by methadone_increase_step.
    if order.product.substance != "methadone":
        return []
    limit = order.profile.methadone_first_day_max_mg
    found = []
    for day, what in _first_days(order):
        total = order.schedule.dose_on(day)
        if total is not None and total > limit:
            found.append(
                order.violation(
                    "methadone_first_day_max",
                    f"Day 1 of {what} ({day}): total methadone would be {mg_text(total)}; "
                    f"the first-day limit is {mg_text(limit)}.",
                )
            )
    return found


def _methadone_first_dose_label(order: _Order) -> list[Violation]:
    if order.product.substance != "methadone":
        return []
    spec = order.spec
    return first_dose_label_violations(
        _first_days(order), order.schedule, spec.split, order.product, order.profile
    )


def _methadone_increase_step(order: _Order) -> list[Violation]:
    if order.product.substance != "methadone":
        return []
    most = order.profile.methadone_increase_step_max_mg
    apart = order.profile.methadone_increase_min_days_apart
    too_big, too_soon = [], []
    for change in order.changes():
        if change.after <= change.before:
            continue
        if change.after - change.before > most:
            too_big.append(f"{_from_to(change)} (+{mg_text(change.after - change.before)})")
        too_soon += _held_too_short(change, apart)
    rule = "methadone_increase_step"
    return [
        *_grouped(order, rule, "Increase", too_big, f"a single methadone increase is at most "
                  f"{mg_text(most)}."),
        *_grouped(order, rule, "Increase", too_soon, f"methadone increases are at least {apart} "
                  "days apart."),
    ]  # fmt: skip


def _methadone_high_dose(order: _Order) -> list[Violation]:
    if order.product.substance != "methadone":
        return []
    limit = order.profile.methadone_high_dose_mg
    return _high_dose(order, "methadone_high_dose", limit, "an ECG is recommended")


def _buprenorphine_high_dose(order: _Order) -> list[Violation]:
    if order.product.substance != "buprenorphine":
        return []
    limit = order.profile.buprenorphine_high_dose_mg
    return _high_dose(order, "buprenorphine_high_dose", limit, "confirm it is intended")


def _high_dose(order: _Order, rule: str, limit: Decimal, advice: str) -> list[Violation]:
    peak = max(order.schedule.steps, key=lambda s: s.dose_mg)
    if peak.dose_mg <= limit:
        return []
    return [
        order.violation(
            rule,
            f"{order.product.substance.capitalize()} would reach {mg_text(peak.dose_mg)}/day "
            f"from {peak.start}; above {mg_text(limit)}/day {advice}.",
        )
    ]


def _buprenorphine_day1_max(order: _Order) -> list[Violation]:
    if order.product.substance != "buprenorphine":
        return []
    limits = (order.profile.buprenorphine_day1_max_mg, order.profile.buprenorphine_day2_max_mg)
    found = []
    for first, what in _first_days(order):
        for n, limit in enumerate(limits, start=1):
            day = first + timedelta(days=n - 1)
            total = order.schedule.dose_on(day)
            if total is not None and total > limit:
                found.append(
                    order.violation(
                        "buprenorphine_day1_max",
                        f"Day {n} of {what} ({day}): total buprenorphine would be "
                        f"{mg_text(total)}; the day-{n} limit is {mg_text(limit)}.",
                    )
                )
    return found


def _taper_step_max(order: _Order) -> list[Violation]:
    # Taper orders only: a maintenance order that lowers a dose for safety is not a taper.
    if order.spec.kind != "taper":
        return []
    most = order.profile.taper_step_max_percent
    apart = order.profile.taper_step_min_days_apart
    too_big, too_soon = [], []
    for change in order.changes():
        if change.after >= change.before:
            continue
        percent = (change.before - change.after) * 100 / change.before
        if percent > most and not _nearest_allowed_step(change, most, order.product):
            too_big.append(f"{_from_to(change)} ({_percent(percent)} %)")
        too_soon += _held_too_short(change, apart)
    return [
        *_grouped(order, "taper_step_max", "Taper step", too_big, "a taper step lowers the dose "
                  f"by at most {most.normalize():f} % of the previous dose."),
        *_grouped(order, "taper_step_max", "Taper step", too_soon, f"taper steps are at least "
                  f"{apart} days apart."),
    ]  # fmt: skip


def _from_to(change: _Change) -> str:
    return f"on {change.on} from {mg_text(change.before)} to {mg_text(change.after)}"


def _held_too_short(change: _Change, apart: int) -> list[str]:
    """The change, described, when the dose it changes was held fewer than ``apart`` days."""
    if change.before_since is None or (held := (change.on - change.before_since).days) >= apart:
        return []
    return [
        f"on {change.on}, {held} day{'s' * (held != 1)} after {mg_text(change.before)} started "
        f"on {change.before_since}"
    ]


def _grouped(
    order: _Order, rule: str, what: str, breaches: list[str], limit: str
) -> list[Violation]:
    """One violation naming every breach of one limit (the first few, then a count)."""
    if not breaches:
        return []
    shown = ", ".join(breaches[:_SHOWN])
    more = f" and {len(breaches) - _SHOWN} more" if len(breaches) > _SHOWN else ""
    plural = "s" if len(breaches) > 1 else ""
    return [order.violation(rule, f"{what}{plural} {shown}{more}; {limit}")]


def _nearest_allowed_step(change: _Change, most: Decimal, product: Product) -> bool:
    """A step of more than ``most`` % still passes when it is what the product can measure
    closest to a ``most`` % step (59 -> 53 mg for 53.1 mg), or its smallest possible step
    (5 -> 4 mg with 1 mg steps): the same allowance the taper generator uses, so a generated
    taper never warns about its own rounding."""
    nearest = nearest_measurable(change.before * (100 - most) / 100, product)
    return change.after >= nearest or change.after == change.before - product.smallest_step_mg


def _dose_jump(order: _Order) -> list[Violation]:
    current = order.current_dose
    if order.spec.kind == "induction" or current is None:
        return []
    first, factor = order.schedule.first_dose_mg, order.profile.dose_jump_factor
    if first < factor * current:
        return []
    return [
        order.violation(
            "dose_jump",
            f"The first dose of {mg_text(first)} is {_times(first, current)} the current dose "
            f"of {mg_text(current)}; starting at {factor.normalize():f} times the current dose "
            "or more needs a justification.",
        )
    ]


def _dose_implausible(order: _Order) -> list[Violation]:
    # The ten-times part does not judge an induction: the first-day rules do (docstring).
    found = []
    current, first = order.current_dose, order.schedule.first_dose_mg
    factor = order.profile.dose_implausible_factor
    induction = order.spec.kind == "induction"
    if current is not None and not induction and first >= factor * current:
        found.append(
            order.violation(
                "dose_implausible",
                f"The first dose of {mg_text(first)} is {_times(first, current)} the current "
                f"dose of {mg_text(current)}; {factor.normalize():f} times or more is almost "
                "always a units or decimal error.",
            )
        )
    ceiling = order.profile.absolute_ceiling(order.product.substance)
    peak = max(step.dose_mg for step in order.schedule.steps)
    if ceiling is not None and peak > ceiling:
        found.append(
            order.violation(
                "dose_implausible",
                f"{mg_text(peak)}/day of {order.product.substance} is above the absolute "
                f"ceiling of {mg_text(ceiling)}; check the units and the decimal point.",
            )
        )
    return found


def _dose_not_measurable(order: _Order) -> list[Violation]:
    product = order.product
    problems = unmeasurable_doses(order.spec, product)
    if order.spec.split:
        # 0 mg first: that checks the fractions alone (they must add up to exactly 1).
        doses = [Decimal(0), *(s.dose_mg for s in order.schedule.steps if s.dose_mg > 0)]
        split_problems: list[str] = []
        for dose in dict.fromkeys(doses):
            if not product.is_measurable(dose):
                continue  # refused above already, as written
            try:
                split_amounts(dose, order.spec.split, product)
            except ScheduleError as problem:
                if problem.message not in split_problems:
                    split_problems.append(problem.message)
        if len(split_problems) > _SHOWN:
            left = len(split_problems) - _SHOWN
            split_problems[_SHOWN:] = [f"{left} more doses of this order cannot be split so."]
        problems += split_problems
    return [order.violation("dose_not_measurable", message) for message in problems]


def _missed_doses_dose_not_reduced(order: _Order) -> list[Violation]:
    h = order.history
    return not_reduced_violations(
        order.schedule.first_dose_mg,
        substance=order.product.substance,
        missed_days=h.missed_days,
        last_dose_mg=h.last_dose_mg,
        last_dose_substance=h.last_dose_substance,
        last_dose_on=h.last_dose_on,
        profile=order.profile,
    )


def _take_home_plan(order: _Order) -> list[Violation]:
    # take_home_plan_ceiling, take_home_exception, take_home_criteria (see take_home_plan.py)
    take_home, h = order.spec.take_home, order.history
    if take_home is None:
        return []
    found = take_home_criteria_violations(order.spec.take_home_criteria, order.profile)
    if order.product.substance != "methadone":
        return found
    ceiling = take_home_plan_violations(
        take_home,
        order.schedule,
        admitted_on=h.admitted_on,
        exceptions=h.take_home_exceptions,
        profile=order.profile,
    )
    return ceiling + found


def _times(amount: Decimal, current: Decimal) -> str:
    return f"{(amount / current).quantize(Decimal('0.01')).normalize():f} times"


def _percent(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')).normalize():f}"
