"""Order rules at their boundaries, table by table as docs/clinical-rules.md states them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from mat.formulary.catalog import BY_CODE, Product
from mat.orders.rules import PatientHistory, order_violations
from mat.orders.schedule import TakeHome
from mat.orders.spec import OrderSpec, Taper, Titration
from mat.profiles import Profile, load_profile
from mat.violations import Violation
from tests.support.rule_tables import TAKE_HOME_CEILING_BOUNDARIES

D = Decimal
FEDERAL = load_profile("us-federal")
ADMITTED = date(2026, 11, 2)  # treatment day 1, a Monday
LATER = ADMITTED + timedelta(days=90)  # long into treatment


def day(n: int, start: date = LATER) -> date:
    return start + timedelta(days=n)


def order(
    code: str,
    kind: str = "maintenance",
    start: date = LATER,
    doses: tuple[tuple[int, str], ...] = (),
    **kwargs: object,
) -> OrderSpec:
    """An order of ``code``; ``doses`` as (days after start, mg) steps."""
    if doses:
        kwargs["steps"] = tuple((day(n, start), D(mg)) for n, mg in doses)
    return OrderSpec(code, kind, start, **kwargs)  # type: ignore[arg-type]


def history(current: str | None = None, since: int = -30, **kwargs: object) -> PatientHistory:
    dose = D(current) if current is not None else None
    since_day = day(since) if current is not None else None
    return PatientHistory(ADMITTED, dose, since_day, **kwargs)  # type: ignore[arg-type]


def fired(
    spec: OrderSpec,
    past: PatientHistory | None = None,
    rule: str | None = None,
    profile: Profile = FEDERAL,
) -> list[Violation]:
    product: Product = BY_CODE[spec.medication]
    found = order_violations(spec, product, past or history(), profile)
    return [v for v in found if rule is None or v.rule == rule]


# ---- methadone_first_day_max ----------------------------------------------------------------


@pytest.mark.parametrize(
    "code, day_one_mg, fires",
    [("METH-10MGML", "50", False), ("METH-1MGML", "50.1", True), ("METH-10MGML", "60", True)],
)
def test_methadone_day_one_is_at_most_50_mg(code: str, day_one_mg: str, fires: bool) -> None:
    spec = order(code, "induction", ADMITTED, dose_mg=D(day_one_mg))
    assert bool(fired(spec, rule="methadone_first_day_max")) is fires


def test_methadone_first_day_message_names_the_numbers() -> None:
    spec = order("METH-10MGML", "induction", ADMITTED, dose_mg=D(60))
    [found] = fired(spec, rule="methadone_first_day_max")
    assert found == Violation(
        "methadone_first_day_max",
        "justify",
        "Day 1 of treatment (2026-11-02): total methadone would be 60 mg; "
        "the first-day limit is 50 mg.",
    )


def test_an_induction_restarts_the_methadone_first_day_limit() -> None:
    found = fired(order("METH-10MGML", "induction", dose_mg=D(60)), rule="methadone_first_day_max")
    assert [v.message.split(":")[0] for v in found] == [f"Day 1 of the induction ({LATER})"]


def test_the_methadone_cap_is_day_one_only_and_not_for_a_maintenance_order_later() -> None:
    day_two = order("METH-10MGML", "maintenance", day(1, ADMITTED), dose_mg=D(55))
    assert not fired(day_two, history("50", since=-1), rule="methadone_first_day_max")
    assert not fired(order("METH-10MGML", dose_mg=D(60)), rule="methadone_first_day_max")


# ---- methadone_increase_step ----------------------------------------------------------------


@pytest.mark.parametrize("first_step_mg, fires", [("50", False), ("51", True)])
def test_an_increase_over_the_current_dose_is_at_most_10_mg(
    first_step_mg: str, fires: bool
) -> None:
    spec = order("METH-10MGML", "titration", doses=((0, first_step_mg),))
    assert bool(fired(spec, history("40"), "methadone_increase_step")) is fires


@pytest.mark.parametrize("next_step_mg, fires", [("50", False), ("51", True)])
def test_each_increase_in_the_steps_is_at_most_10_mg(next_step_mg: str, fires: bool) -> None:
    spec = order("METH-10MGML", "titration", doses=((0, "40"), (3, next_step_mg)))
    assert bool(fired(spec, history("40"), "methadone_increase_step")) is fires


@pytest.mark.parametrize("days_apart, fires", [(3, False), (2, True)])
def test_increases_are_at_least_3_days_apart(days_apart: int, fires: bool) -> None:
    spec = order("METH-10MGML", "titration", doses=((0, "45"), (days_apart, "50")))
    assert bool(fired(spec, history("40", since=-10), "methadone_increase_step")) is fires
    held = order("METH-10MGML", "titration", doses=((0, "45"),))
    assert bool(fired(held, history("40", since=-days_apart), "methadone_increase_step")) is fires


def test_a_generated_titration_names_every_breach_in_one_violation_per_kind() -> None:
    spec = order("METH-10MGML", "titration", titration=Titration(D(30), D(15), 2, D(90)))
    found = fired(spec, rule="methadone_increase_step")
    assert len(found) == 2
    assert found[0].message.startswith(f"Increases on {day(2)} from 30 mg to 45 mg (+15 mg), ")
    assert found[0].message.endswith("and 1 more; a single methadone increase is at most 10 mg.")
    assert found[1].message.endswith("; methadone increases are at least 3 days apart.")


def test_an_induction_is_not_an_increase_over_the_old_dose() -> None:
    spec = order("METH-10MGML", "induction", dose_mg=D(30))
    assert not fired(spec, history("10"), "methadone_increase_step")


# ---- high doses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, mg, rule, fires",
    [
        ("METH-10MGML", "100", "methadone_high_dose", False),
        ("METH-10MGML", "101", "methadone_high_dose", True),
        ("BUP-SL-2", "24", "buprenorphine_high_dose", False),
        ("BUP-SL-2", "26", "buprenorphine_high_dose", True),
    ],
)
def test_high_doses_warn(code: str, mg: str, rule: str, fires: bool) -> None:
    found = fired(order(code, dose_mg=D(mg)), history(mg), rule)
    assert [v.severity for v in found] == (["warn"] if fires else [])


# ---- buprenorphine_day1_max -------------------------------------------------------------------


@pytest.mark.parametrize(
    "day1_mg, day2_mg, fires",
    [
        ("8", "16", []),
        ("10", "16", ["Day 1"]),
        ("8", "18", ["Day 2"]),
        ("10", "18", ["Day 1", "Day 2"]),
    ],
)
def test_buprenorphine_day1_at_most_8_and_day2_at_most_16(
    day1_mg: str, day2_mg: str, fires: list[str]
) -> None:
    for kind, start in (("maintenance", ADMITTED), ("induction", LATER)):
        spec = order("BUP-SL-2", kind, start, doses=((0, day1_mg), (1, day2_mg)))
        found = fired(spec, rule="buprenorphine_day1_max")
        assert [v.message.split(" of ")[0] for v in found] == fires


def test_a_new_order_on_day_two_of_the_last_induction_keeps_the_day_two_limit() -> None:
    spec = order("BUP-SL-2", "maintenance", day(1), dose_mg=D(18))
    past = history("8", since=0, last_induction_start=LATER)
    [found] = fired(spec, past, "buprenorphine_day1_max")
    assert found.message == (
        f"Day 2 of the induction ({day(1)}): total buprenorphine would be 18 mg; "
        "the day-2 limit is 16 mg."
    )


# ---- taper_step_max ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, step_mg, fires",
    [
        ("METH-10MGML", "90", False),  # 10 %
        ("METH-10MGML", "89", True),  # 11 %
        ("METH-1MGML", "89.9", True),
    ],
)
def test_a_taper_step_is_at_most_10_percent(code: str, step_mg: str, fires: bool) -> None:
    spec = order(code, "taper", doses=((0, "100"), (7, step_mg)))
    assert bool(fired(spec, history("100"), "taper_step_max")) is fires


@pytest.mark.parametrize("days_apart, fires", [(7, False), (6, True)])
def test_taper_steps_are_at_least_7_days_apart(days_apart: int, fires: bool) -> None:
    spec = order("METH-10MGML", "taper", doses=((0, "100"), (7, "90"), (7 + days_apart, "81")))
    assert bool(fired(spec, history("100"), "taper_step_max")) is fires
    first_step = order("METH-10MGML", "taper", doses=((0, "90"),))
    assert bool(fired(first_step, history("100", since=-days_apart), "taper_step_max")) is fires


@pytest.mark.parametrize(
    "code, before, after, fires",
    [
        ("METH-10MGML", "59", "53", False),  # 53.1 mg is not measurable: 53 is the nearest
        ("METH-1MGML", "59", "53", True),  # 53.1 mg is: 53 is more than 10 %
        ("METH-10MGML", "5", "4", False),  # one step of the product is the least it can lower
    ],
)
def test_a_taper_step_may_round_to_what_the_product_measures(
    code: str, before: str, after: str, fires: bool
) -> None:
    spec = order(code, "taper", doses=((0, before), (7, after)))
    assert bool(fired(spec, history(before), "taper_step_max")) is fires


def test_a_generated_ten_percent_taper_to_zero_does_not_warn_about_itself() -> None:
    spec = order("METH-10MGML", "taper", taper=Taper(D(80), D(10), 7, D(0)))
    assert fired(spec, history("80")) == []


def test_lowering_a_maintenance_dose_is_not_a_taper_step() -> None:
    assert not fired(order("METH-10MGML", dose_mg=D(60)), history("80"), "taper_step_max")


# ---- dose_jump and dose_implausible -------------------------------------------------------------


@pytest.mark.parametrize("first_mg, fires", [("199", False), ("200", True)])
def test_dose_jump_fires_at_twice_the_current_dose(first_mg: str, fires: bool) -> None:
    spec = order("METH-1MGML", dose_mg=D(first_mg))
    found = fired(spec, history("100"), "dose_jump")
    assert [v.severity for v in found] == (["justify"] if fires else [])


def test_an_induction_or_a_switch_of_substance_is_not_a_jump() -> None:
    assert not fired(order("METH-10MGML", "induction", dose_mg=D(40)), history("10"), "dose_jump")
    switch = history("8", current_substance="buprenorphine")
    assert not fired(order("METH-10MGML", dose_mg=D(30)), switch, "dose_jump")


@pytest.mark.parametrize("first_mg, fires", [("99", False), ("100", True)])
def test_dose_implausible_at_ten_times_the_current_dose(first_mg: str, fires: bool) -> None:
    found = fired(order("METH-10MGML", dose_mg=D(first_mg)), history("10"), "dose_implausible")
    assert [v.severity for v in found] == (["block"] if fires else [])


@pytest.mark.parametrize(
    "code, mg, fires",
    [("METH-10MGML", "300", False), ("METH-10MGML", "301", True),
     ("BUP-SL-2", "32", False), ("BUP-SL-2", "34", True)],
)  # fmt: skip
def test_dose_implausible_above_the_absolute_ceiling(code: str, mg: str, fires: bool) -> None:
    found = fired(order(code, dose_mg=D(mg)), history(mg), "dose_implausible")
    assert bool(found) is fires


def test_naltrexone_has_no_ceiling_and_no_first_day_rules() -> None:
    assert fired(order("NTX-TAB-50", "induction", ADMITTED, dose_mg=D(25))) == []


# ---- dose_not_measurable ------------------------------------------------------------------------


def test_every_unmeasurable_amount_is_named() -> None:
    spec = order("METH-10MGML", doses=((0, "45.5"), (7, "40")))
    [found] = fired(spec, history("45"), "dose_not_measurable")
    assert found.severity == "block"
    assert found.message == (
        "The dose from 2027-01-31 of 45.5 mg cannot be measured with Methadone HCl oral "
        "concentrate 10 mg/mL, which measures in steps of 1 mg (0.1 mL)."
    )


@pytest.mark.parametrize(
    "dose_mg, split, fires",
    [
        ("40", (("am", D("0.5")), ("pm", D("0.5"))), False),
        ("40", (("am", D("0.25")), ("pm", D("0.75"))), False),
        ("40", (("am", D("0.5")), ("pm", D("0.4"))), True),  # adds up to 0.9
        ("45", (("am", D("0.5")), ("pm", D("0.5"))), True),  # 22.5 mg: 2.25 mL
    ],
)
def test_split_fractions_add_up_to_one_and_each_part_is_measurable(
    dose_mg: str, split: tuple[tuple[str, Decimal], ...], fires: bool
) -> None:
    spec = order("METH-10MGML", dose_mg=D(dose_mg), split=split)
    assert bool(fired(spec, history(dose_mg), "dose_not_measurable")) is fires


# ---- take_home_plan_ceiling -------------------------------------------------------------------


@pytest.mark.parametrize("day_of_treatment, days_requested, allowed", TAKE_HOME_CEILING_BOUNDARIES)
def test_take_home_runs_stay_within_the_ceiling_of_their_first_day(
    day_of_treatment: int, days_requested: int, allowed: bool
) -> None:
    first = day(day_of_treatment - 1, ADMITTED)
    dates = frozenset(day(i, first) for i in range(days_requested))
    spec = order("METH-10MGML", start=ADMITTED, dose_mg=D(40), take_home=TakeHome(dates=dates))
    found = fired(spec, rule="take_home_plan_ceiling")
    assert (found == []) is allowed


def test_take_home_ceiling_message() -> None:
    dates = frozenset(day(i, ADMITTED) for i in range(8))
    spec = order("METH-10MGML", start=ADMITTED, dose_mg=D(40), take_home=TakeHome(dates=dates))
    [found] = fired(spec, rule="take_home_plan_ceiling")
    assert found.message == (
        "Take-homes are authorized for 8 consecutive days from 2026-11-02 (treatment day 1); "
        "during treatment days 1-14 at most 7 consecutive methadone take-home days are allowed."
    )


def test_weekday_take_homes_of_an_open_ended_order_are_judged_over_60_days() -> None:
    every_day = TakeHome(weekdays=frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"}))
    [found] = fired(order("METH-10MGML", dose_mg=D(40), take_home=every_day))
    assert "60 or more consecutive days" in found.message
    weekend = TakeHome(weekdays=frozenset({"sat", "sun"}))
    spec = order("METH-10MGML", start=ADMITTED, dose_mg=D(30), take_home=weekend)
    assert fired(spec) == []


def test_buprenorphine_take_homes_have_no_ceiling() -> None:
    every_day = TakeHome(weekdays=frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"}))
    assert fired(order("BUP-SL-8", dose_mg=D(16), take_home=every_day), history("16")) == []


# ---- all at once, from the profile ---------------------------------------------------------------


def test_every_rule_that_fires_is_answered_at_once() -> None:
    dates = frozenset(day(i, ADMITTED) for i in range(10))
    spec = order(
        "METH-10MGML", "induction", ADMITTED, dose_mg=D("350.5"), take_home=TakeHome(dates=dates)
    )
    rules = {v.rule for v in fired(spec)}
    assert rules == {
        "methadone_first_day_max",
        "methadone_first_dose_label",
        "methadone_high_dose",
        "dose_implausible",
        "dose_not_measurable",
        "take_home_plan_ceiling",
    }


def test_numbers_and_severities_come_from_the_profile() -> None:
    severities = dict(FEDERAL.severities) | {"methadone_high_dose": "justify"}
    state = replace(
        FEDERAL,
        id="us-xx",
        methadone_first_day_max_mg=D(40),
        severities=tuple(sorted(severities.items())),
    )
    spec = order("METH-10MGML", "induction", ADMITTED, dose_mg=D(45))
    assert [v.rule for v in fired(spec, profile=state)] == [
        "methadone_first_day_max",
        "methadone_first_dose_label",
    ]
    assert "the first-day limit is 40 mg" in fired(spec, profile=state)[0].message
    [high] = fired(order("METH-10MGML", dose_mg=D(120)), history("120"), profile=state)
    assert (high.rule, high.severity) == ("methadone_high_dose", "justify")
