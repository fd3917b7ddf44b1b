"""Dosing-window rules at their boundaries, as the "Dosing rules" table of
docs/clinical-rules.md states them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mat.dosing.rules import (
    DoseSituation,
    GivenDose,
    GoverningOrder,
    ScheduledDay,
    amount_violations,
    dose_violations,
    late_entry_violations,
    missed_run,
    next_due,
)
from mat.orders.schedule import PlannedDose
from mat.profiles import Profile, load_profile
from mat.violations import Violation

D = Decimal
FEDERAL = load_profile("us-federal")
CLINIC = timezone(timedelta(hours=-5))
ADMITTED = date(2026, 11, 2)  # treatment day 1
DAY = date(2027, 2, 1)  # the service date asked about, long into treatment
BEFORE = DAY - timedelta(days=1)  # the last scheduled day before it


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """A clinic-local moment."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CLINIC)


def plan(*slots: str, mg: str = "60") -> tuple[PlannedDose, ...]:
    """The observed doses planned for DAY, one per slot (default one "daily"), each of ``mg``."""
    return tuple(PlannedDose(DAY, s, D(mg), None, "observed") for s in slots or ("daily",))


def history(days: str) -> tuple[ScheduledDay, ...]:
    """Scheduled days ending the day before DAY, oldest first: ``T`` taken, ``m`` missed."""
    last = len(days) - 1
    return tuple(
        ScheduledDay(BEFORE - timedelta(days=last - i), mark == "T") for i, mark in enumerate(days)
    )


def order(
    kind: str = "maintenance", substance: str = "methadone", signed_on: date = ADMITTED
) -> GoverningOrder:
    return GoverningOrder(7, kind, substance, signed_on)


