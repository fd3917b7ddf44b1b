"""Every name the clinic can register prints in the PDFs, read back as text and rendered to a
picture; a name the fonts cannot print is refused at registration, never printed as boxes."""

from __future__ import annotations

import re

import pytest

from mat.pdf_fonts import FONTS
from tests.reports.reading import pdf_text
from tests.reports.test_pdf_render import render
from tests.support.checks import assert_error

pytestmark = pytest.mark.skipif(
    FONTS.fallback is None or FONTS.regular != "DejaVuSans",
    reason="the PDF fonts are not installed (make system-packages: fonts-dejavu-core, "
    "fonts-wqy-zenhei)",
)

NAMES = [
    ("Nguyễn", "Thị Minh Khai"),
    ("Żółć", "Łukasz"),
    ("Παπαδοπούλου", "Ζωή"),
    ("王", "小明"),
    ("桜井", "さくら"),
    ("김", "민준"),
]


def _register(api, staff, n: int, family: str, given: str) -> dict:
    body = {
        "mrn": f"SCRIPT-{n}",
        "given_name": given,
        "family_name": family,
        "date_of_birth": "1980-01-01",
        "admitted_on": "2026-11-02",
        "level_of_care": "outpatient",
    }
    response = api("post", "/api/v1/patients", as_=staff["admin"], json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _squeezed(pages: list[str]) -> str:
    # pypdf starts a new line where the font changes (DejaVu to the CJK font and back): compare
    # the characters, not the spacing.
    return re.sub(r"\s+", "", "".join(pages))


def test_every_script_prints_in_the_history_and_the_log(
    api, staff, factory, sign_order, give
) -> None:
    from mat.extensions import db
    from mat.patients.models import Patient

    patients = [_register(api, staff, n, *name) for n, name in enumerate(NAMES)]
    for body in patients:
        patient = db.session.get(Patient, body["id"])
        sign_order(patient)
        assert give(patient, 40).status_code == 201

    log = api(
        "get",
        "/api/v1/reports/dispensing-log?from=2026-11-16&to=2026-11-16&format=pdf",
        as_=staff["auditor"],
    ).get_data()
    text = _squeezed(pdf_text(log)[1])
    for family, given in NAMES:
        # A long name wraps onto a second line of its row (the log prints names whole): every
        # word is there, none cut with an ellipsis.
        words = f"{family}, {given}".split()
        assert all(_squeezed([word]) in text for word in words), (family, given, text)
    assert "\u2026" not in text  # no name cut short
    assert "\u25a1" not in text and "\ufffd" not in text  # no box, no unknown glyph
    render(log, "dispensing-log-scripts")

    cjk = patients[3]
    history = api(
        "get", f"/api/v1/patients/{cjk['id']}/history?format=pdf", as_=staff["auditor"]
    ).get_data()
    assert "王,小明" in _squeezed(pdf_text(history)[1])
    render(history, "history-cjk")


@pytest.mark.parametrize("family", ["محمد", "כהן", "शर्मा", "สมชาย", "🦄"])
def test_a_name_the_pdfs_cannot_print_is_refused_with_a_sentence(api, staff, family) -> None:
    body = {
        "mrn": "SCRIPT-X",
        "given_name": "Test",
        "family_name": family,
        "date_of_birth": "1980-01-01",
        "admitted_on": "2026-11-02",
        "level_of_care": "outpatient",
    }
    error = assert_error(api("post", "/api/v1/patients", as_=staff["admin"], json=body), 422)
    (message,) = error["fields"]["family_name"]
    assert message.startswith("The reports cannot print") and "U+" in message
