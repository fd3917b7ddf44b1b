"""Exporting reports: who may, recorded first, then the bytes.

The API, the reports page and the CLI all call these, so each format is written by one piece
of code and the CLI's file holds exactly the bytes the API sends.

The export event is queued by ``begin_log_export`` / ``begin_history_export`` and stored by the
request's one commit (``mat._commit``, after_request), which runs before the first byte of a
streamed body: the export is on record even if the download is interrupted. Exports of patient
records are disclosures under 42 CFR Part 2: every one is on record, with what it covered.

The PDF writers are imported where a PDF is written: they load reportlab and the fonts (about
0.15 s and 10 MB), which a CSV or JSON export and most requests never use.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date

from flask import Response, current_app, stream_with_context
from sqlalchemy import select

from mat.audit.service import record
from mat.auth.models import User
from mat.clock import clinic_now, clinic_zone
from mat.errors import Forbidden, InvalidInput, names_the_patient
from mat.extensions import db
from mat.formulary.models import Medication
from mat.patients.service import get_patient
from mat.reports.log_rows import LogQuery, LogSnapshot, log_entries, log_rows
from mat.reports.log_text import csv_text, json_text

# Roles that may export any range of the dispensing log; a nurse exports one day at a time.
ANY_RANGE_ROLES = ("auditor", "admin")
MIMETYPES = {"csv": "text/csv", "json": "application/json", "pdf": "application/pdf"}
PDF_CHUNK = 64 * 1024


def check_log_access(user: User, query: LogQuery) -> None:
    """A nurse reads the log of one day (their shift's); auditors and admins any range."""
    if user.has_role(*ANY_RANGE_ROLES) or query.first == query.last:
        return
    raise Forbidden(
        "A nurse exports the dispensing log one day at a time: give the same day as from and to.",
        code="forbidden",
    )


def _check_product(query: LogQuery) -> None:
    if query.product is None:
        return
    known = db.session.scalar(select(Medication.id).where(Medication.code == query.product))
    if known is None:
        raise InvalidInput(
            f"{query.product} is not in the formulary.",
            fields={"product": [f"Unknown code {query.product!r}; see /api/v1/medications."]},
        )


def begin_log_export(query: LogQuery, fmt: str, page: str) -> LogSnapshot:
    """Record the export and return the newest rows it covers."""
    _check_product(query)
    snapshot = LogSnapshot.now()
    detail = {
        **query.as_detail(),
        "format": fmt,
        "through_dose_id": snapshot.through_dose_id,
        "through_correction_id": snapshot.through_correction_id,
    }
    if fmt == "pdf":
        detail["page"] = page
    record("report.dispensing_log", entity_type="dispensing_log", detail=detail)
    return snapshot


def _pdf_chunks(buffer: io.BytesIO) -> Iterator[bytes]:
    view = buffer.getbuffer()  # no second copy of the document
    try:
        for start in range(0, len(view), PDF_CHUNK):
            yield bytes(view[start : start + PDF_CHUNK])
    finally:
        view.release()


def log_body(query: LogQuery, fmt: str, page: str, snapshot: LogSnapshot) -> Iterator[bytes]:
    """The log's bytes. CSV and JSON are produced while they are sent. The PDF is laid out
    here, before the first byte (reportlab writes a document whole), so an error while drawing
    it is an error answer and not a truncated file."""
    zone = clinic_zone()
    if fmt == "pdf":
        from mat.reports.log_pdf import write_log_pdf

        buffer = io.BytesIO()
        write_log_pdf(
            log_entries(query, zone, snapshot),
            query,
            buffer,
            page=page,
            clinic=current_app.config["MAT_CLINIC_NAME"],
            printed_at=clinic_now(),
        )
        return _pdf_chunks(buffer)
    if fmt == "csv":
        text = csv_text(log_rows(query, zone, snapshot))
    else:  # JSON names the SMA-168 exception of a row too (mat/reports/log_text.py)
        text = json_text(query, log_entries(query, zone, snapshot))
    return (chunk.encode("utf-8") for chunk in text)


def _attachment(body: Iterator[bytes], name: str, fmt: str) -> Response:
    # CSV and JSON read the database while they are sent: they keep the request's context
    # (and its session) until the last byte. A PDF is finished bytes and needs nothing.
    return Response(
        body if fmt == "pdf" else stream_with_context(body),
        mimetype=MIMETYPES[fmt],
        headers={
            "Content-Disposition": f"attachment; filename={name}",
            # Names and MRNs: no shared cache keeps a copy.
            "Cache-Control": "no-store",
        },
    )


def log_filename(query: LogQuery, fmt: str) -> str:
    return f"dispensing-log-{query.first.isoformat()}-{query.last.isoformat()}.{fmt}"


def log_download(user: User, query: LogQuery, fmt: str, page: str) -> Response:
    check_log_access(user, query)
    snapshot = begin_log_export(query, fmt, page)
    body = log_body(query, fmt, page, snapshot)
    return _attachment(body, log_filename(query, fmt), fmt)


@names_the_patient
def history_download(patient_id: int, first: date, last: date, page: str) -> Response:
    """The patient's dosing history as a PDF; 404 for an unknown patient."""
    patient = get_patient(patient_id, audit_read=False)  # the export event is the read's record
    record(
        "report.history",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        detail={"from": first.isoformat(), "to": last.isoformat(), "format": "pdf", "page": page},
    )
    from mat.reports.history_pdf import write_history_pdf

    buffer = io.BytesIO()
    write_history_pdf(
        patient,
        first,
        last,
        buffer,
        page=page,
        clinic=current_app.config["MAT_CLINIC_NAME"],
        printed_at=clinic_now(),
    )
    name = f"history-{patient.mrn}-{first.isoformat()}-{last.isoformat()}.pdf"
    return _attachment(_pdf_chunks(buffer), _safe_filename(name), "pdf")


def _safe_filename(name: str) -> str:
    # An MRN is the clinic's text: keep the header to characters every client reads plainly.
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in name)
