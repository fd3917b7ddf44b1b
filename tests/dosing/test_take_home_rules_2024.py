"""The take-home rules the 2024 rule book changed, at their boundaries: closure days, screens
(other prescribed substances, the treatment medication missing, how often), SMA-168 exceptions
and take-home loss reports. Pure: the same ``violations`` helper as test_take_home_rules.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mat.dosing.screens import Screen, screen_frequency_violations, treatment_medication_negative
from mat.dosing.take_home_rules import exception_dates, loss_report_violations
from mat.orders.take_home_plan import ExceptionSpan
from mat.violations import Violation
from tests.dosing.test_take_home_rules import (
    ADMITTED,
    FEDERAL,
    TODAY,
    day,
    fired,
    negative,
    nothing,
    positive,
    span,
    treatment_day,
    violations,
)

# ---- clinic_closed: one take-home whatever the ceiling and the screens ------------------------


@pytest.mark.parametrize(
    "screens",
    [
        [positive(day(-2))],  # fentanyl positive
        [negative(day(-60))],  # too old
        [],  # none at all
        [positive(day(-40)), positive(day(-2))],  # step-back
        [Screen(day(-2), {"methadone": "negative"})],  # the medication missing
    ],
)
def test_a_closure_date_alone_passes_whatever_the_screens(screens: list[Screen]) -> None:
    holiday = day(3)
    assert fired([holiday], closures=[holiday], screens=screens, authorized=nothing) == [
        "clinic_closed"
    ]


def test_a_request_with_an_open_day_besides_the_closure_is_judged_by_the_screens() -> None:
    holiday = day(3)
    found = fired([day(2), holiday], closures=[holiday], screens=[positive(day(-2))])
    assert found == ["take_home_drug_screen", "clinic_closed"]


def test_a_patient_not_in_maintenance_gets_no_closure_allowance() -> None:
    # Detox (short-term withdrawal management) and inpatients: a closure date is an ordinary one.
    holiday = day(3)
    found = fired(
        [holiday],
        closures=[holiday],
        screens=[positive(day(-2))],
        authorized=nothing,
        in_maintenance=False,
    )
    assert found == ["take_home_not_authorized", "take_home_drug_screen"]


# ---- take_home_drug_screen: other prescribed substances, the medication missing ----------------


@pytest.mark.parametrize(
    "other_prescribed, results, allowed",
    [
        ((), {"benzodiazepines": "positive"}, False),
        (("benzodiazepines",), {"benzodiazepines": "positive"}, True),
        (("benzodiazepines",), {"benzodiazepines": "positive", "cocaine": "positive"}, False),
        (("amphetamines",), {"benzodiazepines": "positive"}, False),
        (("Benzodiazepines ",), {" BENZODIAZEPINES": "Positive"}, True),  # trimmed, case-blind
    ],
)
def test_a_substance_prescribed_elsewhere_is_expected(
    other_prescribed: tuple[str, ...], results: dict[str, str], allowed: bool
) -> None:
    screens = [Screen(day(-2), {"methadone": "positive", **results})]
    found = fired([day(1)], screens=screens, other_prescribed=other_prescribed)
    assert (found == []) is allowed


@pytest.mark.parametrize(
    "substance, results, refused",
    [
        ("methadone", {"methadone": "positive"}, False),
        ("methadone", {"methadone": "negative"}, True),
        ("methadone", {"fentanyl": "negative"}, False),  # methadone not tested: says nothing
        ("buprenorphine", {"buprenorphine": "negative"}, True),
        ("buprenorphine", {"buprenorphine": "positive", "methadone": "negative"}, False),
        ("naltrexone", {"methadone": "negative"}, False),  # not on the panel
    ],
)
def test_a_screen_negative_for_the_treatment_medication_refuses_take_homes(
    substance: str, results: dict[str, str], refused: bool
) -> None:
    found = fired([day(1)], substance=substance, screens=[Screen(day(-2), results)])
    assert found == (["take_home_drug_screen"] if refused else [])


def test_the_medication_missing_names_the_screen_and_the_reason() -> None:
    [found] = violations([day(1)], screens=[Screen(day(-2), {"methadone": "negative"})])
    assert found == Violation(
        "take_home_drug_screen",
        "block",
        "The newest urine drug screen (2027-01-30) is negative for methadone, the patient's own "
        "treatment medication: a sign the doses are not being taken (possible diversion); "
        "take-home doses need a screen that finds it.",
    )


def test_screens_of_one_date_are_one_sample_for_the_medication() -> None:
    same_day = [Screen(day(-2), {"methadone": "negative"}), Screen(day(-2), {"methadone": "pos"})]
    assert treatment_medication_negative(same_day, "methadone", day(-2))
    same_day[1] = Screen(day(-2), {"methadone": "positive"})
    assert not treatment_medication_negative(same_day, "methadone", day(-2))
    # An older negative does not count once a newer screen finds it.
    older = [Screen(day(-9), {"methadone": "negative"}), Screen(day(-2), {"methadone": "positive"})]
    assert fired([day(1)], screens=older) == []


# ---- drug_screen_frequency: 8 a year, pro rata in the first year -------------------------------


def screens_on(first: date, count: int, every: int = 7) -> list[date]:
    return [first + timedelta(days=n * every) for n in range(count)]


@pytest.mark.parametrize(
    "day_of_treatment, screens, fires",
    [
        (45, 0, False),  # 8 x 45 / 365 = 0.99: none due yet
        (46, 0, True),  # the first is due
        (46, 1, False),
        (92, 1, True),  # two due
        (92, 2, False),
        (365, 7, True),  # a whole year: eight due
        (365, 8, False),
        (800, 7, True),  # the last 365 days only
        (800, 8, False),
    ],
)
def test_eight_screens_a_year_of_treatment(
    day_of_treatment: int, screens: int, fires: bool
) -> None:
    today = treatment_day(day_of_treatment)
    collected = screens_on(today - timedelta(days=7 * screens - 1), screens)
    found = screen_frequency_violations(collected, ADMITTED, today, FEDERAL)
    assert [v.rule for v in found] == (["drug_screen_frequency"] if fires else [])


def test_screens_before_the_year_or_the_episode_do_not_count() -> None:
    today = treatment_day(800)
    old = [today - timedelta(days=365 + n) for n in range(20)]  # day 365 back: outside
    [found] = screen_frequency_violations(old, ADMITTED, today, FEDERAL)
    assert found.message == (
        "0 urine drug screens in the last 365 days; 8 are due at 8 a year. Collect a screen."
    )
    readmitted = today - timedelta(days=50)  # a new episode 51 days ago: 1 due
    [found] = screen_frequency_violations(old, readmitted, today, FEDERAL)
    assert found.severity == "warn"
    assert "in the 51 days of treatment since" in found.message
    assert "1 is due at 8 a year (pro rata in the first year)" in found.message


def test_screens_of_one_date_count_once() -> None:
    today = treatment_day(100)
    assert screen_frequency_violations([today, today], ADMITTED, today, FEDERAL)  # 2 due


# ---- take_home_exception: SMA-168 lets the dates it covers pass the ceiling --------------------

DAY_20 = treatment_day(20)  # the 15-30 tier: at most 14 consecutive days


def exception(first: date, last: date, number: str = "SMA-2026-41") -> ExceptionSpan:
    return ExceptionSpan(1, number, "State OTA (J. Doe)", date(2026, 11, 10), first, last)


@pytest.mark.parametrize(
    "requested, covered, expected",
    [
        (14, None, []),
        (15, None, ["take_home_ceiling"]),
        (15, (14, 14), ["take_home_exception"]),  # the 15th day is covered
        (15, (0, 0), ["take_home_exception"]),  # the first day is covered
        (15, (7, 7), ["take_home_exception"]),  # a day in the middle: neither counts nor breaks
        (16, (14, 14), ["take_home_ceiling"]),  # 15 counted
        (16, (14, 15), ["take_home_exception"]),
        (28, (0, 27), ["take_home_exception"]),  # all covered
        (14, (0, 13), []),  # not needed: not named
    ],
)
def test_an_exception_lets_the_dates_it_covers_pass_the_ceiling(
    requested: int, covered: tuple[int, int] | None, expected: list[str]
) -> None:
    dates = span(DAY_20, requested)
    spans = [] if covered is None else [exception(dates[covered[0]], dates[covered[1]])]
    assert fired(dates, today=DAY_20, exceptions=spans) == expected


def test_the_exception_warning_names_the_dates_and_the_approval() -> None:
    dates = span(DAY_20, 16)
    found = violations(dates, today=DAY_20, exceptions=[exception(dates[14], dates[15])])
    assert found == [
        Violation(
            "take_home_exception",
            "warn",
            "Take-homes pass the ceiling on 2026-12-05 to 2026-12-06 under exception "
            "SMA-2026-41 (approved by State OTA (J. Doe) on 2026-11-10, covering 2026-12-05 to "
            "2026-12-06).",
        )
    ]
    let_through = exception_dates(
        dates,
        admitted_on=ADMITTED,
        existing_take_homes=frozenset(),
        closures=frozenset(),
        exceptions=[exception(dates[14], dates[15])],
        profile=FEDERAL,
    )
    assert sorted(let_through) == dates[14:]


def test_an_exception_never_lets_the_days_around_it_through() -> None:
    # 10 uncovered days, 3 covered, 10 uncovered: one run of 20 counted days.
    dates = span(DAY_20, 23)
    [found] = violations(dates, today=DAY_20, exceptions=[exception(dates[10], dates[12])])
    assert found.rule == "take_home_ceiling"
    assert "would make 20 consecutive take-home days" in found.message
    assert "(2026-12-01, 2026-12-02 and 2026-12-03 under an exception not counted)" in found.message


def test_existing_take_homes_count_and_only_requested_dates_are_let_through() -> None:
    existing = span(DAY_20, 14)
    extra = day(14, DAY_20)
    spans = [exception(DAY_20, extra)]  # covers the days already handed out too
    assert fired([extra], today=DAY_20, existing=existing, exceptions=spans) == [
        "take_home_exception"
    ]
    let_through = exception_dates(
        [extra],
        admitted_on=ADMITTED,
        existing_take_homes=frozenset(existing),
        closures=frozenset(),
        exceptions=spans,
        profile=FEDERAL,
    )
    assert list(let_through) == [extra]


def test_buprenorphine_needs_no_exception() -> None:
    dates = span(DAY_20, 40)
    assert (
        fired(dates, today=DAY_20, substance="buprenorphine", exceptions=[exception(*dates[:2])])
        == []
    )


# ---- take_home_loss: two loss reports in 90 days warn at every take-home -----------------------


@pytest.mark.parametrize(
    "reports, warns",
    [
        ([], False),
        ([TODAY], False),
        ([TODAY - timedelta(days=89), TODAY], True),
        ([TODAY - timedelta(days=90), TODAY], False),
        ([TODAY - timedelta(days=89), TODAY - timedelta(days=40)], True),
        ([TODAY - timedelta(days=200), TODAY - timedelta(days=150)], False),
    ],
)
def test_two_loss_reports_in_90_days_warn(reports: list[date], warns: bool) -> None:
    found = fired([day(1)], loss_reports=reports)
    assert found == (["take_home_loss"] if warns else [])


def test_the_loss_warning_names_the_reports() -> None:
    [found] = loss_report_violations([TODAY - timedelta(days=3), TODAY], TODAY, FEDERAL)
    assert found == Violation(
        "take_home_loss",
        "warn",
        "2 take-home doses were reported lost, stolen or spilled in the last 90 days "
        "(2027-01-29 and 2027-02-01); a prescriber reviews the take-home plan.",
    )
