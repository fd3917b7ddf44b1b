"""Order rules the 2024 rule book added or changed, at their boundaries: the methadone label's
first dose, the dose after missed days, inductions and dose_implausible, the take-home criteria,
SMA-168 exceptions at signing, and split take-home slots. Pure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mat.orders.rules import PatientHistory
from mat.orders.schedule import TakeHome
from mat.orders.spec import OrderSpec
from mat.orders.take_home_plan import ExceptionSpan, take_home_criteria_violations
from mat.violations import Violation
from tests.orders.test_rules import ADMITTED, FEDERAL, LATER, D, day, fired, history, order

HALVES = ((("am", D("0.5")), ("pm", D("0.5"))),)

# ---- methadone_first_dose_label: first single dose 30 mg, day-1 total 40 mg --------------------


@pytest.mark.parametrize(
    "code, dose_mg, split, fires",
    [
        ("METH-10MGML", "30", (), False),
        ("METH-1MGML", "30.1", (), True),  # the single dose passes 30 mg
        ("METH-10MGML", "40", (), True),  # one dose of 40: above 30 as a single dose
        ("METH-10MGML", "40", (("am", D("0.75")), ("pm", D("0.25"))), False),  # 30 + 10
        ("METH-10MGML", "40", (("am", D("0.8")), ("pm", D("0.2"))), True),  # 32 + 8
        ("METH-10MGML", "60", HALVES[0], True),  # 30 + 30: the total passes 40
        ("METH-10MGML", "40", HALVES[0], False),  # 20 + 20
    ],
)
def test_the_label_first_dose_and_day_1_total(
    code: str, dose_mg: str, split: tuple[tuple[str, Decimal], ...], fires: bool
) -> None:
    spec = order(code, "induction", ADMITTED, dose_mg=D(dose_mg), split=split)
    found = fired(spec, rule="methadone_first_dose_label")
    assert bool(found) is fires
    assert all(v.severity == "warn" for v in found)


def test_the_label_message_names_both_limits() -> None:
    spec = order("METH-10MGML", "induction", ADMITTED, dose_mg=D(45))
    [found] = fired(spec, rule="methadone_first_dose_label")
    assert found == Violation(
        "methadone_first_dose_label",
        "warn",
        "Day 1 of treatment (2026-11-02): the first single dose would be 45 mg (label: at most "
        "30 mg) and the day's total would be 45 mg (label: at most 40 mg); watch for sedation.",
    )


def test_the_label_judges_every_day_1_and_nothing_else() -> None:
    later_induction = order("METH-10MGML", "induction", dose_mg=D(35))
    assert [v.message.split(":")[0] for v in fired(later_induction, rule=None)] == [
        f"Day 1 of the induction ({LATER})"
    ]
    day_two = order("METH-10MGML", "maintenance", day(1, ADMITTED), dose_mg=D(35))
    assert fired(day_two, history("30", since=-1), "methadone_first_dose_label") == []
    assert fired(order("BUP-SL-8", "induction", ADMITTED, dose_mg=D(8)), rule=None) == []


# ---- dose_implausible: an induction is judged by the first-day rules ---------------------------


@pytest.mark.parametrize(
    "kind, dose_mg, fires",
    [
        ("induction", "40", []),  # restarting at 40 mg after a taper to 4 mg
        ("maintenance", "40", ["dose_implausible", "dose_jump"]),
        ("induction", "301", ["dose_implausible"]),  # the absolute ceiling still holds
    ],
)
def test_an_induction_after_a_taper_is_not_a_decimal_error(
    kind: str, dose_mg: str, fires: list[str]
) -> None:
    spec = order("METH-10MGML", kind, dose_mg=D(dose_mg))
    found = [v.rule for v in fired(spec, history("4"))]
    assert sorted(r for r in found if r in ("dose_implausible", "dose_jump")) == sorted(fires)


# ---- missed_doses_dose_not_reduced: half, and from 4 days the lower of half and 40 mg ----------


def after_missing(
    missed: int, last_mg: str = "100", substance: str = "methadone"
) -> PatientHistory:
    return PatientHistory(
        ADMITTED,
        missed_days=missed,
        last_dose_mg=D(last_mg),
        last_dose_substance=substance,
        last_dose_on=day(-missed - 1),
    )


@pytest.mark.parametrize(
    "missed, last_mg, first_mg, fires",
    [
        (2, "100", "100", False),  # no review: any dose
        (3, "100", "50", False),  # half
        (3, "100", "51", True),
        (4, "100", "40", False),  # the lower of 50 and 40
        (4, "100", "41", True),
        (4, "60", "30", False),  # the lower of 30 and 40
        (4, "60", "31", True),
        (9, "100", "41", True),  # 4 or more
        (3, "60", "30", False),
        (3, "60", "31", True),
    ],
)
def test_after_a_review_the_first_dose_is_reduced(
    missed: int, last_mg: str, first_mg: str, fires: bool
) -> None:
    spec = order("METH-10MGML", dose_mg=D(first_mg))
    found = fired(spec, after_missing(missed, last_mg), "missed_doses_dose_not_reduced")
    assert bool(found) is fires
    assert all(v.severity == "justify" for v in found)


def test_not_reduced_applies_to_methadone_after_methadone_only() -> None:
    bup = order("BUP-SL-8", dose_mg=D(16))
    assert (
        fired(bup, after_missing(5, "16", "buprenorphine"), "missed_doses_dose_not_reduced") == []
    )
    switch = order("METH-10MGML", dose_mg=D(40))
    assert (
        fired(switch, after_missing(5, "16", "buprenorphine"), "missed_doses_dose_not_reduced")
        == []
    )
    induction = order("METH-10MGML", "induction", dose_mg=D(45))
    assert fired(induction, after_missing(6), "missed_doses_dose_not_reduced")  # any kind


def test_the_not_reduced_message_names_the_numbers() -> None:
    spec = order("METH-10MGML", dose_mg=D(60))
    [found] = fired(spec, after_missing(4), "missed_doses_dose_not_reduced")
    assert found.message == (
        "After 4 missed days the first dose of 60 mg is above 40 mg, the lower of half of the "
        f"last dose given (100 mg on {day(-5)}) and 40 mg: tolerance may be lost; starting "
        "higher needs a justification."
    )


# ---- take_home_criteria: each "no" needs a justification ----------------------------------------

ALL_YES = (
    ("no_active_use_or_risk", True),
    ("no_behavioral_problems", True),
    ("no_diversion", True),
    ("regular_attendance", True),
    ("safe_transport_and_storage", True),
)


@pytest.mark.parametrize("criterion", [name for name, _ in ALL_YES])
def test_a_criterion_answered_no_fires(criterion: str) -> None:
    answers = tuple((name, name != criterion) for name, _ in ALL_YES)
    [found] = take_home_criteria_violations(answers, FEDERAL)
    assert (found.rule, found.severity) == ("take_home_criteria", "justify")
    assert f"answered no: {criterion} (" in found.message
    assert take_home_criteria_violations(ALL_YES, FEDERAL) == []


def test_every_no_is_named_in_one_violation() -> None:
    answers = (
        ("regular_attendance", False),
        ("no_diversion", False),
        ("no_active_use_or_risk", True),
    )
    [found] = take_home_criteria_violations(answers, FEDERAL)
    assert found.message.startswith(
        "The federal take-home criteria are answered no: regular_attendance (regular "
        "attendance); no_diversion (no known recent diversion);"
    )


def test_the_order_rules_judge_the_criteria_of_a_take_home_authorization() -> None:
    weekend = TakeHome(weekdays=frozenset({"sat", "sun"}))
    answers = (("safe_transport_and_storage", False),)
    spec = order("METH-10MGML", dose_mg=D(40), take_home=weekend, take_home_criteria=answers)
    assert [v.rule for v in fired(spec, history("40"))] == ["take_home_criteria"]
    no_take_home = order("METH-10MGML", dose_mg=D(40), take_home_criteria=answers)
    assert fired(no_take_home, history("40")) == []


# ---- take_home_plan_ceiling with an SMA-168 exception ------------------------------------------


def with_exception(first: date, last: date) -> PatientHistory:
    span = ExceptionSpan(3, "SMA-7", "SAMHSA (R. Roe)", date(2026, 11, 1), first, last)
    return history("40", take_home_exceptions=(span,))


def test_an_exception_lets_an_order_authorize_past_the_ceiling() -> None:
    # Day 91 of treatment: at most 28 consecutive days; 30 asked, the last two covered.
    dates = frozenset(day(n) for n in range(30))
    spec = order("METH-10MGML", dose_mg=D(40), take_home=TakeHome(dates=dates))
    assert [v.rule for v in fired(spec, history("40"))] == ["take_home_plan_ceiling"]
    found = fired(spec, with_exception(day(28), day(29)))
    assert [(v.rule, v.severity) for v in found] == [("take_home_exception", "warn")]
    assert "on 2027-02-28 to 2027-03-01 under exception SMA-7" in found[0].message
    not_enough = fired(spec, with_exception(day(29), day(29)))
    assert [v.rule for v in not_enough] == ["take_home_plan_ceiling"]
    assert "(2027-03-01 under an exception not counted)" in not_enough[0].message


# ---- split_slots -------------------------------------------------------------------------------


def test_split_take_home_slots_are_later_slots_of_the_split() -> None:
    criteria = (("regular_attendance", True),)
    ok = TakeHome(split_slots=frozenset({"pm"}))
    spec = OrderSpec("METH-10MGML", "maintenance", LATER, dose_mg=D(60), split=HALVES[0],
                     take_home=ok, take_home_criteria=criteria)  # fmt: skip
    assert fired(spec, history("60")) == []  # no take-home day: no ceiling, no refusal
    for slots, split in ((frozenset({"am"}), HALVES[0]), (frozenset({"noon"}), HALVES[0]),
                         (frozenset({"pm"}), ())):  # fmt: skip
        with pytest.raises(ValueError, match="later slots of the split"):
            OrderSpec("METH-10MGML", "maintenance", LATER, dose_mg=D(60), split=split,
                      take_home=TakeHome(split_slots=slots))  # fmt: skip
