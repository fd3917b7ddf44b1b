"""Take-home rules of an order, judged when a prescriber previews or signs it; and the ceiling
arithmetic the dosing window shares (``judge_run``).

- ``take_home_plan_ceiling`` (law): the authorized take-home days may not make a run longer
  than the ceiling of the treatment day the run starts on;
- ``take_home_exception`` (law, warn): a run longer than the ceiling passes when the dates past
  it are covered by an exception the state authority or SAMHSA approved (SMA-168); the warning
  names the exception, and the dose rows it let through carry it into the dispensing log;
- ``take_home_criteria`` (law, justify): each federal criterion answered "no" needs the
  prescriber's justification.

Readings of the rule book where it leaves room (each repeated next to its rule):
- a date an exception covers neither counts in a run nor breaks it (like a closure date at the
  window): the uncovered days before and after it are one run, judged by the ceiling. So an
  exception lets through exactly the dates it names, never the days around them;
- an exception is named only where a run needed it (the run would breach without it), so the
  log flags the take-homes it let through and no others;
- a criterion answered "no" is one ``take_home_criteria`` violation naming every such
  criterion; the rationale is required input (422 without it), not a rule.
Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from mat.orders.schedule import TakeHome
from mat.orders.spec import Schedule
from mat.profiles import Profile
from mat.violations import Violation

__all__ = [
    "TAKE_HOME_WINDOW_DAYS",
    "ExceptionSpan",
    "RunVerdict",
    "judge_run",
    "runs_of",
    "take_home_criteria_violations",
    "take_home_plan_violations",
]

# Weekday take-homes on an open-ended order are judged over its first 60 days: long enough to
# hold any run the longest ceiling (28 days) could refuse, twice over.
TAKE_HOME_WINDOW_DAYS = 60
ONE_DAY = timedelta(days=1)

CRITERION_TEXT = {
    "no_active_use_or_risk": "no active substance use or other condition that raises the risk "
    "of overdose or unsafe functioning",
    "regular_attendance": "regular attendance",
    "no_behavioral_problems": "no serious behavioural problems",
    "no_diversion": "no known recent diversion",
    "safe_transport_and_storage": "the doses can be transported and stored safely",
}


@dataclass(frozen=True, slots=True)
class ExceptionSpan:
    """An approved SMA-168 exception: take-homes on ``first``..``last`` may pass the ceiling."""

    id: int
    number: str
    approved_by: str
    approved_on: date
    first: date
    last: date

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True, slots=True)
class RunVerdict:
    """A run of take-home days judged by the ceiling."""

    counted: int  # days that count toward the ceiling
    treatment_day: int  # of the first counted day
    tier: tuple[int, int | None, int]  # (first day, last day or None, ceiling) of that tier
    breach: bool
    excepted: dict[date, ExceptionSpan] = field(default_factory=dict)  # dates let through

    @property
    def tier_text(self) -> str:
        first, last, _ = self.tier
        return f"days {first}-{last}" if last else f"day {first} on"


def treatment_day(day: date, admitted_on: date) -> int:
    """Day 1 is the admission date of the current episode of care."""
    return (day - admitted_on).days + 1


def runs_of(days: Iterable[date], bridges: Collection[date] = ()) -> list[list[date]]:
    """Runs of consecutive ``days``, joined across ``bridges`` (dates that never break a run),
    each run starting and ending on one of ``days``."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs:
            gap, bridge = runs[-1][-1] + ONE_DAY, []
            while gap < day and gap in bridges:
                bridge.append(gap)
                gap += ONE_DAY
            if gap == day:
                runs[-1] += [*bridge, day]
                continue
        runs.append([day])
    return runs


def judge_run(
    run: Sequence[date],
    *,
    not_counted: Collection[date],
    exceptions: Sequence[ExceptionSpan],
    admitted_on: date,
    profile: Profile,
) -> RunVerdict | None:
    """The run's verdict; ``None`` when no day of it counts (closure dates only)."""
    counted = [d for d in run if d not in not_counted]
    if not counted:
        return None
    first_day = treatment_day(counted[0], admitted_on)
    tier = profile.take_home_tier(first_day)
    if len(counted) <= tier[2]:
        return RunVerdict(len(counted), first_day, tier, breach=False)
    covered = {d: e for d in counted for e in exceptions if e.covers(d)}
    if not covered:
        return RunVerdict(len(counted), first_day, tier, breach=True)
    # Dates an exception covers neither count nor break the run (see the module docstring).
    rest = [d for d in counted if d not in covered]
    if not rest:
        return RunVerdict(0, first_day, tier, breach=False, excepted=covered)
    rest_day = treatment_day(rest[0], admitted_on)
    rest_tier = profile.take_home_tier(rest_day)
    breach = len(rest) > rest_tier[2]
    return RunVerdict(len(rest), rest_day, rest_tier, breach, {} if breach else covered)


