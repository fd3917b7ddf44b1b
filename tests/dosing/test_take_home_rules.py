"""Take-home rules at their boundaries, as the "Take-home rules" table of
docs/clinical-rules.md states them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta

import pytest

from mat.dosing.screens import Screen, screen_days, step_back_positives, unexpected_positives
from mat.dosing.take_home_rules import take_home_ceiling_days, take_home_violations
from mat.profiles import Profile, load_profile
from mat.violations import Violation
from tests.support.rule_tables import TAKE_HOME_CEILING_BOUNDARIES

FEDERAL = load_profile("us-federal")
ADMITTED = date(2026, 11, 2)  # treatment day 1
TODAY = date(2027, 2, 1)  # long into treatment (day 92)


def day(n: int, start: date = TODAY) -> date:
    return start + timedelta(days=n)


def treatment_day(n: int) -> date:
    return day(n - 1, ADMITTED)


def span(first: date, count: int) -> list[date]:
    return [day(i, first) for i in range(count)]


def negative(collected_on: date) -> Screen:
    return Screen(collected_on, {"fentanyl": "negative", "cocaine": "negative"})


def positive(collected_on: date, *substances: str) -> Screen:
    return Screen(collected_on, dict.fromkeys(substances or ("fentanyl",), "positive"))


def everything(_: date) -> bool:
    return True


def nothing(_: date) -> bool:
    return False


def violations(
    dates: Sequence[date],
    *,
    today: date = TODAY,
    substance: str = "methadone",
    authorized: Callable[[date], bool] = everything,
    existing: Sequence[date] = (),
    closures: Sequence[date] = (),
    screens: Sequence[Screen] | None = None,
    signed_on: date = ADMITTED,
    profile: Profile = FEDERAL,
    **more: object,
) -> list[Violation]:
    """A request by a patient with a fresh negative screen and an order authorizing every day;
    ``more``: the other keywords of ``take_home_violations`` (exceptions, loss reports...)."""
    return take_home_violations(  # type: ignore[misc]
        dates,
        today=today,
        admitted_on=ADMITTED,
        substance=substance,
        authorized=authorized,
        existing_take_homes=frozenset(existing),
        closures=frozenset(closures),
        screens=[negative(today - timedelta(days=3))] if screens is None else screens,
        order_signed_on=signed_on,
        profile=profile,
        **more,
    )


def fired(dates: Sequence[date], **kwargs: object) -> list[str]:
    return [v.rule for v in violations(dates, **kwargs)]  # type: ignore[arg-type]


def test_a_plain_request_fires_nothing() -> None:
    assert violations(span(day(1), 3)) == []


# ---- take_home_not_authorized and clinic_closed -------------------------------------------------


def test_a_date_the_order_does_not_authorize_is_refused() -> None:
    saturday = date(2027, 2, 6)
    weekends = lambda d: d.weekday() >= 5  # noqa: E731
    assert fired([saturday], authorized=weekends) == []
    [found] = violations([day(2), saturday, day(3)], authorized=weekends)
    assert found == Violation(
        "take_home_not_authorized",
        "block",
        "The order does not authorize take-home doses on 2027-02-03 and 2027-02-04.",
    )


def test_a_closure_date_is_allowed_unauthorized_and_flagged() -> None:
    holiday = day(3)
    [found] = violations([holiday], authorized=nothing, closures=[holiday])
    assert found == Violation(
        "clinic_closed",
        "warn",
        "The clinic is closed on 2027-02-04: one take-home dose is allowed for that day and is "
        "flagged as a closure dose.",
    )
    assert fired([holiday], closures=[holiday]) == ["clinic_closed"]  # authorized: flagged too
    assert fired([day(2), holiday], authorized=nothing, closures=[holiday]) == [
        "take_home_not_authorized",
        "clinic_closed",
    ]


# ---- take_home_ceiling --------------------------------------------------------------------------


@pytest.mark.parametrize("day_of_treatment, days_requested, allowed", TAKE_HOME_CEILING_BOUNDARIES)
def test_methadone_runs_stay_within_the_ceiling_of_their_first_day(
    day_of_treatment: int, days_requested: int, allowed: bool
) -> None:
    first = treatment_day(day_of_treatment)
    dates = span(first, days_requested)
    found = fired(dates, today=first)
    assert (found == []) is allowed
    assert found in ([], ["take_home_ceiling"])


def test_the_ceiling_message_names_the_run_and_the_ceiling() -> None:
    [found] = violations(span(ADMITTED, 8), today=ADMITTED)
    assert found == Violation(
        "take_home_ceiling",
        "block",
        "Take-homes from 2026-11-02 to 2026-11-09 would make 8 consecutive take-home days from "
        "treatment day 1; during treatment days 1-14 at most 7 consecutive methadone take-home "
        "days are allowed.",
    )
    [later] = violations(span(treatment_day(31), 29), today=treatment_day(31))
    assert "during treatment day 31 on at most 28 consecutive" in later.message


@pytest.mark.parametrize("existing_days, allowed", [(6, True), (7, False)])
def test_take_homes_already_recorded_count_in_the_run(existing_days: int, allowed: bool) -> None:
    existing = span(ADMITTED, existing_days)
    next_day = day(existing_days, ADMITTED)
    assert (fired([next_day], today=ADMITTED, existing=existing) == []) is allowed
    # the day after the next one starts a run of its own
    assert fired([day(1, next_day)], today=ADMITTED, existing=existing) == []


def test_a_run_already_handed_out_is_not_judged_again() -> None:
    too_long = span(ADMITTED, 10)  # recorded under an earlier rule book
    assert fired([treatment_day(20)], today=ADMITTED, existing=too_long) == []


@pytest.mark.parametrize("requested, allowed", [(8, True), (9, False)])
def test_a_closure_day_inside_a_run_does_not_count_and_does_not_break_it(
    requested: int, allowed: bool
) -> None:
    dates = span(ADMITTED, requested)
    holiday = dates[3]
    found = fired(dates, today=ADMITTED, closures=[holiday])
    assert found == (["clinic_closed"] if allowed else ["take_home_ceiling", "clinic_closed"])


def test_the_ceiling_message_names_the_closure_days_not_counted() -> None:
    dates = span(ADMITTED, 9)
    found = violations(dates, today=ADMITTED, closures=[dates[3]])
    assert found[0].message.startswith(
        "Take-homes from 2026-11-02 to 2026-11-10 would make 8 consecutive take-home days "
        "(closure day 2026-11-05 not counted) from treatment day 1;"
    )


def test_a_closure_day_without_a_take_home_still_joins_the_days_around_it() -> None:
    # The patient cannot come on the closure day either: 4 + 4 days is a run of 8.
    before, holiday, after = span(ADMITTED, 4), day(4, ADMITTED), span(day(5, ADMITTED), 4)
    assert fired(after, today=ADMITTED, existing=before, closures=[holiday]) == [
        "take_home_ceiling"
    ]
    assert fired(after[1:], today=ADMITTED, existing=before, closures=[holiday]) == []


def test_a_closure_dose_alone_never_breaches_the_ceiling() -> None:
    existing = span(ADMITTED, 7)
    holiday = day(7, ADMITTED)
    assert fired([holiday], today=ADMITTED, existing=existing, closures=[holiday]) == [
        "clinic_closed"
    ]


@pytest.mark.parametrize("substance", ["buprenorphine", "naltrexone"])
def test_buprenorphine_and_naltrexone_have_no_ceiling(substance: str) -> None:
    assert fired(span(ADMITTED, 60), today=ADMITTED, substance=substance) == []
    assert take_home_ceiling_days(ADMITTED, ADMITTED, substance, FEDERAL) is None


@pytest.mark.parametrize(
    "day_of_treatment, ceiling", [(1, 7), (14, 7), (15, 14), (30, 14), (31, 28), (400, 28)]
)
def test_take_home_ceiling_days_for_the_dose_plan(day_of_treatment: int, ceiling: int) -> None:
    today = treatment_day(day_of_treatment)
    assert take_home_ceiling_days(today, ADMITTED, "methadone", FEDERAL) == ceiling


# ---- take_home_drug_screen ----------------------------------------------------------------------


@pytest.mark.parametrize("age_days, allowed", [(0, True), (30, True), (31, False)])
def test_the_newest_screen_is_at_most_30_days_old(age_days: int, allowed: bool) -> None:
    screens = [negative(day(-60)), negative(day(-age_days))]
    assert (fired([day(1)], screens=screens) == []) is allowed


def test_no_screen_at_all_is_refused() -> None:
    [found] = violations([day(1)], screens=[])
    assert found == Violation(
        "take_home_drug_screen",
        "block",
        "No urine drug screen is on record; take-home doses need a screen from the last 30 days.",
    )


def test_a_screen_collected_after_today_is_not_a_result_yet() -> None:
    assert fired([day(1)], screens=[negative(day(1))]) == ["take_home_drug_screen"]


def test_too_old_names_the_date_and_age() -> None:
    [found] = violations([day(1)], screens=[negative(day(-31))])
    assert found.message == (
        "The newest urine drug screen was collected on 2027-01-01, 31 days ago; take-home doses "
        "need a screen at most 30 days old."
    )


@pytest.mark.parametrize(
    "substance, results, allowed",
    [
        ("methadone", {"methadone": "positive"}, True),  # expected on methadone
        ("methadone", {"methadone": "positive", "fentanyl": "positive"}, False),
        ("methadone", {"buprenorphine": "positive"}, False),
        ("buprenorphine", {"buprenorphine": "positive"}, True),
        ("buprenorphine", {"methadone": "positive"}, False),
        ("naltrexone", {"alcohol": "positive"}, False),
        ("methadone", {"fentanyl": "negative", "cocaine": "negative"}, True),
    ],
)
def test_the_newest_screen_has_no_unexpected_positive(
    substance: str, results: dict[str, str], allowed: bool
) -> None:
    screens = [Screen(day(-2), results)]
    found = fired([day(1)], substance=substance, screens=screens)
    assert found == ([] if allowed else ["take_home_drug_screen"])


def test_an_older_positive_with_a_newer_negative_screen_passes() -> None:
    assert fired([day(1)], screens=[positive(day(-20)), negative(day(-2))]) == []


def test_a_positive_screen_message_names_the_substances() -> None:
    [found] = violations([day(1)], screens=[positive(day(-2), "fentanyl", "cocaine")])
    assert found.message == (
        "The newest urine drug screen (2027-01-30) is positive for fentanyl, cocaine, which the "
        "patient is not prescribed; take-home doses need a screen without unexpected positives."
    )


def test_screens_of_the_newest_date_are_read_together() -> None:
    same_day = [negative(day(-2)), positive(day(-2), "cocaine")]
    assert fired([day(1)], screens=same_day) == ["take_home_drug_screen"]


def test_too_old_and_positive_are_two_reasons() -> None:
    assert fired([day(1)], screens=[positive(day(-40))]) == ["take_home_drug_screen"] * 2


@pytest.mark.parametrize(
    "results, prescribed, unexpected",
    [
        ({"methadone": "positive"}, "methadone", []),
        ({"Methadone ": "Positive"}, "methadone", []),
        ({"methadone": "positive", "fentanyl": "positive"}, "methadone", ["fentanyl"]),
        ({"buprenorphine": "positive"}, "buprenorphine", []),
        ({"buprenorphine": "positive"}, "methadone", ["buprenorphine"]),
        ({"heroin/morphine": "positive", "oxycodone": "positive"}, "methadone",
         ["heroin/morphine", "oxycodone"]),
        ({"benzodiazepines": "positive", "amphetamines": "negative"}, "buprenorphine",
         ["benzodiazepines"]),
        ({"kratom": "positive"}, "naltrexone", ["kratom"]),  # any other name counts
        ({"cocaine": "negative", "alcohol": "negative"}, "methadone", []),
    ],
)  # fmt: skip
def test_unexpected_positives(
    results: dict[str, str], prescribed: str, unexpected: list[str]
) -> None:
    assert unexpected_positives(Screen(TODAY, results), prescribed) == unexpected


# ---- take_home_step_back ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "days_apart, fires",
    [
        (60, True),  # first to second collection within 60 days
        (61, False),
        (0, False),  # two results of one day's sample are one positive screen
    ],
)
def test_two_positive_screens_within_60_days_suspend_take_homes(
    days_apart: int, fires: bool
) -> None:
    second = day(-10)
    screens = [positive(day(-days_apart, second)), positive(second), negative(day(-2))]
    found = fired([day(1)], screens=screens)
    assert found == (["take_home_step_back"] if fires else [])


@pytest.mark.parametrize(
    "signed_on_offset, fires",
    [(0, True), (1, False)],  # signed on the second positive's day: still suspended
)
def test_an_order_signed_after_the_second_positive_lifts_the_step_back(
    signed_on_offset: int, fires: bool
) -> None:
    second = day(-10)
    screens = [positive(day(-30)), positive(second), negative(day(-2))]
    found = fired([day(1)], screens=screens, signed_on=day(signed_on_offset, second))
    assert found == (["take_home_step_back"] if fires else [])


def test_step_back_message() -> None:
    screens = [positive(day(-30)), positive(day(-10), "cocaine"), negative(day(-2))]
    [found] = violations([day(1)], screens=screens)
    assert found == Violation(
        "take_home_step_back",
        "block",
        "2 urine drug screens within 60 days were positive for substances the patient is not "
        "prescribed (on 2027-01-02 and 2027-01-22); take-home doses are suspended until a "
        "prescriber signs a new order after 2027-01-22 (the current order was signed on "
        "2026-11-02).",
    )


def test_expected_positives_never_count_toward_step_back() -> None:
    screens = [positive(day(-30), "methadone"), positive(day(-10), "methadone")]
    assert fired([day(1)], screens=screens) == []


def test_step_back_judges_the_latest_pair() -> None:
    days = screen_days(
        [positive(day(-200)), positive(day(-150)), positive(day(-60)), positive(day(-1))],
        "methadone",
        TODAY,
    )
    assert step_back_positives(days, 2, 60) == (day(-60), day(-1))
    assert step_back_positives(days, 2, 58) == (day(-200), day(-150))
    assert step_back_positives(days, 3, 60) is None


# ---- already_dosed, all at once, the profile ----------------------------------------------------


def test_a_date_requested_twice_or_already_taken_home_is_already_dosed() -> None:
    found = violations([day(1), day(2), day(1)], existing=[day(2)])
    assert found == [
        Violation(
            "already_dosed",
            "block",
            "2027-02-02 is requested more than once; each date takes one take-home dose.",
        ),
        Violation("already_dosed", "block", "A take-home dose is already recorded for 2027-02-03."),
    ]


def test_every_rule_that_fires_is_answered_at_once() -> None:
    today = treatment_day(5)
    dates = span(today, 9)  # 8 counted: the ceiling is 7
    screens = [positive(treatment_day(2)), positive(treatment_day(4))]
    rules = fired(
        [*dates, dates[0]],
        today=today,
        authorized=lambda d: d != dates[1],
        closures=[dates[4]],
        screens=screens,
    )
    assert rules == [
        "already_dosed",
        "take_home_not_authorized",
        "take_home_ceiling",
        "take_home_drug_screen",
        "take_home_step_back",
        "clinic_closed",
    ]


def test_numbers_come_from_the_profile() -> None:
    tiers = ((1, 5), (15, 14), (31, 28))
    state = replace(FEDERAL, id="us-xx", take_home_ceiling_days=tiers, drug_screen_max_age_days=14)
    assert fired(span(ADMITTED, 6), today=ADMITTED, profile=state) == ["take_home_ceiling"]
    assert fired([day(1)], screens=[negative(day(-15))], profile=state) == ["take_home_drug_screen"]
    assert take_home_ceiling_days(ADMITTED, ADMITTED, "methadone", state) == 5
