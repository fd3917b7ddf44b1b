"""SQLite ignores VARCHAR lengths; PostgreSQL refuses a value that does not fit (a 500). So that
the SQLite suite catches what PostgreSQL would, every flush in the tests checks each bounded
string column of every new or changed row against its length."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, event
from sqlalchemy.orm import Session


class ColumnOverflow(AssertionError):
    pass


def _check(session: Session, _context: Any, _instances: Any) -> None:
    for obj in [*session.new, *session.dirty]:
        table = getattr(obj, "__table__", None)
        if table is None:
            continue
        for column in table.columns:
            length = getattr(column.type, "length", None)
            if not isinstance(column.type, String) or length is None:
                continue
            value = getattr(obj, column.key, None)
            if isinstance(value, str) and len(value) > length:
                raise ColumnOverflow(
                    f"{table.name}.{column.name} holds {length} characters; "
                    f"{len(value)} were written: {value[:60]!r}..."
                )


def enforce_lengths() -> None:
    event.listen(Session, "before_flush", _check)
