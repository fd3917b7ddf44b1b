"""Take-home labels print whole what identifies the bottle: a long hyphenated name, a long MRN and
a long lot come out complete, inside the label and clear of its QR code, on both formats; a label
that cannot hold them whole is refused, never printed cut; a Chinese name prints as written."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from mat.audit.models import AuditEvent
from mat.extensions import db
from mat.pdf_fonts import CJK_FILES
from mat.stock.labels import SHEET_LABEL, SHEET_LEFT, SHEET_TOP
from tests.stock.test_labels import qr_codes, render
from tests.stock.test_pages import page_text, signed_in
from tests.support.checks import assert_error, audited_refusals

FAMILY, GIVEN = "Featherstonehaugh-Cholmondeley", "Maximiliana-Josephine"  # 53 with ", "
MRN = "MRN-2026-WESTSIDE-000123"
LOT = "LOT-2026-ABCDEFGH-0001234567"
SCALE = 4  # the render's pixels per point
# (left, bottom, right, top) in points of the first label: the thermal page, the sheet's first
# label (top left of the Letter sheet).
BOXES = {
    "sheet": (SHEET_LEFT, 792 - SHEET_TOP - SHEET_LABEL[1], SHEET_LEFT + SHEET_LABEL[0], 792 - 36),
    "thermal": (0, 0, 144, 72),
}


def squeezed(text: str) -> str:
    """Without whitespace: a text wrapped over lines reads as the text."""
    return "".join(text.split())


def pdfium_text(data: bytes) -> str:
    """The first page's text as pdfium reads it (from the embedded fonts' character maps)."""
    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[0].get_textpage()
        text = page.get_text_range()
        page.close()
    finally:
        pdf.close()
    return text


def char_boxes(data: bytes) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every printed character of the first page with its glyph's box in points."""
    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[0].get_textpage()
        found = []
        for n in range(page.count_chars()):
            char = page.get_text_range(n, 1)
            if char.strip():
                found.append((char, page.get_charbox(n)))
        page.close()
    finally:
        pdf.close()
    return found


def qr_box(image, height: float) -> tuple[float, float, float, float]:
    """The QR code's modules as found by a decoder, in points (left, bottom, right, top)."""
    import zxingcpp

    (code,) = [
        r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]
    corners = [code.position.top_left, code.position.top_right]
    corners += [code.position.bottom_left, code.position.bottom_right]
    xs, ys = [p.x / SCALE for p in corners], [height - p.y / SCALE for p in corners]
    return min(xs), min(ys), max(xs), max(ys)


def overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.fixture
def long_patient(factory, receive):
    receive(LOT, 1000)
    return factory.patient(mrn=MRN, family_name=FAMILY, given_name=GIVEN)


@pytest.mark.parametrize("layout, size", [("sheet", (612, 792)), ("thermal", (144, 72))])
def test_a_long_name_mrn_and_lot_print_whole_inside_the_label(
    api, staff, long_patient, hand_out, layout, size
) -> None:
    saturday, _ = hand_out(long_patient)
    response = api(
        "get", f"/api/v1/doses/{saturday['id']}/label?layout={layout}", as_=staff["nurse"]
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_data()
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "…" not in text
    for whole in (f"{FAMILY}, {GIVEN}", f"MRN {MRN}", f"Lot {LOT}", "40 mg = 4 mL", "by TU"):
        assert squeezed(whole) in squeezed(text), (whole, text)
    # The wrapped name breaks between its words or after a hyphen, never inside a part.
    for part in ("Featherstonehaugh-", "Cholmondeley,", "Maximiliana-", "Josephine"):
        assert part in text, (part, text)
    images, page_size = render(data, f"label-{layout}-long", scale=SCALE)
    assert page_size == size  # the label keeps its physical size
    assert qr_codes(images[0]) == [str(saturday["id"])]
    box = BOXES[layout]
    qr = qr_box(images[0], size[1])
    chars = char_boxes(data)
    assert len(chars) > 200
    for char, (left, bottom, right, top) in chars:
        if layout == "sheet" and top < box[1]:
            continue  # the second label, in the row below
        assert box[0] <= left and right <= box[2] and box[1] <= bottom and top <= box[3], char
        assert not overlaps((left, bottom, right, top), qr), (char, qr)


@pytest.mark.parametrize("layout", ["sheet", "thermal"])
def test_a_label_too_full_to_print_whole_is_refused(
    api, staff, factory, receive, hand_out, layout
) -> None:
    # 80 + 80 characters: what registration allows, more than either label holds whole.
    family = "Featherstonehaugh-Cholmondeley-Wolfeschlegelsteinhausenbergerdorff-Ashby"
    given = "Maximiliana-Josephine Alexandra-Konstantina Bartholomew-Evangeline Rose"
    receive(LOT, 1000)
    patient = factory.patient(mrn=MRN, family_name=family, given_name=given)
    saturday, _ = hand_out(patient)
    before = db.session.scalar(select(func.max(AuditEvent.id)))
    response = api(
        "get", f"/api/v1/doses/{saturday['id']}/label?layout={layout}", as_=staff["nurse"]
    )
    error = assert_error(response, 422, "label_does_not_fit")
    assert f"Dose {saturday['id']}" in error["message"]
    advice = "print the 4 x 2 inch sheet label" if layout == "thermal" else "by hand"
    assert advice in error["message"]
    assert audited_refusals()[-1] == (422, "label_does_not_fit", patient.id)
    printed = select(AuditEvent).where(AuditEvent.id > before, AuditEvent.action == "dose.label")
    assert db.session.scalars(printed).all() == []  # nothing was printed


def test_the_window_refuses_a_label_too_full_on_its_page(
    client, staff, factory, receive, hand_out
) -> None:
    family = "Featherstonehaugh-Cholmondeley-Wolfeschlegelsteinhausenbergerdorff-Ashby"
    receive(LOT, 1000)
    patient = factory.patient(mrn=MRN, family_name=family, given_name=GIVEN)
    hand_out(patient)
    signed_in(client, "nurse1")
    response = client.get(f"/window/{patient.id}/labels?layout=thermal")
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert "print the 4 x 2 inch sheet label instead" in page_text(response)
    assert audited_refusals() == [(422, "label_does_not_fit", patient.id)]
    sheet = client.get(f"/window/{patient.id}/labels?layout=sheet")
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    text = squeezed(PdfReader(io.BytesIO(sheet.get_data())).pages[0].extract_text())
    assert squeezed(f"{family}, {GIVEN}") in text and "…" not in text


@pytest.mark.skipif(
    not any(path.is_file() for path in CJK_FILES), reason="fonts-wqy-zenhei is not installed"
)
@pytest.mark.parametrize("layout", ["sheet", "thermal"])
def test_a_chinese_name_prints_as_written(api, staff, factory, receive, hand_out, layout) -> None:
    # Labels drew with the body font alone: the name printed as empty boxes.
    receive(LOT, 1000)
    patient = factory.patient(family_name="王", given_name="小明")
    saturday, _ = hand_out(patient)
    response = api(
        "get", f"/api/v1/doses/{saturday['id']}/label?layout={layout}", as_=staff["nurse"]
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "王, 小明" in pdfium_text(response.get_data())
