"""The patient dosing history PDF: what it shows, read back with pypdf."""

from __future__ import annotations

import io
from datetime import time, timedelta
from typing import Any

from pypdf import PdfReader

from tests.reports.conftest import DAY1, DAY2
from tests.reports.reading import text_cells


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text(extraction_mode="layout") for page in reader.pages)


def test_history_shows_orders_chart_and_every_record(api, clinic, clock, sign_order) -> None:
    staff, fox = clinic.staff, clinic.patients["fox"]

    def post(path: str, who: str, body: dict) -> None:
        response = api("post", path, as_=staff[who], json=body)
        assert response.status_code in (200, 201), response.get_json()

    # Day 2 afternoon: a hold set and released, a screen, a new order above the high-dose mark.
    clock.set(DAY2, time(14, 0))
    hold = api(
        "post", f"/api/v1/patients/{fox.id}/holds", as_=staff["nurse"], json={"reason": "Drowsy"}
    ).get_json()
    post(f"/api/v1/holds/{hold['id']}/release", "prescriber", {"reason": "Alert, reassessed"})
    screen = {"collected_on": DAY2.isoformat(), "results": {"cocaine": "positive"}}
    post(f"/api/v1/patients/{fox.id}/drug-screens", "nurse", screen)
    order = sign_order(
        fox,
        dose_mg=110,
        start_date=(DAY2 + timedelta(days=1)).isoformat(),
        justification="Stable on 110 mg at the previous program; ECG on file.",
    )
    assert order["warnings"], order
    # Day 3: the dose is withheld.
    clock.set(DAY2 + timedelta(days=1), time(9, 0))
    post(f"/api/v1/patients/{fox.id}/doses/withheld", "nurse", {"reason": "Appeared intoxicated"})

    response = api(
        "get",
        f"/api/v1/patients/{fox.id}/history?from={DAY1}&to={DAY2 + timedelta(days=1)}",
        as_=staff["prescriber"],
    )
    assert response.status_code == 200
    text = text_of(response.get_data())
    for expected in (
        "Dosing history  Fox, Di (MRN-400)",
        "Date of birth",
        f"Order #{order['id']}: METH-10MGML maintenance",
        "Justification: Stable on 110 mg at the previous program; ECG on file.",
        f"Warning {order['warnings'][0]['rule']}",
        "Planned and given dose per day (mg)",
        "Drowsy",
        "Alert, reassessed",
        "cocaine positive",
        "Appeared intoxicated",
        "late entry",
        "Confidential patient record (42 CFR Part 2",
    ):
        assert expected in text, expected
    # Fox's late entry for day 1 is a dose of 30 mg given by AN.
    assert any("observed" in line and "30" in line and "AN" in line for line in text.splitlines())


def test_history_lists_corrections_and_take_homes(api, clinic) -> None:
    cruz = clinic.patients["cruz"]
    response = api(
        "get",
        f"/api/v1/patients/{cruz.id}/history?from={DAY1}&to={DAY2}",
        as_=clinic.staff["auditor"],
    )
    text = text_of(response.get_data())
    assert "spill" in text and "Witnessed at the window." in text
    # The weekend take-homes handed out on day 1 are listed though their days are later.
    assert f"{DAY1 + timedelta(days=5)}" in text and "handed out" in text
    assert "No holds in these days." in text and "No dose was withheld in these days." in text


def test_names_outside_latin_1_print_as_written(api, factory, staff, sign_order, give) -> None:
    # A legal record must show "Nguyễn" and "Łukasz", not black boxes (embedded DejaVu Sans).
    patient = factory.patient(given_name="Łukasz", family_name="Nguyễn")
    sign_order(patient)
    assert give(patient, 40).status_code == 201
    history = api("get", f"/api/v1/patients/{patient.id}/history?format=pdf", as_=staff["auditor"])
    log = api(
        "get",
        "/api/v1/reports/dispensing-log?format=pdf&from=2026-11-16&to=2026-11-16",
        as_=staff["auditor"],
    )
    for response in (history, log):
        assert response.status_code == 200
        assert "Nguyễn, Łukasz" in text_of(response.get_data())


def test_the_log_pdf_cuts_nothing_of_a_row(api, factory, staff, sign_order, give) -> None:
    # 21 CFR 1304.24: an inspector matches a printed row to its patient and dose. An MRN or a
    # name wider than its column goes on over a further line of the row, never cut with "…".
    from mat.reports.log_pdf import COLUMNS
    from mat.reports.pdf_page import wrap

    mrn = "MRN-2026-WESTSIDE-000123"
    name = "Featherstonehaugh-Cholmondeley, Maximiliana"
    given, family = name.split(", ")[1], name.split(", ")[0]
    patient = factory.patient(mrn=mrn, given_name=given, family_name=family)
    sign_order(patient)
    assert give(patient, 40).status_code == 201
    text = text_of(_todays_log_pdf(api, staff))
    assert "…" not in text
    for whole, column in ((mrn, 1), (name, 2)):
        pieces = wrap(whole, COLUMNS[column][1])
        assert len(pieces) > 1, whole  # the test is about a text wider than its column
        assert "".join(pieces).replace(" ", "") == whole.replace(" ", "")
        for piece in pieces:
            assert piece in text, (piece, text[:3000])


def _todays_log_pdf(api: Any, staff: dict[str, Any]) -> bytes:
    """The dispensing log PDF of the test clinic's day, as the auditor downloads it."""
    log = api(
        "get",
        "/api/v1/reports/dispensing-log?format=pdf&from=2026-11-16&to=2026-11-16",
        as_=staff["auditor"],
    )
    assert log.status_code == 200
    return bytes(log.get_data())


def test_the_log_pdf_keeps_a_three_digit_dose_apart_from_its_volume(
    api, factory, staff, sign_order, give, clock
) -> None:
    # "105" mg beside "10.5 mL": the volume's column left 3 pt between them, so the row read as
    # "105 10.5 mL" run together.
    from mat.pdf_fonts import FONT, text_width
    from mat.reports.log_pdf import COLUMNS, TABLE

    patient = factory.patient(admitted_on=clock.now.date() - timedelta(days=120))
    sign_order(patient, dose_mg=105, justification="Stable on this dose for months.")
    assert give(patient, 105).status_code == 201
    cells = {text: x for x, _, text, _ in text_cells(_todays_log_pdf(api, staff))}
    left = cells["Time"]  # the table's left margin: its first column's title
    cells = {text: x - left for text, x in cells.items()}
    titles = [title for title, *_ in TABLE]
    mg_right = COLUMNS[titles.index("mg")][2]
    assert cells["105"] + text_width("105", FONT, 8) <= mg_right + 0.5  # right-aligned in mg
    assert cells["10.5 mL"] - mg_right >= 6, (mg_right, cells)  # a visible gap, not touching
