"""Dosing-window rules of docs/clinical-rules.md, checked for each dose a nurse records.

``dose_violations`` answers every reason at once why a dose may not be given now, each with the
severity the profile gives it and a sentence that names the dates, times and numbers;
``amount_violations`` and ``late_entry_violations`` judge what the nurse entered. Pure: the
service builds a ``DoseSituation`` (the date asked about, the clock, the governing order, what it
plans and what is already recorded, the open holds, the recent scheduled days) and passes the
profile. ``dispenser_required`` is a role check and lives in the service, not here. The
take-home rules live in ``take_home_rules.py`` and screen reading in ``screens.py``; their public
names are exported here too.

Readings of the rule book where it leaves room (each repeated next to its rule):
- "consecutive days missed" counts, at the end of ``recent_days``, the days an order planned a
  dose with no dose recorded (a withheld day is missed, a take-home day is not) and, after the
  patient's last dose, every day no order covered at all (an unordered gap: tolerance is lost
  whether or not an order was running; ``ScheduledDay.ordered`` is False). A day an order covers
  but plans nothing (0 mg) neither counts nor breaks the run. The service builds the days
  (``mat/dosing/tolerance.py``);
- ``missed_doses_review`` (methadone only) lifts once the governing order was signed after the
  last missed day, whatever its kind; ``missed_doses_reinduction`` (methadone 5, buprenorphine 7
  days, naltrexone never) lifts only when that order is also an ``induction``. Unordered days
  from the day the governing order was signed up to its start were left without a dose by that
  order's own plan: they count in the run (tolerance) but are not missed "after" it, so an order
  signed today to start tomorrow ends the review. Before a new order both fire, so the nurse
  reads the whole story. Neither is judged when no order governs the day (``no_active_order``
  already refuses, and the substance is unknown);
- the plan gives split slots no clock time, so "not before the planned slot" reads: not before
  the slots ahead of it in the order's slot order (a slot behind one already recorded is past
  and refused), and at least the substance's interval (profile ``split_min_interval_hours``:
  methadone 4 hours, buprenorphine 2) after the latest dose recorded that day, whatever its
  slot; a take-home counts from when it was handed out, the earliest the patient could take it;
- a split part the order plans as a take-home (``split_slots``; a take-home slot after an
  observed one in the day's plan) is handed out in the visit its earlier part is observed: it
  is refused (``split_interval``) until that part is recorded, and its interval is not judged at
  the window (the patient takes it later);
- ``already_dosed`` fires when the slot asked about is recorded or, with no slot named, when
  every planned slot is; a slot name the plan does not have is an input error (``ValueError``)
  when something is planned, and ``no_active_order`` alone when nothing is;
- a day before admission and a patient who is not active are two ``patient_not_active``
  violations when both hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from mat.dosing.screens import Screen, unexpected_positives
from mat.dosing.take_home_rules import take_home_ceiling_days, take_home_violations
from mat.orders.schedule import PlannedDose, mg_text
from mat.profiles import Profile
from mat.violations import Violation

__all__ = [
    "DoseSituation",
    "GivenDose",
    "GoverningOrder",
    "ScheduledDay",
    "Screen",
    "amount_violations",
    "dose_violations",
    "is_split_take_home",
    "late_entry_violations",
    "missed_run",
    "next_due",
    "take_home_ceiling_days",
    "take_home_violations",
    "unexpected_positives",
]


@dataclass(frozen=True, slots=True)
class GoverningOrder:
    """The signed order that governs the date asked about."""

    order_id: int
    kind: str  # "induction" | "titration" | "maintenance" | "taper"
    substance: str  # "methadone" | "buprenorphine" | "naltrexone"
    signed_on: date  # clinic-local date the order was signed
    start: date | None = None  # its start date (None: taken to start on the day it was signed)


@dataclass(frozen=True, slots=True)
class ScheduledDay:
    """A date on which the patient's signed orders planned at least one dose, and whether the
    patient got one; or (``ordered`` False) a day after the patient's last dose that no order
    covered, which counts as missed."""

    date: date
    taken: bool  # a dose (observed or take-home, not voided) was recorded; withheld => False
    ordered: bool = True


@dataclass(frozen=True, slots=True)
class GivenDose:
    """A dose already recorded for the service date (not voided)."""

    slot: str
    mode: str  # "observed" | "take_home"
    given_at: datetime  # aware


@dataclass(frozen=True, slots=True)
class DoseSituation:
    """Everything the dosing-window rules look at for one patient and one service date."""

    day: date  # the service date asked about
    now: datetime  # aware; for the split interval
    patient_active: bool
    admitted_on: date
    order: GoverningOrder | None  # the order governing ``day``; None: no signed order covers it
    planned: tuple[PlannedDose, ...]  # its doses for ``day``, in slot order ("daily" unsplit)
    given: tuple[GivenDose, ...]  # doses already recorded for ``day``
    open_holds: tuple[str, ...]  # reasons of open holds
    recent_days: tuple[ScheduledDay, ...]  # scheduled days strictly before ``day``, oldest first


def missed_days(recent_days: Iterable[ScheduledDay]) -> list[ScheduledDay]:
    """The days at the end of ``recent_days`` in a row with no dose, newest first."""
    run = []
    for scheduled in sorted(recent_days, key=lambda d: d.date, reverse=True):
        if scheduled.taken:
            break
        run.append(scheduled)
    return run


def missed_run(recent_days: Iterable[ScheduledDay]) -> tuple[int, date | None]:
    """How many days at the end of ``recent_days`` in a row had no dose, and the last of them
    (``None`` when the last scheduled day was taken, or there is none)."""
    run = missed_days(recent_days)
    return len(run), (run[0].date if run else None)


def is_split_take_home(planned: PlannedDose, day_plan: Iterable[PlannedDose]) -> bool:
    """Whether ``planned`` is the later part of a split dose that the order plans as a take-home
    (``split_slots``): a take-home slot after an observed slot of the same day."""
    if planned.mode != "take_home":
        return False
    for earlier in day_plan:
        if earlier.slot == planned.slot:
            return False
        if earlier.mode == "observed":
            return True
    return False


def next_due(situation: DoseSituation) -> PlannedDose | None:
    """The first planned slot of the day with no dose recorded; ``None`` when there is none."""
    given = {dose.slot for dose in situation.given}
    return next((p for p in situation.planned if p.slot not in given), None)


def dose_violations(
    situation: DoseSituation, profile: Profile, slot: str | None = None
) -> list[Violation]:
    """Every reason why the dose of ``slot`` (default: the next due) may not be given now.

    Raises ``ValueError`` when ``slot`` is not a slot the order plans for the day.
    """
    s = situation
    asked = _slot_asked(s, slot)

    def violation(rule: str, message: str) -> Violation:
        return Violation(rule, profile.severity(rule), message)

    found: list[Violation] = []
    if not s.patient_active:
        found.append(violation("patient_not_active", "The patient is not active (discharged)."))
    if s.day < s.admitted_on:
        found.append(
            violation(
                "patient_not_active",
                f"{s.day} is before the patient's admission on {s.admitted_on}.",
            )
        )
    if s.order is None:
        found.append(violation("no_active_order", f"No signed order covers {s.day}."))
    elif not s.planned:
        found.append(violation("no_active_order", f"The signed order plans no dose for {s.day}."))
    if s.open_holds:
        reasons = "; ".join(f'"{reason}"' for reason in s.open_holds)
        one = len(s.open_holds) == 1
        holds = "an open hold" if one else f"{len(s.open_holds)} open holds"
        found.append(
            violation(
                "patient_on_hold",
                f"The patient has {holds}: {reasons}; no dose until "
                f"{'it is' if one else 'they are'} released.",
            )
        )
    found += [violation("already_dosed", m) for m in _already_dosed(s, asked)]
    found += [violation(rule, m) for rule, m in _missed_doses(s, profile)]
    found += [violation("split_interval", m) for m in _split_interval(s, asked, profile)]
    return found


def _slot_asked(s: DoseSituation, slot: str | None) -> PlannedDose | None:
    if slot is None:
        return next_due(s)
    for planned in s.planned:
        if planned.slot == slot:
            return planned
    if s.planned:
        slots = ", ".join(p.slot for p in s.planned)
        raise ValueError(f"{slot!r} is not a slot planned for {s.day}; the slots are {slots}.")
    return None  # nothing planned: no_active_order says so


def _already_dosed(s: DoseSituation, asked: PlannedDose | None) -> list[str]:
    # The slot asked about is recorded, or (no slot named) every planned slot is.
    recorded = {dose.slot: dose for dose in s.given}
    if not s.planned:
        return []
    if asked is None:
        if len(s.planned) == 1:
            asked = s.planned[0]
        else:
            each = ", ".join(f"{p.slot} {_when_recorded(recorded[p.slot], s)}" for p in s.planned)
            return [f"Every dose planned for {s.day} is already recorded ({each})."]
    if asked.slot not in recorded:
        return []
    dose = recorded[asked.slot]
    return [
        f"{_dose_of(asked.slot, s.day, capital=True)} is already recorded "
        f"({_when_recorded(dose, s)})."
    ]


def _missed_doses(s: DoseSituation, profile: Profile) -> list[tuple[str, str]]:
    # Review (methadone) lifts with any order signed after the last missed day; re-induction
    # lifts only when that order is an induction. Not judged without a governing order.
    order = s.order
    run_days = missed_days(s.recent_days)
    if order is None or not run_days:
        return []
    run, last = len(run_days), run_days[0].date
    # Unordered days from its signing to its start are the governing order's own plan.
    start = order.start or order.signed_on
    unforeseen = [d.date for d in run_days if d.ordered or not order.signed_on <= d.date < start]
    signed_after = not unforeseen or order.signed_on > unforeseen[0]
    missed = (
        f"{order.substance.capitalize()} was missed on {run} consecutive "
        f"day{'s' * (run != 1)}{_unordered(run_days)}, the last on {last}"
    )
    found = []
    review = profile.missed_doses_review_days
    if order.substance == "methadone" and run >= review and not signed_after:
        found.append(
            (
                "missed_doses_review",
                f"{missed}; after {review} missed days no dose is given until a prescriber "
                f"signs a new order after {last} (the current order was signed on "
                f"{order.signed_on}).",
            )
        )
    reinduction = profile.reinduction_after_missed_days(order.substance)
    restarted = signed_after and order.kind == "induction"
    if reinduction is not None and run >= reinduction and not restarted:
        found.append(
            (
                "missed_doses_reinduction",
                f"{missed}; after {reinduction} missed days treatment restarts with an "
                f"induction order signed after {last} (the current order is "
                f"{_a(order.kind)} {order.kind} order signed on {order.signed_on}).",
            )
        )
    return found


def _split_interval(s: DoseSituation, asked: PlannedDose | None, profile: Profile) -> list[str]:
    # Slots have no clock time: a slot is refused once a slot after it is recorded, and comes
    # at least the substance's hours after the latest dose recorded that day, whatever its slot
    # or mode. A split take-home part waits for its observed part and has no interval here.
    if asked is None or asked.slot in {dose.slot for dose in s.given}:
        return []  # already_dosed says it
    if is_split_take_home(asked, s.planned):
        return _split_take_home_first(s, asked)
    if not s.given:
        return []  # nothing recorded yet
    slots = [p.slot for p in s.planned]
    after = set(slots[slots.index(asked.slot) + 1 :])
    passed = [dose for dose in s.given if dose.slot in after]
    if passed:
        dose = max(passed, key=lambda d: d.given_at)
        return [
            f"{_dose_of(asked.slot, s.day, capital=True)} can no longer be given: the "
            f"{dose.slot} dose, which comes after it, is already recorded "
            f"({_when_recorded(dose, s)})."
        ]
    latest = max(s.given, key=lambda d: d.given_at)
    hours = profile.split_interval_hours(s.order.substance) if s.order else None
    if hours is None:
        return []  # a substance with no interval: the order of the slots is the whole rule
    earliest = latest.given_at + timedelta(hours=hours)
    if s.now >= earliest:
        return []
    zone = s.now.tzinfo
    return [
        f"{_dose_of(asked.slot, s.day, capital=True)} may be given from "
        f"{_clock(earliest, s.day, zone)}, {hours} hours after the {latest.slot} dose "
        f"({_when_recorded(latest, s)}); it is now {_clock(s.now, s.day, zone)}."
    ]


def _split_take_home_first(s: DoseSituation, asked: PlannedDose) -> list[str]:
    slots = [p.slot for p in s.planned]
    earlier = [p.slot for p in s.planned[: slots.index(asked.slot)] if p.mode == "observed"]
    observed = {dose.slot for dose in s.given if dose.mode == "observed"}
    waiting = [slot for slot in earlier if slot not in observed]
    if not waiting:
        return []
    return [
        f"{_dose_of(asked.slot, s.day, capital=True)} is handed out to take home in the visit "
        f"its {' and '.join(waiting)} part is observed; record the {' and '.join(waiting)} dose "
        "first."
    ]


def amount_violations(planned: PlannedDose, amount_mg: Decimal) -> list[Violation]:
    """``amount_mismatch`` when the amount entered is not the planned dose (60 equals 60.0)."""
    if amount_mg == planned.dose_mg:
        return []
    # Block in every profile: a profile may not be looser than us-federal, which blocks it.
    return [
        Violation(
            "amount_mismatch",
            "block",
            f"The amount entered, {mg_text(amount_mg)}, is not the planned "
            f"{mg_text(planned.dose_mg)} for {_dose_of(planned.slot, planned.date)}; give the "
            "planned dose, or ask a prescriber to change the order.",
        )
    ]


def late_entry_violations(
    day: date, today: date, reason: str | None, profile: Profile
) -> list[Violation]:
    """A ``late_entry`` warning, quoting the reason, for a dose recorded for an earlier date."""
    if day >= today:
        return []
    late = (today - day).days
    why = f'reason: "{reason.strip()}"' if reason and reason.strip() else "no reason given"
    return [
        Violation(
            "late_entry",
            profile.severity("late_entry"),
            f"Recorded on {today} for {day}, {late} day{'s' * (late != 1)} late (back-entry); "
            f"{why}.",
        )
    ]


# ---- sentences -----------------------------------------------------------------------------------


def _dose_of(slot: str, day: date, capital: bool = False) -> str:
    text = f"the dose of {day}" if slot == "daily" else f"the {slot} dose of {day}"
    return text[0].upper() + text[1:] if capital else text


def _when_recorded(dose: GivenDose, s: DoseSituation) -> str:
    moment = _clock(dose.given_at, s.day, s.now.tzinfo)
    if dose.mode == "take_home":
        return f"handed out to take home at {moment}"
    return f"given under observation at {moment}"


def _clock(moment: datetime, day: date, zone: tzinfo | None) -> str:
    """'14:05' on ``day``, '2026-11-09 14:05' on another date, in the zone of ``now``."""
    local = moment.astimezone(zone)
    return f"{local:%H:%M}" if local.date() == day else f"{local:%Y-%m-%d %H:%M}"


def _unordered(run_days: list[ScheduledDay]) -> str:
    gap = sum(1 for d in run_days if not d.ordered)
    if not gap:
        return ""
    return f" ({gap} of them with no order at all)"


def _a(word: str) -> str:
    return "an" if word[:1] in ("a", "e", "i", "o", "u") else "a"
