"""Digests of the clinical rows an audit event records, so the chain covers them too.

An event that records a dose, an order, a screen... carries, in ``records``, the SHA-256 of each
row's stored content (``{"doses/12": "<hex>", "medications/1": "<hex>"}``); the event's keyed hash
covers that text. ``verify`` reads the rows back and recomputes: a dose amount edited with the
triggers disabled no longer matches the digest its event holds. The formulary row a dose or order
was measured with is recorded beside it, so a changed strength is caught as well.

The digest is computed from the in-memory row at commit and from the row read back at verify, so
both sides use one canonical form per column type: UTC instants to the microsecond, decimals to
the column's scale, dates in ISO form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, Table
from sqlalchemy.orm import DeclarativeBase

from mat.audit.chain import canonical, utc_text


def _canonical_value(value: Any, column_type: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        scale = getattr(column_type, "scale", None) if isinstance(column_type, Numeric) else None
        if scale is not None:
            value = value.quantize(Decimal(1).scaleb(-scale))
        return format(value, "f")
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no canonical form for {type(value).__name__}")


def row_digest(table: Table, values: Mapping[str, Any]) -> str:
    content = {
        column.name: _canonical_value(values[column.name], column.type) for column in table.columns
    }
    return hashlib.sha256(canonical({"table": table.name, "row": content}).encode()).hexdigest()


def record_name(table: Table, row_id: Any) -> str:
    return f"{table.name}/{row_id}"


def object_digests(objects: Iterable[DeclarativeBase]) -> dict[str, str]:
    """``{"table/id": digest}`` of flushed ORM rows, as they will be stored."""
    found: dict[str, str] = {}
    for obj in objects:
        table: Table = obj.__table__  # type: ignore[attr-defined,assignment]
        values = {column.name: getattr(obj, column.key) for column in table.columns}
        found[record_name(table, values["id"])] = row_digest(table, values)
    return found


def parse_name(name: str) -> tuple[str, int]:
    table, _, row_id = name.partition("/")
    return table, int(row_id)
