"""Free text mat stores (names, reasons, notes, justifications): no control characters, no
direction overrides, nothing the PDFs cannot print. One field (``mat.schema_fields``), every
input schema."""

from __future__ import annotations

import pytest

from mat.auth.models import User
from mat.dosing.models import Hold
from mat.patients.models import Patient
from mat.pdf_fonts import FONTS
from mat.schema_fields import BIDI_CONTROLS, text_problem
from tests.support.checks import assert_error, count

needs_cjk = pytest.mark.skipif(
    FONTS.fallback is None, reason="fonts-wqy-zenhei is not installed (make system-packages)"
)
needs_dejavu = pytest.mark.skipif(
    FONTS.regular != "DejaVuSans", reason="fonts-dejavu-core is not installed"
)

NEW = {
    "mrn": "A-1001",
    "given_name": "Jamie",
    "family_name": "Thornbury",
    "date_of_birth": "1990-04-02",
    "admitted_on": "2026-11-16",
    "level_of_care": "outpatient",
}


# ---- the rule, as a table ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, multiline, refused_because",
    [
        ("Anne-Marie O'Brien", False, None),
        ("Zoë Ørsted", False, None),
        ("a\nb", False, "one line"),
        ("a\rb", False, "one line"),
        ("a\tb", False, "control character U+0009"),
        ("a\nb\tc", True, None),
        ("bell\x07", True, "control character U+0007"),
        ("esc\x1b[31m", True, "control character U+001B"),
        ("vt\x0bx", True, "control character U+000B"),
        ("del\x7f", True, "control character U+007F"),
        ("c1\x85", True, "control character U+0085"),
        ("line\u2028sep", True, "U+2028"),
        ("para\u2029sep", False, "U+2029"),
        ("zero\u200dwidth joiner", False, None),  # joins letters in many scripts: allowed
    ],
)
def test_control_characters(text, multiline, refused_because) -> None:
    problem = text_problem(text, multiline=multiline, printed=False)
    if refused_because is None:
        assert problem is None
    else:
        assert problem is not None and refused_because in problem


@pytest.mark.parametrize("char", sorted(BIDI_CONTROLS), ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("multiline", [False, True])
def test_every_direction_control_is_refused(char, multiline) -> None:
    problem = text_problem(f"Smith{char}htims", multiline=multiline, printed=False)
    assert problem is not None and f"U+{ord(char):04X}" in problem
    assert "direction" in problem


def test_the_direction_controls_are_exactly_the_listed_ones() -> None:
    listed = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}
    assert {ord(c) for c in BIDI_CONTROLS} == listed | {0x200E, 0x200F, 0x061C}


@needs_dejavu
@pytest.mark.parametrize(
    "name, printable",
    [
        ("Nguyễn Thị Minh Khai", True),
        ("Łukasz Żółć", True),
        ("Ζωή Παπαδοπούλου", True),
        ("Жанна Иванова", True),
        ("Ōtsuka", True),
        pytest.param("王小明", True, marks=needs_cjk),
        pytest.param("さくら 桜井", True, marks=needs_cjk),
        pytest.param("김민준", True, marks=needs_cjk),
        ("محمد", False),  # right to left: reportlab would print the letters in reverse
        ("דוד", False),
        ("देवनागरी", False),  # needs shaping
        ("สมชาย", False),
        ("unicorn 🦄", False),  # no font has it
        ("ሰላም", False),
    ],
)
def test_names_the_pdfs_print_and_those_they_cannot(name, printable) -> None:
    problem = text_problem(name, multiline=False, printed=True)
    assert (problem is None) is printable, problem
    if not printable:
        assert problem.startswith("The reports cannot print")


def test_search_terms_are_not_held_to_the_fonts() -> None:
    # A search term is kept in the audit trail, never printed: only the invisible-text rules.
    assert text_problem("محمد", multiline=False, printed=False) is None


# ---- through the API: refused with 422 and the field, nothing stored -----------------------


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("family_name", "\u202eevil", "direction"),
        ("given_name", "Jo\nhn", "one line"),
        ("given_name", "Jo\x00hn", None),  # NUL: refused as unreadable JSON text (400)
        ("family_name", "Smith\x1b", "control character"),
        ("family_name", "محمد", "cannot print"),
    ],
)
def test_patient_names_are_refused(api, staff, field, value, words) -> None:
    response = api("post", "/api/v1/patients", as_=staff["nurse"], json={**NEW, field: value})
    if words is None:
        assert_error(response, 400, "nul_character")
    else:
        error = assert_error(response, 422)
        assert words in error["fields"][field][0]
    assert count(Patient) == 0


def test_names_are_stored_in_one_normal_form(api, staff) -> None:
    decomposed = "Zoe\u0308"  # e + combining diaeresis, as some keyboards send it
    response = api(
        "post", "/api/v1/patients", as_=staff["nurse"], json={**NEW, "given_name": decomposed}
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["given_name"] == "Zo\u00eb"


def test_a_user_s_full_name_is_refused(api, staff) -> None:
    body = {
        "username": "new.nurse",
        "password": "a-long-enough-password",
        "full_name": "Nora\u202e",
        "initials": "NN",
        "roles": ["nurse"],
    }
    before = count(User)
    error = assert_error(api("post", "/api/v1/users", as_=staff["admin"], json=body), 422)
    assert "direction" in error["fields"]["full_name"][0]
    assert count(User) == before


def test_reasons_keep_line_breaks_and_refuse_controls(api, staff, patient) -> None:
    path = f"/api/v1/patients/{patient.id}/holds"
    ok = api("post", path, as_=staff["nurse"], json={"reason": "Sedated.\r\nCall Dr. Okafor."})
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["reason"] == "Sedated.\nCall Dr. Okafor."  # CRLF stored as LF
    bad = api("post", path, as_=staff["nurse"], json={"reason": "Sedated\x1b[2J"})
    assert "control character" in assert_error(bad, 422)["fields"]["reason"][0]
    bidi = api("post", path, as_=staff["nurse"], json={"reason": "ok \u2067 reversed"})
    assert "direction" in assert_error(bidi, 422)["fields"]["reason"][0]
    assert count(Hold) == 1


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/patients/{id}/doses/withheld", {"reason": "x\u202ey"}, "reason"),
        ("/api/v1/patients/{id}/doses", {"amount_mg": 40, "late_entry_reason": "\x07"}, None),
        ("/api/v1/closures", {"date": "2026-11-26", "reason": "Holiday\u202e"}, "reason"),
        ("/api/v1/patients?q=%E2%80%AE", None, "q"),
    ],
)
def test_every_text_input_uses_the_rule(api, staff, patient, path, body, field) -> None:
    user = staff["admin"] if "closures" in path else staff["nurse"]
    method = "get" if body is None else "post"
    response = api(method, path.format(id=patient.id), as_=user, json=body)
    error = assert_error(response, 422)
    assert error["fields"][field or "late_entry_reason"]


def test_an_order_justification_and_take_home_rationale_use_the_rule(
    api, staff, patient, clock, take_home_criteria
) -> None:
    body = {
        "medication": "METH-10MGML",
        "kind": "maintenance",
        "start_date": clock.now.date().isoformat(),
        "dose_mg": 40,
        "justification": "fine\u202d",
        "take_home": {"weekdays": ["sun"], "criteria": take_home_criteria, "rationale": "\x1b"},
    }
    path = f"/api/v1/patients/{patient.id}/orders"
    error = assert_error(api("post", path, as_=staff["prescriber"], json=body), 422)
    assert set(error["fields"]) == {"justification", "take_home.rationale"}
