"""Take-home bottle labels: the PDF read back, rendered to PNG, and its QR code decoded to the
dose id; empty bottles scanned back."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from pypdf import PdfReader

from mat.stock.records import BottleReturn
from tests.stock.conftest import SATURDAY
from tests.support.checks import assert_error, count

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def render(data: bytes, name: str, scale: float = 4) -> tuple[list, tuple[int, int]]:
    """Each page as a PIL image (saved as test-artifacts/NAME-n.png) and the first page's size
    in points."""
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = pdfium.PdfDocument(data)
    try:
        size = tuple(round(v) for v in pdf[0].get_size())
        images = [page.render(scale=scale).to_pil() for page in pdf]
    finally:
        pdf.close()
    for n, image in enumerate(images, start=1):
        image.save(ARTIFACTS / f"{name}-{n}.png")
    return images, size  # type: ignore[return-value]


def qr_codes(image) -> list[str]:
    return [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


@pytest.fixture
def clinic_contact(app):
    app.config["MAT_CLINIC_NAME"] = "Riverside Opioid Treatment Program"
    app.config["MAT_CLINIC_ADDRESS"] = "12 Harbor Street, Springfield, IL 62701"
    app.config["MAT_CLINIC_PHONE"] = "(217) 555-0142"


def label(api, staff, dose_id, layout="sheet"):
    return api("get", f"/api/v1/doses/{dose_id}/label?layout={layout}", as_=staff["nurse"])


@pytest.mark.parametrize("layout, size", [("sheet", (612, 792)), ("thermal", (144, 72))])
def test_a_label_says_what_the_contract_lists_and_its_qr_is_the_dose_id(
    api, staff, patient, receive, hand_out, clinic_contact, layout, size
) -> None:
    receive("L-100", 1000)
    saturday, _ = hand_out(patient)
    response = label(api, staff, saturday["id"], layout)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    text = " ".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    for expected in (
        "Riverside Opioid Treatment Program",
        "12 Harbor Street",
        "(217) 555-0142",
        patient.display_name,
        f"MRN {patient.mrn}",
        "Methadone HCl oral concentrate 10 mg/mL",
        "40 mg = 4 mL",
        f"For {SATURDAY:%a %d %b %Y}",
        "Lot L-100",
        "by TU",  # the dispenser's initials
        "KEEP OUT OF REACH OF CHILDREN",
        "Federal law prohibits the transfer",
    ):
        assert expected in text, (expected, text)
    images, page_size = render(data, f"label-{layout}")
    assert page_size == size
    assert qr_codes(images[0]) == [str(saturday["id"])]


def test_a_sheet_holds_ten_labels_and_each_qr_decodes(api, staff, factory, receive, hand_out):
    from mat.dosing.models import Dose
    from mat.extensions import db
    from mat.stock.printing import labels_pdf

    receive("L-100", 1000)
    doses = []
    for _ in range(6):
        doses += hand_out(factory.patient())
    rows = [db.session.get(Dose, d["id"]) for d in doses]
    images, _ = render(labels_pdf(rows, "sheet"), "label-sheet-twelve", scale=3)
    assert len(images) == 2
    decoded = sorted(int(code) for image in images for code in qr_codes(image))
    assert decoded == sorted(d["id"] for d in doses)


def test_solid_forms_print_units(api, staff, patient, receive, hand_out) -> None:
    receive("F-1", 60, product="BUPNX-FILM-8")
    saturday, _ = hand_out(patient, medication="BUPNX-FILM-8", dose_mg=16)
    data = label(api, staff, saturday["id"]).get_data()
    assert "16 mg = 2 films" in PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_labels_are_for_take_homes_only_and_nurses_only(api, staff, patient, give, sign_order):
    sign_order(patient)
    observed = give(patient, 40).get_json()
    assert_error(label(api, staff, observed["id"]), 422, "not_a_take_home")
    assert_error(label(api, staff, 999999), 404)
    response = api("get", f"/api/v1/doses/{observed['id']}/label", as_=staff["auditor"])
    assert_error(response, 403)
    response = api("get", f"/api/v1/doses/{observed['id']}/label?layout=roll", as_=staff["nurse"])
    assert "layout" in assert_error(response, 422)["fields"]


def test_a_returned_bottle_is_recorded_once(api, staff, patient, receive, hand_out) -> None:
    receive("L-100", 1000)
    saturday, _ = hand_out(patient)
    path = f"/api/v1/doses/{saturday['id']}/bottle-return"
    response = api("post", path, as_=staff["nurse"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["dose_id"] == saturday["id"]
    assert_error(api("post", path, as_=staff["nurse"]), 409, "already_returned")
    assert_error(api("post", path, as_=staff["admin"]), 403)
    assert count(BottleReturn) == 1


def test_a_voided_take_home_has_no_label(api, staff, patient, receive, hand_out) -> None:
    from tests.stock.conftest import witness

    receive("L-100", 1000)
    saturday, _ = hand_out(patient)
    body = {"kind": "void", "reason": "Recorded in error; bottles back.", "witness": witness()}
    response = api(
        "post", f"/api/v1/doses/{saturday['id']}/corrections", as_=staff["nurse"], json=body
    )
    assert response.status_code == 201, response.get_json()
    assert_error(label(api, staff, saturday["id"]), 409, "corrected_dose")