def situation(**changes: object) -> DoseSituation:
    """A patient due a 60 mg observed methadone dose on DAY at 09:00, nothing in the way."""
    base = DoseSituation(
        day=DAY,
        now=at(9),
        patient_active=True,
        admitted_on=ADMITTED,
        order=order(),
        planned=plan(),
        given=(),
        open_holds=(),
        recent_days=history("TTTTTTTTTTTTTT"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def fired(s: DoseSituation, slot: str | None = None, profile: Profile = FEDERAL) -> list[str]:
    return [v.rule for v in dose_violations(s, profile, slot)]


def observed(slot: str, when: datetime) -> GivenDose:
    return GivenDose(slot, "observed", when)


def test_nothing_in_the_way_nothing_fires() -> None:
    assert dose_violations(situation(), FEDERAL) == []


# ---- patient_not_active, no_active_order, patient_on_hold ----------------------------------------


@pytest.mark.parametrize(
    "active, admitted_on, fires",
    [
        (True, DAY, 0),  # the admission date is treatment day 1
        (True, DAY + timedelta(days=1), 1),  # not yet admitted
        (False, ADMITTED, 1),  # discharged
        (False, DAY + timedelta(days=1), 2),  # both, each named
    ],
)
def test_patient_not_active(active: bool, admitted_on: date, fires: int) -> None:
    s = situation(patient_active=active, admitted_on=admitted_on)
    assert fired(s) == ["patient_not_active"] * fires


def test_not_yet_admitted_names_both_dates() -> None:
    [found] = dose_violations(situation(admitted_on=date(2027, 2, 3)), FEDERAL)
    assert found == Violation(
        "patient_not_active", "block", "2027-02-01 is before the patient's admission on 2027-02-03."
    )


@pytest.mark.parametrize(
    "governing, planned, fires",
    [
        (order(), plan(), False),
        (None, (), True),  # no signed order covers the date
        (order(), (), True),  # the order plans nothing that day (ended, or 0 mg)
    ],
)
def test_no_active_order(
    governing: GoverningOrder | None, planned: tuple[PlannedDose, ...], fires: bool
) -> None:
    assert fired(situation(order=governing, planned=planned)) == (["no_active_order"] * fires)


def test_one_hold_violation_names_every_open_hold() -> None:
    s = situation(open_holds=("sedated at the window", "balance unpaid"))
    assert dose_violations(s, FEDERAL) == [
        Violation(
            "patient_on_hold",
            "block",
            'The patient has 2 open holds: "sedated at the window"; "balance unpaid"; no dose '
            "until they are released.",
        )
    ]
    assert fired(situation(open_holds=())) == []


# ---- already_dosed -------------------------------------------------------------------------------


def test_a_recorded_daily_dose_is_already_dosed() -> None:
    s = situation(given=(observed("daily", at(8, 5)),))
    assert next_due(s) is None
    assert dose_violations(s, FEDERAL) == [
        Violation(
            "already_dosed",
            "block",
            "The dose of 2027-02-01 is already recorded (given under observation at 08:05).",
        )
    ]


def test_a_take_home_for_the_date_is_already_dosed_too() -> None:
    handed_out = GivenDose("daily", "take_home", at(15, day=BEFORE))
    [found] = dose_violations(situation(given=(handed_out,)), FEDERAL)
    assert found.message == (
        "The dose of 2027-02-01 is already recorded (handed out to take home at 2027-01-31 15:00)."
    )


def test_split_doses_already_dosed_per_slot_and_when_every_slot_is_given() -> None:
    am_given = situation(planned=plan("am", "pm"), given=(observed("am", at(8)),), now=at(14))
    assert fired(am_given) == []  # the pm dose is due
    assert fired(am_given, "am") == ["already_dosed"]
    both = replace(am_given, given=(observed("am", at(8)), observed("pm", at(13))))
    assert dose_violations(both, FEDERAL)[0].message == (
        "Every dose planned for 2027-02-01 is already recorded (am given under observation at "
        "08:00, pm given under observation at 13:00)."
    )


def test_next_due_walks_the_slots_in_the_order_of_the_plan() -> None:
    s = situation(planned=plan("am", "pm"))
    assert next_due(s) == s.planned[0]
    assert next_due(replace(s, given=(observed("am", at(8)),))) == s.planned[1]
    assert next_due(situation(planned=())) is None


def test_a_slot_the_plan_does_not_have_is_an_input_error() -> None:
    with pytest.raises(ValueError, match="'noon' is not a slot planned for 2027-02-01"):
        dose_violations(situation(planned=plan("am", "pm")), FEDERAL, "noon")
    assert fired(situation(order=None, planned=()), "noon") == ["no_active_order"]


# ---- missed_doses_review and missed_doses_reinduction --------------------------------------------


@pytest.mark.parametrize(
    "substance, days, kind, signed_on, fires",
    [
        # 3 or more consecutive scheduled methadone days missed: review
        ("methadone", "TTmm", "maintenance", ADMITTED, []),
        ("methadone", "TTmmm", "maintenance", ADMITTED, ["missed_doses_review"]),
        ("methadone", "mmmmT", "maintenance", ADMITTED, []),  # a dose since: the run is over
        # lifted by a new order signed after the last missed day, not on it
        ("methadone", "TTmmm", "maintenance", BEFORE, ["missed_doses_review"]),
        ("methadone", "TTmmm", "maintenance", DAY, []),
        ("methadone", "TTmmm", "titration", DAY, []),  # any kind of order
        # 5 or more methadone: re-induction as well
        ("methadone", "Tmmmm", "maintenance", ADMITTED, ["missed_doses_review"]),
        ("methadone", "Tmmmmm", "maintenance", ADMITTED,
         ["missed_doses_review", "missed_doses_reinduction"]),
        ("methadone", "Tmmmmm", "maintenance", DAY, ["missed_doses_reinduction"]),
        ("methadone", "Tmmmmm", "induction", DAY, []),
        ("methadone", "Tmmmmm", "induction", BEFORE,
         ["missed_doses_review", "missed_doses_reinduction"]),
        # buprenorphine: no review, re-induction from 7
        ("buprenorphine", "Tmmmmmm", "maintenance", ADMITTED, []),
        ("buprenorphine", "Tmmmmmmm", "maintenance", ADMITTED, ["missed_doses_reinduction"]),
        ("buprenorphine", "Tmmmmmmm", "maintenance", DAY, ["missed_doses_reinduction"]),
        ("buprenorphine", "Tmmmmmmm", "induction", DAY, []),
        # naltrexone: neither
        ("naltrexone", "m" * 30, "maintenance", ADMITTED, []),
    ],
)  # fmt: skip
def test_missed_scheduled_days(
    substance: str, days: str, kind: str, signed_on: date, fires: list[str]
) -> None:
    s = situation(order=order(kind, substance, signed_on), recent_days=history(days))
    assert fired(s) == fires


def test_missed_days_messages_name_the_run_the_last_day_and_the_order() -> None:
    s = situation(recent_days=history("Tmmmmm"), order=order("maintenance", signed_on=ADMITTED))
    review, reinduction = dose_violations(s, FEDERAL)
    assert review.message == (
        "Methadone was missed on 5 consecutive days, the last on 2027-01-31; after 3 "
        "missed days no dose is given until a prescriber signs a new order after 2027-01-31 "
        "(the current order was signed on 2026-11-02)."
    )
    assert reinduction.message == (
        "Methadone was missed on 5 consecutive days, the last on 2027-01-31; after 5 "
        "missed days treatment restarts with an induction order signed after 2027-01-31 "
        "(the current order is a maintenance order signed on 2026-11-02)."
    )


def test_days_the_order_did_not_plan_neither_count_nor_break_the_run() -> None:
    # Weekend days the clinic does not dose are not in the list: Fri, Mon, Tue missed is 3.
    fri, mon, tue = date(2027, 1, 22), date(2027, 1, 25), date(2027, 1, 26)
    recent = (
        ScheduledDay(date(2027, 1, 21), True),
        *(ScheduledDay(d, False) for d in (fri, mon, tue)),
    )
    assert missed_run(recent) == (3, tue)
    s = situation(day=date(2027, 1, 27), now=at(9, day=date(2027, 1, 27)), recent_days=recent,
                  planned=tuple(replace(p, date=date(2027, 1, 27)) for p in plan()))  # fmt: skip
    assert fired(s) == ["missed_doses_review"]


def test_missed_run_of_no_days_and_of_taken_days() -> None:
    assert missed_run(()) == (0, None)
    assert missed_run(history("mmT")) == (0, None)
    assert missed_run(history("Tm")) == (1, BEFORE)


# ---- split_interval ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now, fires",
    [(at(12, 59), ["split_interval"]), (at(13, 0), []), (at(16), [])],
)
def test_the_second_part_is_at_least_4_hours_after_the_first(
    now: datetime, fires: list[str]
) -> None:
    s = situation(planned=plan("am", "pm", mg="30"), given=(observed("am", at(9)),), now=now)
    assert fired(s) == fires
    assert fired(s, "pm") == fires


def test_split_interval_names_the_earliest_time() -> None:
    s = situation(planned=plan("am", "pm", mg="30"), given=(observed("am", at(9, 10)),), now=at(11))
    assert dose_violations(s, FEDERAL) == [
        Violation(
            "split_interval",
            "block",
            "The pm dose of 2027-02-01 may be given from 13:10, 4 hours after the am dose (given "
            "under observation at 09:10); it is now 11:00.",
        )
    ]


def test_a_slot_behind_one_already_given_is_past() -> None:
    s = situation(planned=plan("am", "pm", mg="30"), given=(observed("pm", at(15)),), now=at(20))
    assert next_due(s) == s.planned[0]
    [found] = dose_violations(s, FEDERAL)
    assert found.rule == "split_interval"
    assert found.message == (
        "The am dose of 2027-02-01 can no longer be given: the pm dose, which comes after it, is "
        "already recorded (given under observation at 15:00)."
    )


def test_the_interval_counts_from_the_latest_dose_of_three() -> None:
    three = plan("am", "noon", "pm", mg="20")
    given = (observed("am", at(7)), observed("noon", at(11, 30)))
    assert fired(situation(planned=three, given=given, now=at(15, 29))) == ["split_interval"]
    assert fired(situation(planned=three, given=given, now=at(15, 30))) == []


def test_the_first_slot_with_nothing_given_has_no_interval() -> None:
    assert fired(situation(planned=plan("am", "pm", mg="30"), now=at(0, 1))) == []


# ---- all at once ---------------------------------------------------------------------------------


def test_every_reason_is_listed_at_once() -> None:
    s = situation(
        patient_active=False,
        open_holds=("missed 5 days",),
        recent_days=history("TTmmmmm"),
        planned=plan("am", "pm", mg="30"),
        given=(observed("am", at(8)),),
        now=at(10),
    )
    assert fired(s) == [
        "patient_not_active",
        "patient_on_hold",
        "missed_doses_review",
        "missed_doses_reinduction",
        "split_interval",
    ]


def test_numbers_and_severities_come_from_the_profile() -> None:
    severities = dict(FEDERAL.severities) | {"late_entry": "justify"}
    state = replace(
        FEDERAL,
        id="us-xx",
        missed_doses_review_days=2,
        split_min_interval_hours=(("methadone", 6), ("buprenorphine", 2)),
        severities=tuple(sorted(severities.items())),
    )
    assert fired(situation(recent_days=history("Tmm")), profile=state) == ["missed_doses_review"]
    split = situation(planned=plan("am", "pm", mg="30"), given=(observed("am", at(8)),), now=at(13))
    assert fired(split, profile=state) == ["split_interval"]
    [late] = late_entry_violations(BEFORE, DAY, "downtime", state)
    assert late.severity == "justify"


# ---- amount_mismatch -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "planned_mg, entered_mg, fires",
    [("60", "60", False), ("60", "60.0", False), ("60.0", "60", False),
     ("60", "59.9", True), ("60", "65", True), ("2.5", "25", True)],
)  # fmt: skip
def test_the_amount_entered_is_the_planned_dose(
    planned_mg: str, entered_mg: str, fires: bool
) -> None:
    planned = plan(mg=planned_mg)[0]
    assert bool(amount_violations(planned, D(entered_mg))) is fires


