"""Urine drug screens, read for the take-home rules: what counts as positive, and when.

Pure: screens and ``today`` are arguments. The take-home rules that use these readings are in
``mat/dosing/take_home_rules.py``.

Readings of the rule book where it leaves room:
- a positive result is expected for the substance the patient is treated with (methadone on
  methadone, buprenorphine on buprenorphine) and for the substances on the patient's list of
  other prescribed medications (``other_prescribed``, for example a benzodiazepine); every other
  positive counts, whatever name the screen carries. Names and results are compared trimmed and
  case-blind;
- a screen that tested the treatment medication and found it negative is a sign of diversion
  (the patient is not taking the dose); a screen that did not test it says nothing of it. Of the
  screens of one date, one positive for it is enough (one sample);
- a screen collected after ``today`` is not a result yet and is ignored;
- screens collected on the same date are one sample: "the newest screen" is every screen of the
  newest collection date, and a date with unexpected positives counts as one positive screen
  for the step-back rule;
- ``drug_screen_frequency`` (law, warn; 8 a year): over the patient's last 365 days of
  treatment in the current episode (fewer in its first year), the screens due are the yearly
  number pro rata, rounded down (8 x days / 365: the first is due on treatment day 46, the
  eighth on day 365); collection dates are counted, one per date. It reminds, on the chart, the
  nurse's window and in the history report; it refuses nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from mat.profiles import Profile
from mat.violations import Violation

__all__ = [
    "NEVER_PRESCRIBED",
    "PANEL",
    "Screen",
    "positive_screen_days",
    "screen_days",
    "screen_frequency_violations",
    "step_back_positives",
    "treatment_medication_negative",
    "unexpected_positives",
]


# Substances of a urine drug screen panel. Fixed names, so that a typo ("fentanly") is refused
# instead of silently never counting; "opiates" is heroin/morphine.
PANEL = (
    "methadone",
    "buprenorphine",
    "fentanyl",
    "opiates",
    "oxycodone",
    "benzodiazepines",
    "cocaine",
    "amphetamines",
    "alcohol",
)
# No one prescribes these: on a patient's list of other prescribed substances they would only
# hide positives.
NEVER_PRESCRIBED = ("alcohol",)


@dataclass(frozen=True, slots=True)
class Screen:
    """One urine drug screen: substance -> ``"positive"`` or ``"negative"``."""

    collected_on: date
    results: Mapping[str, str]


def _plain(text: str) -> str:
    return text.strip().lower()


def unexpected_positives(
    screen: Screen, prescribed_substance: str, also_expected: Iterable[str] = ()
) -> list[str]:
    """The substances positive on ``screen`` that the patient is not prescribed, in the screen's
    order and as the screen names them."""
    expected = {_plain(prescribed_substance), *(_plain(name) for name in also_expected)}
    return [
        name
        for name, result in screen.results.items()
        if _plain(result) == "positive" and _plain(name) not in expected
    ]


def screen_days(
    screens: Iterable[Screen],
    prescribed_substance: str,
    today: date,
    also_expected: Iterable[str] = (),
) -> dict[date, list[str]]:
    """Each collection date on or before ``today``, oldest first, with the unexpected positives
    of every screen collected that day (an empty list: nothing unexpected)."""
    expected = tuple(also_expected)
    days: dict[date, list[str]] = {}
    for screen in sorted(screens, key=lambda s: s.collected_on):
        if screen.collected_on > today:
            continue
        found = days.setdefault(screen.collected_on, [])
        positives = unexpected_positives(screen, prescribed_substance, expected)
        found += [n for n in positives if n not in found]
    return days


def treatment_medication_negative(
    screens: Iterable[Screen], prescribed_substance: str, day: date
) -> bool:
    """Whether the screens collected on ``day`` tested the treatment medication and none found
    it (a sign of diversion); ``False`` when none of them tested it."""
    wanted = _plain(prescribed_substance)
    results = [
        _plain(result)
        for screen in screens
        if screen.collected_on == day
        for name, result in screen.results.items()
        if _plain(name) == wanted
    ]
    return bool(results) and "positive" not in results


def positive_screen_days(days: Mapping[date, list[str]]) -> list[date]:
    """The collection dates, oldest first, with unexpected positives."""
    return sorted(day for day, found in days.items() if found)


def step_back_positives(
    days: Mapping[date, list[str]], count: int, window_days: int
) -> tuple[date, date] | None:
    """(first, last) collection dates of the latest ``count`` positive screens that lie within
    ``window_days`` of each other (first to last), or ``None`` when no such screens exist."""
    positive = positive_screen_days(days)
    latest: tuple[date, date] | None = None
    for i in range(count - 1, len(positive)):
        first, last = positive[i - count + 1], positive[i]
        if (last - first).days <= window_days:
            latest = (first, last)
    return latest


def screen_frequency_violations(
    collected_on: Iterable[date], admitted_on: date, today: date, profile: Profile
) -> list[Violation]:
    """``drug_screen_frequency``: fewer screens than due in the last year of treatment."""
    first = max(admitted_on, today - timedelta(days=364))
    days = (today - first).days + 1
    if days < 1:
        return []
    per_year = profile.drug_screens_per_year
    due = per_year * days // 365
    counted = len({day for day in collected_on if first <= day <= today})
    if counted >= due:
        return []
    span = "the last 365 days" if days >= 365 else f"the {days} days of treatment since {first}"
    pro_rata = "" if days >= 365 else " (pro rata in the first year)"
    return [
        Violation(
            "drug_screen_frequency",
            profile.severity("drug_screen_frequency"),
            f"{counted} urine drug screen{'s' * (counted != 1)} in {span}; {due} {_are(due)} "
            f"due at {per_year} a year{pro_rata}. Collect a screen.",
        )
    ]


def _are(count: int) -> str:
    return "is" if count == 1 else "are"
