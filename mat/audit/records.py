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
from functools import cache
from typing import Any

from sqlalchemy import Numeric, Table
from sqlalchemy.orm import DeclarativeBase

from mat.audit.chain import canonical, utc_text

# Values stored as they are: most columns of most rows, so checked first by exact type.
_PLAIN = frozenset({type(None), bool, int, str})


def _canonical_value(value: Any, scale: int | None) -> Any:
    """``scale``: the decimal places of a Numeric column (None for any other column)."""
    if type(value) in _PLAIN or value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        if scale is not None:
            value = value.quantize(Decimal(1).scaleb(-scale))
        return format(value, "f")
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no canonical form for {type(value).__name__}")


@cache
def _columns(table: Table) -> tuple[tuple[str, int | None], ...]:
    """Each column's name and decimal scale, worked out once per table (verify digests every
    recorded row of the trail)."""
    return tuple(
        (column.name, column.type.scale if isinstance(column.type, Numeric) else None)
        for column in table.columns
    )


def row_digest(table: Table, values: Mapping[str, Any]) -> str:
    content = {name: _canonical_value(values[name], scale) for name, scale in _columns(table)}
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