def take_home_plan_violations(
    take_home: TakeHome,
    schedule: Schedule,
    *,
    admitted_on: date,
    exceptions: Sequence[ExceptionSpan],
    profile: Profile,
) -> list[Violation]:
    """``take_home_plan_ceiling`` and ``take_home_exception`` for a methadone order's take-home
    days: its dates, and its weekdays over the order (an open-ended order over its first
    ``TAKE_HOME_WINDOW_DAYS`` days). A 0 mg day takes nothing home."""
    start = schedule.steps[0].start
    window_end = schedule.end
    if window_end is None:
        window_end = start + timedelta(days=TAKE_HOME_WINDOW_DAYS - 1)
    judged = [start + timedelta(days=n) for n in range((window_end - start).days + 1)]
    days = {d for d in take_home.dates if schedule.dose_on(d)}  # dates past the window too
    days |= {d for d in judged if take_home.authorizes(d) and schedule.dose_on(d)}
    open_end = window_end if schedule.end is None else None  # a run ending there may go on
    found: list[Violation] = []
    for run in runs_of(days):
        verdict = judge_run(
            run, not_counted=(), exceptions=exceptions, admitted_on=admitted_on, profile=profile
        )
        assert verdict is not None  # no closures at signing: every day counts
        if verdict.breach:
            length = len(run)
            more = " or more" if run[-1] == open_end else ""
            note = _not_counted_note(run, exceptions)
            found.append(
                Violation(
                    "take_home_plan_ceiling",
                    profile.severity("take_home_plan_ceiling"),
                    f"Take-homes are authorized for {length}{more} consecutive days from "
                    f"{run[0]} (treatment day {treatment_day(run[0], admitted_on)}){note}; "
                    f"during treatment {verdict.tier_text} at most {verdict.tier[2]} "
                    "consecutive methadone take-home days are allowed.",
                )
            )
        elif verdict.excepted:
            found.append(exception_violation(verdict.excepted, profile))
    return found


def exception_violation(excepted: dict[date, ExceptionSpan], profile: Profile) -> Violation:
    """``take_home_exception``: which dates passed the ceiling, under which exception."""
    by_exception: dict[ExceptionSpan, list[date]] = {}
    for day in sorted(excepted):
        by_exception.setdefault(excepted[day], []).append(day)
    parts = [
        f"{_span(days)} under exception {e.number} (approved by {e.approved_by} on "
        f"{e.approved_on}, covering {e.first} to {e.last})"
        for e, days in by_exception.items()
    ]
    return Violation(
        "take_home_exception",
        profile.severity("take_home_exception"),
        f"Take-homes pass the ceiling on {'; '.join(parts)}.",
    )


def take_home_criteria_violations(
    criteria: Iterable[tuple[str, bool]], profile: Profile
) -> list[Violation]:
    """``take_home_criteria``: one violation naming every criterion answered "no"."""
    no = [name for name, answer in criteria if answer is False]
    if not no:
        return []
    named = "; ".join(f"{name} ({CRITERION_TEXT.get(name, name)})" for name in no)
    plural = "criteria are" if len(no) > 1 else "criterion is"
    return [
        Violation(
            "take_home_criteria",
            profile.severity("take_home_criteria"),
            f"The federal take-home {plural} answered no: {named}; authorizing take-homes "
            "anyway needs a justification of why the benefits outweigh the risks.",
        )
    ]


def _not_counted_note(run: Sequence[date], exceptions: Sequence[ExceptionSpan]) -> str:
    covered = [d for d in run if any(e.covers(d) for e in exceptions)]
    if not covered:
        return ""
    return f" ({_span(covered)} under an exception not counted)"


def _span(days: Sequence[date]) -> str:
    """'2026-12-20', or '2026-12-20 to 2026-12-24' for consecutive dates, else a list."""
    if len(days) == 1:
        return str(days[0])
    if (days[-1] - days[0]).days == len(days) - 1:
        return f"{days[0]} to {days[-1]}"
    return ", ".join(str(d) for d in days)
