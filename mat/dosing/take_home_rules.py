"""Take-home rules of docs/clinical-rules.md, checked when doses are handed out to take home.

``take_home_violations`` judges one request (all its dates, or none of them) and answers every
rule that fires at once, each with the severity the profile gives it and a sentence that names
the dates and numbers. Pure: ``today``, the order's authorization, the patient's take-homes, the
clinic's closures and the screens are arguments. Screens are read in ``mat/dosing/screens.py``.

Readings of the rule book where it leaves room (each repeated next to its rule):
- a clinic closure date may be taken home whatever the order authorizes and whatever the
  ceiling; every requested closure date is flagged ``clinic_closed``, authorized or not;
- a ceiling run is the take-home days (already recorded plus requested) joined across closure
  dates: the patient cannot attend on a closure date, so it never breaks a run, whether or not
  it has a take-home of its own, and never counts in its length. A run is judged by the ceiling
  of the treatment day of its first counted date (day 1 = ``admitted_on``), and only when it
  holds a requested date that is not a closure date: runs already handed out are not judged
  again, and a closure dose never breaches;
- a newest screen that is both too old and positive gives two ``take_home_drug_screen``
  violations, one for each reason;
- step-back looks at the latest ``step_back_positive_screens`` positive screens within
  ``step_back_window_days`` of each other; an order of any kind signed after the last of them
  lifts it;
- a date requested twice, or already taken home, is ``already_dosed``; one violation names
  every such date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta

from mat.dosing.screens import Screen, screen_days, step_back_positives
from mat.profiles import Profile
from mat.violations import Violation

__all__ = ["take_home_ceiling_days", "take_home_violations"]

ONE_DAY = timedelta(days=1)


def treatment_day(day: date, admitted_on: date) -> int:
    """Day 1 is the admission date."""
    return (day - admitted_on).days + 1


def take_home_ceiling_days(
    today: date, admitted_on: date, substance: str, profile: Profile
) -> int | None:
    """Most consecutive take-home days a run starting today may have; ``None``: no ceiling
    (buprenorphine, naltrexone)."""
    if substance != "methadone":
        return None
    return profile.take_home_ceiling(treatment_day(today, admitted_on))


def take_home_violations(
    dates: Sequence[date],
    *,
    today: date,
    admitted_on: date,
    substance: str,
    authorized: Callable[[date], bool],
    existing_take_homes: frozenset[date],
    closures: frozenset[date],
    screens: Sequence[Screen],
    order_signed_on: date,
    profile: Profile,
) -> list[Violation]:
    """Every rule that fires for handing out take-home doses for ``dates``; empty when none."""

    def violation(rule: str, message: str) -> Violation:
        return Violation(rule, profile.severity(rule), message)

    found: list[Violation] = []
    requested = list(dict.fromkeys(dates))
    repeated = [d for d in requested if dates.count(d) > 1]
    if repeated:
        found.append(
            violation(
                "already_dosed",
                f"{_dates(repeated)} {_is_are(repeated)} requested more than once; each date "
                "takes one take-home dose.",
            )
        )
    recorded = [d for d in requested if d in existing_take_homes]
    if recorded:
        found.append(
            violation(
                "already_dosed",
                f"A take-home dose is already recorded for {_dates(recorded)}.",
            )
        )
    refused = [d for d in requested if not authorized(d) and d not in closures]
    if refused:
        found.append(
            violation(
                "take_home_not_authorized",
                f"The order does not authorize take-home doses on {_dates(refused)}.",
            )
        )
    if substance == "methadone":
        breaches = _ceiling_breaches(requested, existing_take_homes, closures, admitted_on, profile)
        found += [violation("take_home_ceiling", message) for message in breaches]
    days = screen_days(screens, substance, today)
    found += [violation("take_home_drug_screen", m) for m in _screen_problems(days, today, profile)]
    found += [
        violation("take_home_step_back", m) for m in _step_back(days, order_signed_on, profile)
    ]
    closed = [d for d in requested if d in closures]
    if closed:
        found.append(
            violation(
                "clinic_closed",
                f"The clinic is closed on {_dates(closed)}: one take-home dose is allowed for "
                f"{'that day' if len(closed) == 1 else 'each of those days'} and is flagged as "
                "a closure dose.",
            )
        )
    return found


def _ceiling_breaches(
    asked: Iterable[date],
    existing: frozenset[date],
    closures: frozenset[date],
    admitted_on: date,
    profile: Profile,
) -> list[str]:
    # Runs join across closure dates and do not count them; only runs holding a requested
    # date that is not a closure date are judged (see the module docstring).
    requested = set(asked)
    take_homes = existing | requested
    found = []
    for run in _runs(take_homes, closures):
        counted = [d for d in run if d not in closures]
        if not counted or not any(d in requested for d in counted):
            continue
        first_day = treatment_day(counted[0], admitted_on)
        tier_first, tier_last, ceiling = profile.take_home_tier(first_day)
        if len(counted) <= ceiling:
            continue
        skipped = [d for d in run if d in closures]
        note = f" (closure {_day_days(skipped)} {_dates(skipped)} not counted)" if skipped else ""
        tier = f"days {tier_first}-{tier_last}" if tier_last else f"day {tier_first} on"
        found.append(
            f"Take-homes from {run[0]} to {run[-1]} would make {len(counted)} consecutive "
            f"take-home days{note} from treatment day {first_day}; during treatment {tier} at "
            f"most {ceiling} consecutive methadone take-home days are allowed."
        )
    return found


def _runs(take_homes: set[date] | frozenset[date], closures: frozenset[date]) -> list[list[date]]:
    """Runs of consecutive take-home days, bridged by closure dates, trimmed so each starts and
    ends on a take-home day."""
    runs: list[list[date]] = []
    for day in sorted(take_homes):
        if runs:
            gap = runs[-1][-1] + ONE_DAY
            bridge = []
            while gap < day and gap in closures:
                bridge.append(gap)
                gap += ONE_DAY
            if gap == day:
                runs[-1] += [*bridge, day]
                continue
        runs.append([day])
    return runs


def _screen_problems(days: dict[date, list[str]], today: date, profile: Profile) -> list[str]:
    # Screens of one date are one sample; screens after today are ignored (see screens.py).
    most = profile.drug_screen_max_age_days
    if not days:
        return [
            "No urine drug screen is on record; take-home doses need a screen from the last "
            f"{most} days."
        ]
    newest = max(days)
    found = []
    age = (today - newest).days
    if age > most:
        found.append(
            f"The newest urine drug screen was collected on {newest}, {age} days ago; take-home "
            f"doses need a screen at most {most} days old."
        )
    if days[newest]:
        found.append(
            f"The newest urine drug screen ({newest}) is positive for "
            f"{', '.join(days[newest])}, which the patient is not prescribed; take-home doses "
            "need a screen without unexpected positives."
        )
    return found


def _step_back(days: dict[date, list[str]], order_signed_on: date, profile: Profile) -> list[str]:
    # Any kind of order signed after the last of the positives lifts the suspension.
    count, window = profile.step_back_positive_screens, profile.step_back_window_days
    positives = step_back_positives(days, count, window)
    if positives is None or order_signed_on > positives[1]:
        return []
    first, last = positives
    if count == 1:
        screens = (
            "A urine drug screen was positive for a substance the patient is not prescribed "
            f"(on {last})"
        )
    else:
        which = f"on {first} and {last}" if count == 2 else f"from {first} to {last}"
        screens = (
            f"{count} urine drug screens within {window} days were positive for substances the "
            f"patient is not prescribed ({which})"
        )
    return [
        f"{screens}; take-home doses are suspended until a prescriber signs a new order after "
        f"{last} (the current order was signed on {order_signed_on})."
    ]


def _dates(days: Sequence[date]) -> str:
    """'2026-11-02', '2026-11-02 and 2026-11-03', '2026-11-02, 2026-11-03 and 2026-11-05'."""
    text = [str(d) for d in days]
    return text[0] if len(text) == 1 else f"{', '.join(text[:-1])} and {text[-1]}"


def _is_are(days: Sequence[date]) -> str:
    return "is" if len(days) == 1 else "are"


def _day_days(days: Sequence[date]) -> str:
    return "day" if len(days) == 1 else "days"
