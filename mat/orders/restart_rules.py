"""Order rules of a (re)start of treatment: the methadone label's first dose, and the dose after
missed days. Pure: the dates, the schedule and the profile are arguments.

- ``methadone_first_dose_label`` (label, warn): on a day 1 (of treatment, of an episode, of an
  induction) the first single methadone dose is at most 30 mg and the day's total at most 40 mg.
  "The first single dose" is the first slot of a split day (the whole dose of an unsplit day);
  both limits are named in one violation per day when both are passed.
- ``missed_doses_dose_not_reduced`` (policy, justify): an order that ends a
  ``missed_doses_review`` (3 or more missed days, unordered gaps included, counted up to the
  order's start) starts at most at half the last day's dose given, and from 4 missed days at
  most at the lower of half and 40 mg. Judged for methadone after methadone only (the review is
  a methadone rule; another substance's dose is not comparable); "the last dose given" is the
  total of the last day the patient was dosed; "4 missed days" reads "4 or more".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from mat.formulary.catalog import Product
from mat.orders.schedule import ScheduleError, Split, mg_text, split_amounts
from mat.orders.spec import Schedule
from mat.profiles import Profile
from mat.violations import Violation

__all__ = ["first_dose_label_violations", "not_reduced_violations"]


def first_dose_label_violations(
    first_days: Sequence[tuple[date, str]],
    schedule: Schedule,
    split: Split,
    product: Product,
    profile: Profile,
) -> list[Violation]:
    """``first_days``: (date, what it is day 1 of); judged on the methadone ``schedule`` plans
    on each, in all and in its first slot."""
    single, total = (
        profile.methadone_first_dose_label_mg,
        profile.methadone_first_day_label_total_mg,
    )
    day_total = {d: t for d, _ in first_days if (t := schedule.dose_on(d)) is not None and t > 0}
    first_part = {}
    for day, amount in day_total.items():
        try:
            first_part[day] = split_amounts(amount, split, product)[0][1]
        except ScheduleError:  # dose_not_measurable says it; judge the day's total alone
            first_part[day] = amount
    found = []
    for day, what in first_days:
        if day not in day_total:
            continue
        passed = []
        if first_part[day] > single:
            passed.append(
                f"the first single dose would be {mg_text(first_part[day])} (label: at most "
                f"{mg_text(single)})"
            )
        if day_total[day] > total:
            passed.append(
                f"the day's total would be {mg_text(day_total[day])} (label: at most "
                f"{mg_text(total)})"
            )
        if passed:
            found.append(
                Violation(
                    "methadone_first_dose_label",
                    profile.severity("methadone_first_dose_label"),
                    f"Day 1 of {what} ({day}): {' and '.join(passed)}; watch for sedation.",
                )
            )
    return found


def not_reduced_violations(
    first_dose_mg: Decimal,
    *,
    substance: str,
    missed_days: int,
    last_dose_mg: Decimal | None,
    last_dose_substance: str | None,
    last_dose_on: date | None,
    profile: Profile,
) -> list[Violation]:
    """``missed_doses_dose_not_reduced`` for an order starting at ``first_dose_mg``."""
    if substance != "methadone" or last_dose_substance != "methadone" or last_dose_mg is None:
        return []
    if missed_days < profile.missed_doses_review_days:
        return []
    fraction = profile.missed_doses_reduced_fraction
    limit = last_dose_mg * fraction
    why = f"{_percent(fraction)} of the last dose given ({mg_text(last_dose_mg)} on {last_dose_on})"
    if missed_days >= profile.missed_doses_reduced_cap_days:
        cap = profile.missed_doses_reduced_cap_mg
        if cap < limit:
            limit = cap
        why = f"the lower of {why} and {mg_text(cap)}"
    if first_dose_mg <= limit:
        return []
    return [
        Violation(
            "missed_doses_dose_not_reduced",
            profile.severity("missed_doses_dose_not_reduced"),
            f"After {missed_days} missed days the first dose of {mg_text(first_dose_mg)} is "
            f"above {mg_text(limit.normalize())}, {why}: tolerance may be lost; starting higher "
            "needs a justification.",
        )
    ]


def _percent(fraction: Decimal) -> str:
    return "half" if fraction == Decimal("0.5") else f"{(fraction * 100).normalize():f} %"
