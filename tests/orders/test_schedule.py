"""Order schedules: every way of writing a dose becomes the same steps; planned doses per date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from mat.formulary.catalog import BY_CODE
from mat.orders.schedule import (
    PlannedDose,
    ScheduleError,
    Step,
    TakeHome,
    planned_doses,
    taper_steps,
)
from mat.orders.spec import (
    OrderSpec,
    Schedule,
    Taper,
    Titration,
    draft_schedule,
    spec_from_body,
    steps_of,
)

D = Decimal
METH = BY_CODE["METH-10MGML"]
METH_1 = BY_CODE["METH-1MGML"]
BUP_2 = BY_CODE["BUP-SL-2"]
BUP_8 = BY_CODE["BUP-SL-8"]
NTX = BY_CODE["NTX-TAB-50"]
MON = date(2026, 11, 2)  # a Monday


def day(n: int) -> date:
    """``day(0)`` is MON, ``day(3)`` three days later."""
    return MON + timedelta(days=n)


def steps(*pairs: tuple[int, str]) -> tuple[Step, ...]:
    return tuple(Step(day(n), D(mg)) for n, mg in pairs)


# ---- one representation -----------------------------------------------------------------------


def test_a_single_dose_is_one_open_ended_step() -> None:
    spec = OrderSpec("METH-10MGML", "maintenance", MON, dose_mg=D(60))
    assert steps_of(spec, METH) == Schedule(steps((0, "60")), None)


def test_an_end_date_ends_the_order() -> None:
    spec = OrderSpec("METH-10MGML", "maintenance", MON, end_date=day(6), dose_mg=D(60))
    assert steps_of(spec, METH).end == day(6)


def test_titration_rises_every_n_days_and_the_last_step_is_exactly_the_target() -> None:
    spec = OrderSpec("METH-10MGML", "titration", MON, titration=Titration(D(30), D(8), 3, D(45)))
    assert steps_of(spec, METH) == Schedule(steps((0, "30"), (3, "38"), (6, "45")), None)


def test_titration_stops_rising_at_the_end_date() -> None:
    titration = Titration(D(30), D(5), 3, D(80))
    spec = OrderSpec("METH-10MGML", "titration", MON, end_date=day(7), titration=titration)
    assert steps_of(spec, METH) == Schedule(steps((0, "30"), (3, "35"), (6, "40")), day(7))


def test_explicit_steps_and_a_titration_give_the_same_schedule() -> None:
    generated = OrderSpec(
        "METH-10MGML", "titration", MON, titration=Titration(D(30), D(5), 3, D(40))
    )
    written = OrderSpec(
        "METH-10MGML", "titration", MON, steps=((day(0), D(30)), (day(3), D(35)), (day(6), D(40)))
    )
    assert steps_of(generated, METH) == steps_of(written, METH)


def test_taper_rounds_each_percentage_step_half_up_to_what_the_product_measures() -> None:
    spec = OrderSpec("METH-10MGML", "taper", MON, taper=Taper(D(80), D(10), 14, D(0)))
    schedule = steps_of(spec, METH)
    # 80 -> 72 -> 64.8 ~ 65 -> 58.5 ~ 59 (half up) -> 53.1 ~ 53
    assert [s.dose_mg for s in schedule.steps[:5]] == [D(80), D(72), D(65), D(59), D(53)]
    assert [s.start for s in schedule.steps[:3]] == [day(0), day(14), day(28)]


def test_a_taper_to_zero_ends_after_the_smallest_step_has_run_its_days() -> None:
    spec = OrderSpec("METH-10MGML", "taper", MON, taper=Taper(D(80), D(10), 14, D(0)))
    schedule = steps_of(spec, METH)
    last = schedule.steps[-1]
    assert last.dose_mg == METH.smallest_step_mg == D(1)
    assert schedule.end == last.start + timedelta(days=13)


def test_a_taper_to_zero_written_as_steps_is_the_same_schedule() -> None:
    generated = steps_of(
        OrderSpec("METH-10MGML", "taper", MON, taper=Taper(D(6), D(10), 7, D(0))), METH
    )
    assert [s.dose_mg for s in generated.steps] == [D(6), D(5), D(4), D(3), D(2), D(1)]
    written = (*((s.start, s.dose_mg) for s in generated.steps), (day(42), D(0)))
    assert steps_of(OrderSpec("METH-10MGML", "taper", MON, steps=written), METH) == generated
    assert generated.end == day(41)


def test_a_taper_to_a_dose_holds_exactly_that_dose() -> None:
    spec = OrderSpec("METH-10MGML", "taper", MON, taper=Taper(D(60), D(10), 7, D(50)))
    # 60 -> 54 -> 48.6 would pass the end dose: the last step is exactly 50 mg, open-ended.
    assert steps_of(spec, METH) == Schedule(steps((0, "60"), (7, "54"), (14, "50")), None)


def test_a_taper_step_smaller_than_one_tablet_still_goes_down_one_tablet() -> None:
    spec = OrderSpec("BUP-SL-2", "taper", MON, taper=Taper(D(8), D(10), 7, D(0)))
    schedule = steps_of(spec, BUP_2)
    assert [s.dose_mg for s in schedule.steps] == [D(8), D(6), D(4), D(2)]
    assert schedule.end == day(27)


def test_a_whole_dose_taper_steps_to_the_smallest_amount_before_stopping() -> None:
    generated, end = taper_steps(MON, D(80), D(100), 7, D(0), METH)
    assert generated == [Step(MON, D(80)), Step(day(7), D(1))]
    assert end == day(13)


def test_an_end_date_cuts_a_taper_short() -> None:
    spec = OrderSpec(
        "METH-10MGML", "taper", MON, end_date=day(10), taper=Taper(D(80), D(10), 7, D(0))
    )
    assert steps_of(spec, METH) == Schedule(steps((0, "80"), (7, "72")), day(10))


def test_equal_consecutive_steps_are_one_step() -> None:
    spec = OrderSpec("METH-10MGML", "maintenance", MON, steps=((day(0), D(40)), (day(3), D(40))))
    assert steps_of(spec, METH).steps == steps((0, "40"))


def test_amounts_are_stored_the_way_a_prescriber_writes_them() -> None:
    written = steps_of(OrderSpec("METH-10MGML", "maintenance", MON, dose_mg=D("60.00")), METH)
    assert str(written.first_dose_mg) == "60"
    taper = steps_of(
        OrderSpec("METH-1MGML", "taper", MON, taper=Taper(D(80), D(10), 7, D(0))), METH_1
    )
    assert [str(s.dose_mg) for s in taper.steps[:4]] == ["80", "72", "64.8", "58.3"]


# ---- doses the product cannot measure are refused, never rounded ------------------------------


@pytest.mark.parametrize(
    "product, dose, measurable",
    [
        (METH, "50", True),
        (METH, "50.5", False),  # 0.05 mL of concentrate
        (METH_1, "50.1", True),
        (METH_1, "50.05", False),
        (BUP_8, "16", True),
        (BUP_8, "12", False),  # half of an 8 mg tablet: not scored
        (BUP_2, "3", False),
        (NTX, "25", True),  # scored: half a tablet
        (NTX, "12.5", False),
    ],
)
def test_a_dose_is_stored_only_when_the_product_measures_it(
    product: object, dose: str, measurable: bool
) -> None:
    spec = OrderSpec(product.code, "maintenance", MON, dose_mg=D(dose))  # type: ignore[attr-defined]
    if measurable:
        assert steps_of(spec, product).first_dose_mg == D(dose)  # type: ignore[arg-type]
    else:
        with pytest.raises(ScheduleError, match=f"{dose} mg cannot be measured") as refused:
            steps_of(spec, product)  # type: ignore[arg-type]
        assert refused.value.rule == "dose_not_measurable"


@pytest.mark.parametrize(
    "spec",
    [
        OrderSpec("METH-10MGML", "titration", MON, titration=Titration(D(30), D("2.5"), 3, D(40))),
        OrderSpec("METH-10MGML", "titration", MON, titration=Titration(D(30), D(5), 3, D("42.5"))),
        OrderSpec("METH-10MGML", "taper", MON, taper=Taper(D("80.5"), D(10), 7, D(0))),
        OrderSpec("METH-10MGML", "maintenance", MON, steps=((MON, D(40)), (day(3), D("42.5")))),
    ],
)
def test_every_written_amount_must_be_measurable(spec: OrderSpec) -> None:
    with pytest.raises(ScheduleError) as refused:
        steps_of(spec, METH)
    assert refused.value.rule == "dose_not_measurable"
    assert "which measures in steps of 1 mg (0.1 mL)" in refused.value.message
    assert draft_schedule(spec, METH).steps  # the rules still see the order as written


# ---- planned doses --------------------------------------------------------------------------


def test_one_observed_daily_dose_per_covered_date_with_its_volume() -> None:
    planned = planned_doses(steps((0, "60"), (2, "65")), day(3), (), None, METH, day(-5), day(9))
    assert planned == [
        PlannedDose(day(0), "daily", D(60), D("6.0"), "observed"),
        PlannedDose(day(1), "daily", D(60), D("6.0"), "observed"),
        PlannedDose(day(2), "daily", D(65), D("6.5"), "observed"),
        PlannedDose(day(3), "daily", D(65), D("6.5"), "observed"),
    ]


def test_tablets_have_no_volume() -> None:
    planned = planned_doses(steps((0, "8")), None, (), None, BUP_8, MON, MON)
    assert planned == [PlannedDose(MON, "daily", D(8), None, "observed")]


def test_a_zero_mg_day_plans_nothing() -> None:
    planned = planned_doses(
        steps((0, "5"), (1, "0"), (2, "5")), None, (), None, METH, day(0), day(2)
    )
    assert [p.date for p in planned] == [day(0), day(2)]


def test_a_split_dose_plans_each_slot() -> None:
    split = (("am", D("0.6")), ("pm", D("0.4")))
    planned = planned_doses(steps((0, "80")), None, split, None, METH, MON, MON)
    assert planned == [
        PlannedDose(MON, "am", D(48), D("4.8"), "observed"),
        PlannedDose(MON, "pm", D(32), D("3.2"), "observed"),
    ]


def test_take_home_on_authorized_weekdays_and_dates_observed_otherwise() -> None:
    take_home = TakeHome(weekdays=frozenset({"sat", "sun"}), dates=frozenset({day(2)}))
    planned = planned_doses(steps((0, "60")), None, (), take_home, METH, day(0), day(6))
    modes = {p.date.strftime("%a"): p.mode for p in planned}
    assert modes == {
        "Mon": "observed",
        "Tue": "observed",
        "Wed": "take_home",  # an authorized date
        "Thu": "observed",
        "Fri": "observed",
        "Sat": "take_home",
        "Sun": "take_home",
    }


@pytest.mark.parametrize(
    "split, says",
    [
        ((("am", D("0.5")), ("pm", D("0.4"))), "add up to 0.9, not 1"),
        ((("am", D("0.5")), ("pm", D("0.5"))), "The am part of 45 mg would be 22.5 mg"),
    ],
)
def test_a_split_the_product_cannot_measure_is_refused(split: tuple, says: str) -> None:
    with pytest.raises(ScheduleError, match=says) as refused:
        planned_doses(steps((0, "45")), None, split, None, METH, MON, day(3))
    assert refused.value.rule == "dose_not_measurable"


def test_a_dose_the_product_cannot_measure_is_refused_at_planning_too() -> None:
    with pytest.raises(ScheduleError, match="cannot be measured"):
        planned_doses(steps((0, "12")), None, (), None, BUP_8, MON, MON)


# ---- the order body --------------------------------------------------------------------------


def test_spec_from_the_loaded_order_body() -> None:
    body = {
        "medication": "METH-10MGML",
        "kind": "titration",
        "start_date": MON,
        "end_date": None,
        "dose_mg": None,
        "steps": None,
        "titration": {"start_mg": D(30), "step_mg": D(5), "every_days": 3, "target_mg": D(80)},
        "taper": None,
        "split": [{"slot": "am", "fraction": D("0.5")}, {"slot": "pm", "fraction": D("0.5")}],
        "take_home": {"weekdays": ["sun"], "dates": [day(5)], "criteria": {}, "note": ""},
        "justification": "Stable for a year.",
    }
    spec = spec_from_body(body)
    assert spec.titration == Titration(D(30), D(5), 3, D(80))
    assert spec.split == (("am", D("0.5")), ("pm", D("0.5")))
    assert spec.take_home == TakeHome(frozenset({"sun"}), frozenset({day(5)}))
    assert spec.justification == "Stable for a year."


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"dose_mg": D(40), "steps": ((MON, D(40)),)}, ValueError),
        ({}, ValueError),
        ({"dose_mg": 40.0}, TypeError),  # floats round silently: refused
        ({"dose_mg": D(-5)}, ValueError),
        ({"steps": ((day(1), D(40)),)}, ValueError),  # steps start on the start date
        ({"steps": ((MON, D(40)), (MON, D(45)))}, ValueError),
        ({"dose_mg": D(40), "end_date": day(-1)}, ValueError),
        ({"dose_mg": D(40), "split": (("am", D("0.5")), ("am", D("0.5")))}, ValueError),
        ({"titration": Titration(D(30), D(5), 3, D(40))}, ValueError),  # not a titration order
    ],
)
def test_a_malformed_order_body_is_a_programming_error(kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        OrderSpec("METH-10MGML", "maintenance", MON, **kwargs)


def test_unknown_take_home_weekday() -> None:
    with pytest.raises(ValueError, match=r"'sat\.' is not a weekday"):
        TakeHome(weekdays=frozenset({"sat."}))
