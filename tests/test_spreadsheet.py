"""CSV cells no spreadsheet runs: the one rule (``mat.spreadsheet``), and both real exports."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import g
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.audit.service import record
from mat.extensions import db
from mat.spreadsheet import ESCAPED_FIRST, spreadsheet_cell, stored_text

FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    "text, cell",
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-Smith", "'-Smith"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("'=already", "''=already"),  # the apostrophe too, so the rule can be undone exactly
        ("'", "''"),
        ("O'Brien", "O'Brien"),
        ("Smith-Jones", "Smith-Jones"),
        ("40", "40"),
        ("4.5", "4.5"),
        ("", ""),
        (" =space first", " =space first"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_get_an_apostrophe(text, cell) -> None:
    assert spreadsheet_cell(text) == cell
    assert stored_text(cell) == text


# Text biased toward the characters that matter, and any text at all.
_edgy = st.text(alphabet=st.sampled_from([*ESCAPED_FIRST, "a", "1", " ", "\n"]), max_size=6)


@given(st.one_of(st.text(), _edgy))
def test_any_text_round_trips_to_a_cell_that_no_spreadsheet_runs(text: str) -> None:
    cell = spreadsheet_cell(text)
    assert cell[:1] not in FORMULA_FIRST
    assert stored_text(cell) == text
    if text[:1] not in ESCAPED_FIRST:
        assert cell == text  # everything else is written as it is stored


@given(st.one_of(st.text(), _edgy))
def test_every_cell_mat_writes_is_read_back_and_written_again_the_same(cell: str) -> None:
    # The cells mat writes: those not starting with an escaped character, and escaped ones.
    if cell[:1] in ESCAPED_FIRST and not (cell[:1] == "'" and cell[1:2] in ESCAPED_FIRST):
        return
    assert spreadsheet_cell(stored_text(cell)) == cell


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


def test_the_dispensing_log_neutralises_names(api, staff, factory, sign_order, give) -> None:
    patient = factory.patient(given_name="-Smith", family_name='=HYPERLINK("http://x","y")')
    sign_order(patient)
    assert give(patient, 40).status_code == 201
    response = api(
        "get",
        "/api/v1/reports/dispensing-log?from=2026-11-16&to=2026-11-16&format=csv",
        as_=staff["auditor"],
    )
    (row,) = _rows(response)
    assert row["patient_name"] == '\'=HYPERLINK("http://x","y"), -Smith'
    assert stored_text(row["patient_name"]) == patient.display_name
    assert row["amount_mg"] == "40" and row["patient_mrn"] == patient.mrn  # numbers untouched


def test_the_audit_csv_neutralises_cells_and_gives_back_the_stored_values(api, staff) -> None:
    g.actor_name = "@cli"
    record("=1+1", entity_type="-thing", entity_id="+7", detail={"note": "=x"})
    db.session.commit()
    g.pop("actor_name")
    response = api(
        "get", "/api/v1/audit?from=2026-01-01&to=2026-12-31&format=csv", as_=staff["auditor"]
    )
    (row,) = [r for r in _rows(response) if stored_text(r["action"]) == "=1+1"]
    assert (row["username"], row["action"], row["entity_type"], row["entity_id"]) == (
        "'@cli",
        "'=1+1",
        "'-thing",
        "'+7",
    )
    # Undoing the rule gives every stored value back, as a hash check needs them.
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "=1+1")).one()
    for name in ("username", "roles", "action", "entity_type", "entity_id", "detail", "hash"):
        assert stored_text(row[name]) == (getattr(event, name) or ""), name
