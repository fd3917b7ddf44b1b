"""Where an import's rows come from: a JSON body streamed from a file or bytes, or one CSV file
per section in a folder. Either way the service reads one row at a time, so memory stays
bounded however long the history is.

JSON is read with ``ijson`` once per section (``patients``, ``orders``, ``doses``,
``drug_screens``, in that order whatever order the file has them in). Numbers come as ``int`` or
``Decimal``, never floats, as the live API reads them (``mat.jsonio``).

CSV: ``patients.csv``, ``orders.csv``, ``doses.csv``, ``drug_screens.csv`` (a missing file is an
empty section), with a header row of the JSON keys. An empty cell is an absent value. Number
columns (``amount_mg``, ``dose_mg``) are read as decimals; nested values (an order's ``steps``,
``titration``, ``taper``, ``split``, ``take_home``; a screen's ``results``) are JSON text in
their cell, for example ``{"opiates": "negative"}``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, Protocol

import ijson

from mat.errors import BadRequest

HEADER_KEYS = frozenset({"source", "dry_run"})
SECTION_KEYS = frozenset({"patients", "orders", "doses", "drug_screens"})
NUMBER_COLUMNS = frozenset({"amount_mg", "dose_mg"})
JSON_COLUMNS = frozenset({"steps", "titration", "taper", "split", "take_home", "results"})


class ImportSource(Protocol):
    def header(self) -> dict[str, Any]:
        """``source`` and ``dry_run``, as given (validated by the service)."""

    def rows(self, section: str) -> Iterator[Any]:
        """The section's rows, one at a time."""


class JsonSource:
    """An import body in JSON; ``open`` gives a fresh binary stream for each pass."""

    def __init__(self, open_: Callable[[], IO[bytes]]) -> None:
        self._open = open_

    @classmethod
    def of_bytes(cls, body: bytes) -> JsonSource:
        return cls(lambda: io.BytesIO(body))

    @classmethod
    def of_file(cls, path: Path) -> JsonSource:
        return cls(lambda: path.open("rb"))

    def header(self) -> dict[str, Any]:
        """``source`` and ``dry_run``, and every other top-level key with a placeholder: the
        header schema refuses a key it does not know (``"dose"`` for ``"doses"`` would otherwise
        import no doses without a word). One pass of events, never a section in memory."""
        found: dict[str, Any] = {}
        with self._open() as stream:
            for prefix, event, value in _read(ijson.parse(stream, use_float=False)):
                if prefix == "" and event == "map_key" and value not in found:
                    found[value] = None
                elif prefix in HEADER_KEYS:
                    found[prefix] = _scalar(event, value)
        return {k: v for k, v in found.items() if k in HEADER_KEYS or k not in SECTION_KEYS}

    def rows(self, section: str) -> Iterator[Any]:
        with self._open() as stream:
            yield from _read(ijson.items(stream, f"{section}.item", use_float=False))


def _scalar(event: str, value: Any) -> Any:
    """A header value as ``json.loads`` would give it; a list or object becomes an empty one
    (the schema refuses it by type)."""
    if event in ("start_map", "end_map"):
        return {}
    if event in ("start_array", "end_array"):
        return []
    return value


def _read(events: Iterator[Any]) -> Iterator[Any]:
    """ijson's items, with a malformed body answered 400 like any malformed JSON body."""
    try:
        yield from events
    except ijson.JSONError as exc:
        raise BadRequest(
            f"The import is not valid JSON: {str(exc)[:200]}", code="malformed_json"
        ) from exc
    except UnicodeDecodeError as exc:
        raise BadRequest("The import is not UTF-8 text.", code="malformed_json") from exc


class CsvSource:
    """A folder of CSV files, one per section; ``source`` is given on the command line."""

    def __init__(self, folder: Path, source: str | None) -> None:
        self.folder = folder
        self.source = source

    def header(self) -> dict[str, Any]:
        # A CSV file that is not a section (``dose.csv``) is refused by name, as a JSON key is.
        found: dict[str, Any] = {
            path.name: None
            for path in sorted(self.folder.glob("*.csv"))
            if path.stem not in SECTION_KEYS
        }
        if self.source is not None:
            found["source"] = self.source
        return found

    def rows(self, section: str) -> Iterator[dict[str, Any]]:
        path = self.folder / f"{section}.csv"
        if not path.exists():
            return
        with path.open(newline="", encoding="utf-8-sig") as stream:
            for row in csv.DictReader(stream):
                yield {k: _cell(k, v) for k, v in row.items() if k and v not in (None, "")}


def _cell(column: str, text: str) -> Any:
    """A cell as the JSON body would hold it; text that does not read is left for the row's
    schema to refuse with a message naming the field."""
    if column in NUMBER_COLUMNS:
        try:
            return Decimal(text.strip())
        except InvalidOperation:
            return text
    if column in JSON_COLUMNS:
        try:
            return json.loads(text, parse_float=Decimal)
        except ValueError:
            return text
    return text
