"""Take-home rules of docs/clinical-rules.md, checked when doses are handed out to take home.

``take_home_violations`` judges one request (all its dates, or none of them) and answers every
rule that fires at once, each with the severity the profile gives it and a sentence that names
the dates and numbers. Pure: ``today``, the order's authorization, the patient's take-homes, the
clinic's closures, the screens, the exceptions and the loss reports are arguments. Screens are
read in ``mat/dosing/screens.py``; the ceiling arithmetic is shared with the order rules
(``mat/orders/take_home_plan.py``).

Readings of the rule book where it leaves room (each repeated next to its rule):
- closure dates (``clinic_closed``, law): for a patient in maintenance treatment (any level of
  care but ``detox``, which is short-term withdrawal management, and ``inpatient``, dosed on the
  unit) a closure date may be taken home whatever the order authorizes, whatever the ceiling and
  whatever the screens; only a hold, a discharge or a missed-dose block (judged by the service,
  as for any dose) refuse it. Every requested closure date is flagged, authorized or not. For
  other patients a closure date is an ordinary date;
- the screen rules (``take_home_drug_screen``, ``take_home_step_back``) judge a request only when
  it holds a date that is not such a closure date: a request of closure dates alone passes them;
- a ceiling run is the take-home days (already recorded plus requested) joined across closure
  dates: the patient cannot attend on a closure date, so it never breaks a run, whether or not
  it has a take-home of its own, and never counts in its length. A run is judged by the ceiling
  of the treatment day of its first counted date (day 1 = the current episode's ``admitted_on``),
  and only when it holds a requested date that is not a closure date: runs already handed out
  are not judged again, and a closure dose never breaches;
- a date an SMA-168 exception covers neither counts in a run nor breaks it; a run that needed an
  exception fires ``take_home_exception`` (warn) naming the requested dates it let through
  (``exception_dates`` tells the service which rows to mark);
- a newest screen that is both too old and positive gives two ``take_home_drug_screen``
  violations, one for each reason; so does one negative for the treatment medication;
- step-back looks at the latest ``step_back_positive_screens`` positive screens within
  ``step_back_window_days`` of each other; an order of any kind signed after the last of them
  lifts it;
- ``take_home_loss`` (warn): two or more take-home loss reports (lost, stolen, spilled) reported
  within the last 90 days, today included, warn at every take-home handed out;
- a date requested twice, or already taken home, is ``already_dosed``; one violation names
  every such date.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, timedelta

from mat.dosing.screens import (
    Screen,
    screen_days,
    step_back_positives,
    treatment_medication_negative,
)
from mat.orders.take_home_plan import (
    ExceptionSpan,
    exception_violation,
    judge_run,
    runs_of,
    treatment_day,
)
from mat.profiles import Profile
from mat.violations import Violation

__all__ = [
    "CLOSURE_LEVELS_EXCLUDED",
    "exception_dates",
    "loss_report_violations",
    "screen_violations",
    "take_home_ceiling_days",
    "take_home_violations",
]

# Levels of care not "in maintenance treatment" for the closure-day take-home (docstring).
CLOSURE_LEVELS_EXCLUDED = ("detox", "inpatient")


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
    in_maintenance: bool = True,
    other_prescribed: Collection[str] = (),
    exceptions: Sequence[ExceptionSpan] = (),
    loss_reports: Sequence[date] = (),
) -> list[Violation]:
    """Every rule that fires for handing out take-home doses for ``dates``; empty when none."""

    def violation(rule: str, message: str) -> Violation:
        return Violation(rule, profile.severity(rule), message)

    # A closure date is one only for a patient in maintenance treatment (docstring).
    closed_days = closures if in_maintenance else frozenset()
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
    refused = [d for d in requested if not authorized(d) and d not in closed_days]
    if refused:
        found.append(
            violation(
                "take_home_not_authorized",
                f"The order does not authorize take-home doses on {_dates(refused)}.",
            )
        )
    if substance == "methadone":
        breaches, excepted = _ceiling(
            requested, existing_take_homes, closed_days, exceptions, admitted_on, profile
        )
        found += [violation("take_home_ceiling", message) for message in breaches]
        if excepted:
            found.append(exception_violation(excepted, profile))
    if any(d not in closed_days for d in requested):  # closure dates alone pass the screens
        found += screen_violations(
            screens,
            substance=substance,
            today=today,
            order_signed_on=order_signed_on,
            other_prescribed=other_prescribed,
            profile=profile,
        )
    found += loss_report_violations(loss_reports, today, profile)
    closed = [d for d in requested if d in closed_days]
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


def screen_violations(
    screens: Sequence[Screen],
    *,
    substance: str,
    today: date,
    order_signed_on: date,
    other_prescribed: Collection[str],
    profile: Profile,
) -> list[Violation]:
    """``take_home_drug_screen`` and ``take_home_step_back``: what the screens say of any
    take-home (a split take-home part included)."""
    days = screen_days(screens, substance, today, other_prescribed)
    problems = _screen_problems(days, screens, substance, today, profile)
    found = [
        Violation("take_home_drug_screen", profile.severity("take_home_drug_screen"), m)
        for m in problems
    ]
    found += [
        Violation("take_home_step_back", profile.severity("take_home_step_back"), m)
        for m in _step_back(days, order_signed_on, profile)
    ]
    return found


def exception_dates(
    dates: Sequence[date],
    *,
    admitted_on: date,
    existing_take_homes: frozenset[date],
    closures: frozenset[date],
    exceptions: Sequence[ExceptionSpan],
    profile: Profile,
    in_maintenance: bool = True,
) -> dict[date, ExceptionSpan]:
    """The requested dates an exception let pass the ceiling, with the exception: what the
    service stores on each dose row (and the dispensing log prints)."""
    closed_days = closures if in_maintenance else frozenset()
    _, excepted = _ceiling(
        list(dates), existing_take_homes, closed_days, exceptions, admitted_on, profile
    )
    return excepted


def loss_report_violations(
    reported_on: Sequence[date], today: date, profile: Profile
) -> list[Violation]:
    """``take_home_loss``: enough loss reports in the window ending today (docstring)."""
    window = profile.take_home_loss_window_days
    first = today - timedelta(days=window - 1)
    recent = sorted(d for d in reported_on if first <= d <= today)
    if len(recent) < profile.take_home_loss_reports:
        return []
    return [
        Violation(
            "take_home_loss",
            profile.severity("take_home_loss"),
            f"{len(recent)} take-home doses were reported lost, stolen or spilled in the last "
            f"{window} days ({_dates(recent)}); a prescriber reviews the take-home plan.",
        )
    ]


def _ceiling(
    asked: Iterable[date],
    existing: frozenset[date],
    closures: frozenset[date],
    exceptions: Sequence[ExceptionSpan],
    admitted_on: date,
    profile: Profile,
) -> tuple[list[str], dict[date, ExceptionSpan]]:
    # Runs join across closure dates and do not count them; only runs holding a requested
    # date that is not a closure date are judged (see the module docstring).
    requested = set(asked)
    found: list[str] = []
    excepted: dict[date, ExceptionSpan] = {}
    for run in runs_of(existing | requested, closures):
        if not any(d in requested and d not in closures for d in run):
            continue
        verdict = judge_run(
            run,
            not_counted=closures,
            exceptions=exceptions,
            admitted_on=admitted_on,
            profile=profile,
        )
        if verdict is None:
            continue
        if not verdict.breach:
            excepted |= {d: e for d, e in verdict.excepted.items() if d in requested}
            continue
        skipped = [d for d in run if d in closures]
        note = f" (closure {_day_days(skipped)} {_dates(skipped)} not counted)" if skipped else ""
        covered = [d for d in run if d not in closures and any(e.covers(d) for e in exceptions)]
        if covered:
            note += f" ({_dates(covered)} under an exception not counted)"
        first_day = treatment_day(next(d for d in run if d not in closures), admitted_on)
        found.append(
            f"Take-homes from {run[0]} to {run[-1]} would make {verdict.counted} consecutive "
            f"take-home days{note} from treatment day {first_day}; during treatment "
            f"{verdict.tier_text} at most {verdict.tier[2]} consecutive methadone take-home "
            "days are allowed."
        )
    return found, excepted


def _screen_problems(
    days: dict[date, list[str]],
    screens: Sequence[Screen],
    substance: str,
    today: date,
    profile: Profile,
) -> list[str]:
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
    if treatment_medication_negative(screens, substance, newest):
        found.append(
            f"The newest urine drug screen ({newest}) is negative for {substance}, the "
            "patient's own treatment medication: a sign the doses are not being taken "
            "(possible diversion); take-home doses need a screen that finds it."
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
