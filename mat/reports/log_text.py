"""The dispensing log as CSV and as JSON text, produced a batch of rows at a time.

Both are generators of ``str`` chunks: the caller streams them to the client or to a file and
nothing holds more than one batch. Amounts are written from their ``Decimal`` value, never
through ``float``: ``40``, ``4.5``, as the contract's JSON numbers and the same text in the CSV.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import TypeVar

from mat.progress import still_working
from mat.reports.log_rows import COLUMNS, JSON_COLUMNS, LogEntry, LogQuery, LogRow, amount_text
from mat.spreadsheet import spreadsheet_cell

T = TypeVar("T")

# Rows per chunk handed to the client.
CHUNK_ROWS = 500


class _Line:
    """A file-like object that hands back what the csv writer gives it, so each row is a str."""

    def write(self, text: str) -> str:
        return text


def _batches(rows: Iterable[T]) -> Iterator[list[T]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, CHUNK_ROWS)):
        still_working()  # a long streamed download is not a stuck worker (mat.progress)
        yield batch


def csv_cells(row: LogRow) -> list[str]:
    """The row's cells as text; an empty cell is "not applicable" (volume of a tablet, the
    dose id of a correction row). A cell that a spreadsheet would run as a formula (a name
    like ``=cmd`` or ``-Smith``) gets a leading ``'`` (``mat.spreadsheet``)."""
    return [spreadsheet_cell(cell) for cell in _cells(row)]


def _cells(row: LogRow) -> list[str]:
    return [
        row.dispensed_on.isoformat(),
        row.dispensed_at.isoformat(timespec="seconds"),
        row.patient_mrn,
        row.patient_name,
        row.substance,
        row.product,
        row.strength,
        row.dosage_form,
        row.mode,
        amount_text(row.amount_mg),
        amount_text(row.volume_ml),
        row.dispenser_initials,
        "" if row.dose_id is None else str(row.dose_id),
        "true" if row.late_entry else "false",
        "" if row.correction_of is None else str(row.correction_of),
        row.correction_kind or "",
        amount_text(row.units),
        row.lot or "",
    ]


def csv_text(rows: Iterable[LogRow]) -> Iterator[str]:
    """The contract's header, then the rows."""
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    for batch in _batches(rows):
        yield "".join(writer.writerow(csv_cells(row)) for row in batch)


def _json_value(value: object) -> str:
    if isinstance(value, Decimal):
        return amount_text(value)  # a JSON number, digit for digit
    if isinstance(value, datetime):
        return json.dumps(value.isoformat(timespec="seconds"))
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    return json.dumps(value)  # str, int, bool, None


def json_object(entry: LogEntry) -> str:
    """The CSV's columns, ``corrected`` (``void``/``spill`` on a dose row a correction of the
    export covers, else null) and ``take_home_exception`` (the SMA-168 number that let a
    take-home pass the ceiling, else null): JSON keys are named, so more keys break no reader."""
    row = entry.row
    cells = [f"{json.dumps(name)}:{_json_value(getattr(row, name))}" for name in JSON_COLUMNS]
    cells.append(f'"take_home_exception":{json.dumps(entry.take_home_exception)}')
    return "{" + ",".join(cells) + "}"


def json_text(query: LogQuery, entries: Iterable[LogEntry]) -> Iterator[str]:
    """``{"from": ..., "to": ..., "rows": [{...}, ...]}``, written as it is read."""
    yield f'{{"from":"{query.first.isoformat()}","to":"{query.last.isoformat()}","rows":['
    first = True
    for batch in _batches(entries):
        text = ",".join(json_object(entry) for entry in batch)
        yield text if first else "," + text
        first = False
    yield "]}"
