"""Urine drug screens, read for the take-home rules: what counts as positive, and when.

Pure: screens and ``today`` are arguments. The take-home rules that use these readings are in
``mat/dosing/take_home_rules.py``.

Readings of the rule book where it leaves room:
- a positive result is expected only for the substance the patient is prescribed (methadone on
  methadone, buprenorphine on buprenorphine); every other positive counts, whatever name the
  screen carries. Names and results are compared trimmed and case-blind;
- a screen collected after ``today`` is not a result yet and is ignored;
- screens collected on the same date are one sample: "the newest screen" is every screen of the
  newest collection date, and a date with unexpected positives counts as one positive screen
  for the step-back rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

__all__ = [
    "NEVER_PRESCRIBED",
    "PANEL",
    "Screen",
    "positive_screen_days",
    "screen_days",
    "step_back_positives",
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


def unexpected_positives(screen: Screen, prescribed_substance: str) -> list[str]:
    """The substances positive on ``screen`` that the patient is not prescribed, in the screen's
    order and as the screen names them."""
    expected = _plain(prescribed_substance)
    return [
        name
        for name, result in screen.results.items()
        if _plain(result) == "positive" and _plain(name) != expected
    ]


def screen_days(
    screens: Iterable[Screen], prescribed_substance: str, today: date
) -> dict[date, list[str]]:
    """Each collection date on or before ``today``, oldest first, with the unexpected positives
    of every screen collected that day (an empty list: nothing unexpected)."""
    days: dict[date, list[str]] = {}
    for screen in sorted(screens, key=lambda s: s.collected_on):
        if screen.collected_on > today:
            continue
        found = days.setdefault(screen.collected_on, [])
        found += [n for n in unexpected_positives(screen, prescribed_substance) if n not in found]
    return days


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
