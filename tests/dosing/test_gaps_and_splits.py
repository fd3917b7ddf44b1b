"""Dosing rules the 2024 rule book changed, at their boundaries: days with no order count as
missed (tolerance gaps), the split interval per substance, and a split part taken home."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mat.dosing.gaps import scheduled_days
from mat.dosing.rules import GivenDose, GoverningOrder, ScheduledDay, dose_violations, missed_run
from mat.orders.schedule import PlannedDose
from tests.dosing.test_rules import (
    BEFORE,
    DAY,
    FEDERAL,
    D,
    at,
    fired,
    observed,
    order,
    plan,
    situation,
)

# ---- scheduled_days: which days count --------------------------------------------------------

FIRST = date(2027, 1, 18)  # a Monday
STOP = date(2027, 1, 24)


def days(n: int) -> date:
    return FIRST + timedelta(days=n)


def marks(found: tuple[ScheduledDay, ...]) -> str:
    """A letter a day: T taken, m missed (ordered), g missed (no order), . left out."""
    by_day = {d.date: d for d in found}
    out = ""
    for n in range(7):
        d = by_day.get(days(n))
        out += "." if d is None else "T" if d.taken else "m" if d.ordered else "g"
    return out


@pytest.mark.parametrize(
    "planned, covered, taken, last_dose, expected",
    [
        # an order all week, taken Mon and Tue: then missed
        ({0, 1, 2, 3, 4, 5, 6}, None, {0, 1}, 1, "TTmmmmm"),
        # the order ended on Tuesday (dosed); no order after it: a gap, missed all the same
        ({0, 1}, None, {0, 1}, 1, "TTggggg"),
        # a 0 mg day in the middle (covered, planned nothing): neither counts nor breaks
        ({0, 1, 3, 4}, {0, 1, 2, 3, 4}, {0, 1}, 1, "TT.mmgg"),
        # never dosed at all: a day without an order is not missed (treatment not begun)
        ({3, 4, 5, 6}, None, set(), None, "...mmmm"),
        # last dosed long before the window: every unordered day is a gap
        (set(), None, set(), -30, "ggggggg"),
    ],
)
def test_days_with_no_order_after_the_last_dose_are_missed(
    planned: set[int],
    covered: set[int] | None,
    taken: set[int],
    last_dose: int | None,
    expected: str,
) -> None:
    found = scheduled_days(
        FIRST,
        STOP,
        planned={days(n) for n in planned},
        covered={days(n) for n in (planned if covered is None else covered)},
        taken={days(n) for n in taken},
        last_dose_on=None if last_dose is None else days(last_dose),
    )
    assert marks(found) == expected


def test_planned_days_from_a_date_on_are_taken_to_be_dosed() -> None:
    # The order rules look ahead to a new order's start: planned days to come are not missed.
    found = scheduled_days(
        FIRST,
        STOP,
        planned={days(n) for n in range(5)},
        covered={days(n) for n in range(5)},
        taken={days(0)},
        last_dose_on=days(0),
        assume_taken_from=days(3),
    )
    assert marks(found) == "TmmTTgg"
    assert missed_run(found) == (2, days(6))


# ---- missed_doses_review / reinduction with an unordered gap -----------------------------------


def gap_history(ordered: str) -> tuple[ScheduledDay, ...]:
    """Days ending the day before DAY: T taken, m missed under an order, g missed with none."""
    last = len(ordered) - 1
    return tuple(
        ScheduledDay(BEFORE - timedelta(days=last - i), mark == "T", ordered=mark != "g")
        for i, mark in enumerate(ordered)
    )


@pytest.mark.parametrize(
    "history, signed_on, start, fires",
    [
        # 3 days with no order after the last dose, then an order signed today: it ends the gap
        ("Tggg", DAY, DAY, []),
        # the same order signed before the gap began: a prescriber has not seen the patient since
        ("Tggg", BEFORE - timedelta(days=5), BEFORE - timedelta(days=5), ["missed_doses_review"]),
        # signed on the gap's first day to start today: the days up to its start are its plan
        ("Tggg", BEFORE - timedelta(days=2), DAY, []),
        # ... but a planned day missed after it was signed is not
        ("Tmgg", BEFORE - timedelta(days=2), DAY, ["missed_doses_review"]),
        # 2 days is not a review
        ("Tgg", BEFORE - timedelta(days=30), BEFORE - timedelta(days=30), []),
        # 5 days (gap and planned together) needs an induction...
        ("Tmmggg", DAY, DAY, ["missed_doses_reinduction"]),
    ],
)
def test_an_unordered_gap_counts_toward_the_missed_dose_rules(
    history: str, signed_on: date, start: date, fires: list[str]
) -> None:
    governing = GoverningOrder(7, "maintenance", "methadone", signed_on, start)
    s = situation(recent_days=gap_history(history), order=governing)
    assert fired(s) == fires


def test_a_gap_ended_by_an_induction_signed_after_it_passes() -> None:
    induction = GoverningOrder(7, "induction", "methadone", DAY, DAY)
    assert fired(situation(recent_days=gap_history("Tmmggg"), order=induction)) == []


def test_the_missed_message_says_how_many_days_had_no_order() -> None:
    s = situation(recent_days=gap_history("Tmggg"), order=order(signed_on=BEFORE - timedelta(9)))
    [review] = dose_violations(s, FEDERAL)
    assert review.message.startswith(
        "Methadone was missed on 4 consecutive days (3 of them with no order at all), the last "
        "on 2027-01-31;"
    )


# ---- split_interval: per substance -------------------------------------------------------------


@pytest.mark.parametrize(
    "substance, now, fires",
    [
        ("methadone", at(12, 59), True),  # 4 hours after 09:00
        ("methadone", at(13, 0), False),
        ("buprenorphine", at(10, 59), True),  # 2 hours after 09:00
        ("buprenorphine", at(11, 0), False),
        ("naltrexone", at(9, 1), False),  # no interval: the order of the slots only
    ],
)
def test_the_split_interval_is_per_substance(substance: str, now, fires: bool) -> None:
    s = situation(
        order=order(substance=substance),
        planned=plan("am", "pm", mg="8"),
        given=(observed("am", at(9)),),
        now=now,
    )
    assert fired(s) == (["split_interval"] if fires else [])


# ---- split_take_home: the later part handed out in the same visit -------------------------------


def split_with_take_home() -> tuple[PlannedDose, ...]:
    return (
        PlannedDose(DAY, "am", D(30), None, "observed"),
        PlannedDose(DAY, "pm", D(30), None, "take_home"),
    )


def test_the_take_home_part_waits_for_the_observed_part() -> None:
    before = situation(planned=split_with_take_home())
    assert fired(before, slot="pm") == ["split_interval"]
    assert fired(before) == []  # the next due is the am part


def test_the_take_home_part_is_handed_out_right_after_the_observed_part() -> None:
    # No interval: the patient takes it later, at its time.
    given = (observed("am", at(9)),)
    s = situation(planned=split_with_take_home(), given=given, now=at(9, 5))
    assert fired(s) == []
    assert fired(s, slot="pm") == []


def test_a_take_home_day_is_not_a_split_take_home() -> None:
    # Every slot planned as a take-home (a take-home weekday): judged like any split.
    whole_day = tuple(PlannedDose(DAY, slot, D(30), None, "take_home") for slot in ("am", "pm"))
    given = (GivenDose("am", "observed", at(9)),)
    assert fired(situation(planned=whole_day, given=given, now=at(9, 5))) == ["split_interval"]
