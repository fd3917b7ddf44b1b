"""The month bench/pdf_instructions.py lays out under valgrind: built the same every time, in
the log's order, with the rows a real month has (take-homes, late entries, voids and their
correction rows), and laid out into a PDF that reads back. The count itself needs valgrind and
minutes, so it is the bench's, not the suite's."""

from __future__ import annotations

import io
from datetime import datetime

from pypdf import PdfReader

from bench.pdf_instructions import lay_out, month
from mat.reports.log_pdf import write_log_pdf


def test_the_month_is_the_same_every_time_and_in_log_order() -> None:
    query, entries = month(30, 7)
    assert month(30, 7) == (query, entries)
    assert (query.first, query.last) == (entries[0].row.dispensed_on, entries[-1].row.dispensed_on)
    keys = [(e.row.dispensed_on, e.dispenser_id, e.row.dispensed_at) for e in entries]
    assert keys == sorted(keys)
    rows = [e.row for e in entries]
    assert {r.mode for r in rows} == {"observed", "take_home"}
    assert {r.substance for r in rows} == {"methadone", "buprenorphine"}
    assert any(r.late_entry for r in rows)
    voided = {r.dose_id for r in rows if r.corrected == "void"}
    assert voided, "no void in a week of 30 patients"
    assert {r.correction_of for r in rows if r.correction_kind == "void"} == voided
    assert len(rows) == 30 * 7 + len(voided)


def test_the_month_lays_out_into_a_pdf_that_reads_back() -> None:
    query, entries = month(12, 2)
    size = lay_out(query, entries)
    out = io.BytesIO()
    printed = datetime.fromisoformat("2026-12-07T12:00:00+00:00")
    write_log_pdf(entries, query, out, page="letter", clinic="Bench clinic", printed_at=printed)
    assert size == len(out.getvalue())
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(out.getvalue())).pages)
    for entry in entries:
        if entry.row.dose_id is not None:
            assert str(entry.row.dose_id) in text
    voids = [e.row.correction_of for e in entries if e.row.correction_kind == "void"]
    assert voids == [1000001]  # 101 x 9901: the month's first dose is voided
    assert "VOID of #1000001" in text
