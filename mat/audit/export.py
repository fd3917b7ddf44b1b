"""Exporting the audit trail: recorded first, then streamed.

The API (``GET /api/v1/audit?format=csv``) and the audit screen (``/audit/export.csv``) answer
with the same ``csv_download``. An export covers the trail as it stood when it was asked for
(``through_id``), so the download never contains its own export event nor anything written while
it streams, and the event says exactly which events left the building.

The export event is queued by ``begin_export`` and stored by the request's one commit
(``mat._commit``, after_request), which runs before the first byte of the body is produced: the
export is on record even if the download is interrupted.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, stream_with_context
from sqlalchemy import Row

from mat.audit.models import AuditEvent
from mat.audit.queries import AuditFilters, last_event_id, local_iso, matching
from mat.audit.schemas import AuditEventOut, comma_list, json_object
from mat.audit.service import record, seal_staged_reads
from mat.extensions import db
from mat.progress import still_working
from mat.spreadsheet import spreadsheet_cell

CSV_COLUMNS = (
    "id", "at", "username", "roles", "client_addr", "action", "entity_type", "entity_id",
    "patient_id", "outcome", "rules", "detail", "prev_hash", "hash",
)  # fmt: skip
# Rows fetched per round trip, and per chunk written to the client.
BATCH = 1000


def begin_export(filters: AuditFilters, fmt: str) -> int:
    """Record the export and return the id of the last event it covers (the reads recorded
    so far sealed into the chain first, so the export has them)."""
    seal_staged_reads()
    through_id = last_event_id()
    record(
        "audit.export",
        entity_type="audit_trail",
        patient_id=filters.patient_id,
        detail={"filters": filters.as_detail(), "format": fmt, "through_id": through_id},
    )
    return through_id


class _Line:
    """A file-like object that hands back what the csv writer gives it, so each row is a str."""

    def write(self, text: str) -> str:
        return text


def csv_row(event: AuditEvent | Row, zone: ZoneInfo) -> list[object]:
    """Stored values as they are (roles and rules comma-separated, detail as canonical JSON),
    so a reader can recompute each hash from the file; None becomes an empty cell.

    One exception, for spreadsheets: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a
    tab, a carriage return or ``'`` is written with one more ``'`` in front
    (``mat.spreadsheet.spreadsheet_cell``; a username tried at sign-in or an action could begin
    with ``=``). To get the stored value back, as a hash check must: when a cell begins with
    ``'`` and its next character is one of those seven, drop that first ``'``; leave every
    other cell as it is (``mat.spreadsheet.stored_text``). The rule is exact: no stored value
    is changed by the round trip, including one that itself begins with ``'``.
    """
    cells: list[object] = [
        event.id, local_iso(event.at, zone), event.username, event.roles, event.client_addr,
        event.action, event.entity_type, event.entity_id, event.patient_id, event.outcome,
        event.rules, event.detail, event.prev_hash, event.hash,
    ]  # fmt: skip
    return [spreadsheet_cell(cell) if isinstance(cell, str) else cell for cell in cells]


def _batches(
    filters: AuditFilters, zone: ZoneInfo, columns: tuple[str, ...], *, through_id: int
) -> Iterator[list[Row]]:
    """The matching events in id order as plain rows (not ORM objects: nothing accumulates in
    the session's identity map), ``BATCH`` rows per round trip; never all at once."""
    stmt = (
        matching(filters, zone, through_id=through_id)
        .with_only_columns(*(getattr(AuditEvent, name) for name in columns))
        .order_by(AuditEvent.id)
        .execution_options(yield_per=BATCH)
    )
    rows = db.session.execute(stmt)
    try:
        for batch in rows.partitions():
            still_working()  # a year's download outlasts a worker's timeout (mat.progress)
            yield batch
    finally:
        rows.close()  # a client that hangs up mid-download must not leave a cursor open


def csv_lines(filters: AuditFilters, zone: ZoneInfo, *, through_id: int) -> Iterator[str]:
    """The header, then the matching events in id order, a batch at a time."""
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for batch in _batches(filters, zone, CSV_COLUMNS, through_id=through_id):
        yield "".join(writer.writerow(csv_row(row, zone)) for row in batch)


JSON_COLUMNS = tuple(AuditEventOut().fields)


def json_chunks(filters: AuditFilters, zone: ZoneInfo, *, through_id: int) -> Iterator[str]:
    """``{"events": [...]}``, the same document the schema would build whole, written a batch
    at a time: a year of events is hundreds of MB as one Python list, a batch is a few hundred
    KB."""
    yield '{"events":['
    separator = ""
    for batch in _batches(filters, zone, JSON_COLUMNS, through_id=through_id):
        yield separator + ",".join(_JSON.encode(event_json(row, zone)) for row in batch)
        separator = ","
    yield "]}\n"


_JSON = json.JSONEncoder(separators=(",", ":"))  # json.dumps(..., separators=...) made once


def event_json(row: Row, zone: ZoneInfo) -> dict[str, Any]:
    """``AuditEventOut().dump(row)``, written out: the same keys in the same order and the same
    values (a test compares the two over every kind of event). The schema's dump, field by
    field, was most of a year's export (about 20 s for 900,000 events, near a sync worker's
    30 s timeout, which kills a longer download)."""
    return {
        "id": row.id,
        "at": local_iso(row.at, zone),
        "user_id": row.user_id,
        "username": row.username,
        "roles": comma_list(row.roles),
        "client_addr": row.client_addr,
        "action": row.action,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "patient_id": row.patient_id,
        "outcome": row.outcome,
        "rules": comma_list(row.rules),
        "detail": json_object(row.detail),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def json_download(filters: AuditFilters, zone: ZoneInfo) -> Response:
    through_id = begin_export(filters, "json")
    return Response(
        stream_with_context(json_chunks(filters, zone, through_id=through_id)),
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )


def csv_download(filters: AuditFilters, zone: ZoneInfo) -> Response:
    through_id = begin_export(filters, "csv")
    name = f"audit-{filters.first_day.isoformat()}-{filters.last_day.isoformat()}.csv"
    return Response(
        stream_with_context(csv_lines(filters, zone, through_id=through_id)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={name}",
            # Names, addresses and patient ids: no shared cache keeps a copy.
            "Cache-Control": "no-store",
        },
    )