def test_amount_mismatch_gives_both_amounts() -> None:
    [found] = amount_violations(plan("am", "pm", mg="30")[1], D("35.0"))
    assert found == Violation(
        "amount_mismatch",
        "block",
        "The amount entered, 35 mg, is not the planned 30 mg for the pm dose of 2027-02-01; give "
        "the planned dose, or ask a prescriber to change the order.",
    )


# ---- late_entry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("days_back, fires", [(0, False), (1, True), (3, True)])
def test_a_dose_for_an_earlier_date_is_a_late_entry(days_back: int, fires: bool) -> None:
    found = late_entry_violations(DAY - timedelta(days=days_back), DAY, "downtime", FEDERAL)
    assert [v.severity for v in found] == (["warn"] if fires else [])


def test_late_entry_quotes_the_reason() -> None:
    [found] = late_entry_violations(date(2027, 1, 30), DAY, " power cut, paper log ", FEDERAL)
    assert found == Violation(
        "late_entry",
        "warn",
        'Recorded on 2027-02-01 for 2027-01-30, 2 days late (back-entry); reason: "power cut, '
        'paper log".',
    )
    [bare] = late_entry_violations(BEFORE, DAY, None, FEDERAL)
    assert bare.message.endswith("1 day late (back-entry); no reason given.")


# ---- properties of missed_run --------------------------------------------------------------------

marks = st.lists(st.booleans(), max_size=40)


def _days(taken: list[bool]) -> tuple[ScheduledDay, ...]:
    return history("".join("T" if t else "m" for t in taken))


@given(marks)
def test_missed_run_is_the_trailing_untaken_days(taken: list[bool]) -> None:
    run, last = missed_run(_days(taken))
    assert run <= taken.count(False)
    assert not any(taken[len(taken) - run :])
    assert run == len(taken) or taken[len(taken) - run - 1]  # the day before the run was taken
    assert last == (BEFORE if run else None)


@given(marks)
def test_a_taken_day_at_the_end_resets_the_run(taken: list[bool]) -> None:
    assert missed_run(_days([*taken, True])) == (0, None)


@given(marks, st.integers(1, 10))
def test_missing_more_days_only_lengthens_the_run(taken: list[bool], more: int) -> None:
    run, _ = missed_run(_days(taken))
    assert missed_run(_days([*taken, *[False] * more]))[0] == run + more
