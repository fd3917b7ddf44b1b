"""The chart's SVG builder and the order form's reading of fields: pure functions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal

from werkzeug.datastructures import MultiDict

from mat.charts.order_form import order_body, plain_errors
from mat.charts.svg import ChartDay, dose_chart, summary

NS = {"s": "http://www.w3.org/2000/svg"}
START = date(2026, 9, 1)


def days(n: int = 10, **marks: set[int]) -> list[ChartDay]:
    return [
        ChartDay(
            START + timedelta(days=i),
            Decimal(40),
            Decimal(0) if i in marks.get("missed", set()) else Decimal(40),
            withheld=i in marks.get("withheld", set()),
            hold=i in marks.get("hold", set()),
            corrected=i in marks.get("corrected", set()),
            closed=i in marks.get("closed", set()),
        )
        for i in range(n)
    ]


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 (our own output, in a test)


def test_the_svg_is_well_formed_with_title_and_description() -> None:
    svg = parse(dose_chart(days(), title="Planned & given"))
    assert svg.get("role") == "img"
    assert svg.find("s:title", NS).text == "Planned & given"
    assert "10 days from 2026-09-01 to 2026-09-10" in svg.find("s:desc", NS).text
    assert svg.get("aria-labelledby") == "dose-chart-title dose-chart-desc"


def test_a_bar_per_given_day_and_one_planned_line() -> None:
    svg = parse(dose_chart(days(missed={3}), title="t"))
    bars = svg.findall("s:rect[@class='given']", NS)
    assert len(bars) == 9  # the missed day has no bar
    line = svg.findall("s:polyline[@class='planned']", NS)
    assert len(line) == 1 and len(line[0].get("points").split()) == 20  # two points a day


def test_each_mark_is_drawn_on_its_day() -> None:
    chart = days(withheld={1}, hold={2, 3}, corrected={4}, closed={5})
    svg = parse(dose_chart(chart, title="t"))
    assert len(svg.findall("s:polygon[@class='mark-withheld']", NS)) == 1
    assert len(svg.findall("s:rect[@class='band-hold']", NS)) == 2
    assert len(svg.findall("s:path[@class='mark-corrected']", NS)) == 1
    assert len(svg.findall("s:rect[@class='band-closed']", NS)) == 1
    text = summary(chart)
    assert "1 day withheld" in text and "2 days on hold" in text
    assert "1 day with a voided or spilled dose" in text and "1 day clinic closed" in text


def test_a_higher_dose_is_drawn_higher() -> None:
    chart = [ChartDay(START, Decimal(20), None), ChartDay(START + timedelta(days=1), Decimal(80))]
    points = parse(dose_chart(chart, title="t")).find("s:polyline", NS).get("points").split()
    y_low, y_high = float(points[0].split(",")[1]), float(points[2].split(",")[1])
    assert y_high < y_low  # SVG y grows downwards
    assert "planned 20 to 80 mg" in summary(chart)


def test_no_days_and_text_is_escaped() -> None:
    svg = parse(dose_chart([], title="<script>"))
    assert svg.find("s:title", NS).text == "<script>"
    assert summary([]) == "No days to show."


# ---- the order form -----------------------------------------------------------------------


def test_the_form_becomes_the_api_body() -> None:
    form = MultiDict(
        [
            ("medication", "METH-10MGML"),
            ("kind", "titration"),
            ("start_date", "2026-11-16"),
            ("titration_start_mg", "30"),
            ("titration_step_mg", "7.5"),
            ("titration_every_days", "3"),
            ("titration_target_mg", "60"),
            ("split_slot_1", "am"),
            ("split_fraction_1", "0.5"),
            ("split_slot_2", "pm"),
            ("split_fraction_2", "0.5"),
            ("take_home", "yes"),
            ("th_weekdays", "sat"),
            ("th_weekdays", "sun"),
            ("th_split_slots", "pm"),
            ("criterion_no_diversion", "no"),
            ("th_rationale", "Lock box."),
            ("justification", "  "),
        ]
    )
    body = order_body(form)
    assert body["titration"] == {
        "start_mg": Decimal(30),
        "step_mg": Decimal("7.5"),
        "every_days": 3,
        "target_mg": Decimal(60),
    }
    assert body["split"][1] == {"slot": "pm", "fraction": Decimal("0.5")}
    assert body["take_home"]["weekdays"] == ["sat", "sun"]
    assert body["take_home"]["split_slots"] == ["pm"]
    assert body["take_home"]["criteria"] == {"no_diversion": False}  # unanswered: left out
    assert "dose_mg" not in body and "taper" not in body and "justification" not in body


def test_text_that_is_not_a_number_stays_text_for_the_schema() -> None:
    body = order_body(MultiDict([("dose_mg", "forty"), ("steps", "2026-11-16 40\nsoon")]))
    assert body["dose_mg"] == "forty"
    assert body["steps"] == [
        {"date": "2026-11-16", "dose_mg": Decimal(40)},
        {"date": "soon", "dose_mg": None},
    ]
    assert order_body(MultiDict([("dose_mg", "NaN")]))["dose_mg"] == "NaN"


def test_schema_messages_in_plain_words() -> None:
    shown = plain_errors(
        {
            "dose_mg": ["Send a number, like 40 or 37.5, not text."],
            "steps": {"1": {"date": ["Use a date as YYYY-MM-DD."]}},
            "take_home": {"criteria": {"no_diversion": ["Answer true or false."]}},
        }
    )
    assert shown["Daily dose"] == ["Write a number, like 40 or 37.5."]
    assert shown["Steps, line 2"] == ["Use a date as YYYY-MM-DD."]
    assert shown["Take-home criterion: No known diversion of medication"] == [
        "Answer yes or no for each criterion."
    ]


def test_schema_paths_name_the_form_fields() -> None:
    from mat.charts.order_form import form_names

    names = form_names(
        {
            "titration": {"step_mg": ["x"]},
            "split": {"1": {"fraction": ["x"]}},
            "take_home": {"criteria": {"no_diversion": ["x"]}, "rationale": ["x"]},
            "steps": {"0": {"date": ["x"]}},
        }
    )
    assert names == {
        "titration_step_mg",
        "split_fraction_2",
        "criterion_no_diversion",
        "th_rationale",
        "steps",
    }


def test_generic_schema_messages_are_said_for_people() -> None:
    shown = plain_errors(
        {
            "take_home": {"weekdays": {"0": ["Must be one of: mon, tue."]}},
            "justification": ["Longer than maximum length 4000."],
            "titration": {"every_days": ["Must be greater than or equal to 1 and less than 90."]},
        }
    )
    assert shown["Take-home weekdays"] == ["Choose one of the listed options."]
    assert shown["Justification"] == ["Write at most 4000 characters."]
    assert shown["Titration: every … days"] == ["This number is out of range: check it."]
