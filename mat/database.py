"""The declarative base every model uses, and the column types that keep clinical data exact.

- Timestamps are timezone-aware UTC on both engines (SQLite stores them naive; ``UTCDateTime``
  puts the zone back so comparisons never mix naive and aware values).
- Amounts are ``Numeric``/``Decimal``, never float: 0.1 mL of methadone is 0.1, not 0.1000000001.
- Constraint names follow a convention so Alembic migrations are the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, Numeric, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

from mat import db_liveness  # noqa: F401  (registers the pool's checkout check)


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: mat stores aware UTC timestamps only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# mg and mL: three decimals is finer than any product measures (0.1 mL, half tablets).
Amount = Numeric(10, 3, asdecimal=True)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING),
        type_annotation_map={datetime: UTCDateTime(), Decimal: Amount},
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_enforces_foreign_keys(dbapi_connection: object, _record: object) -> None:
    """SQLite leaves foreign keys unchecked unless asked, per connection; PostgreSQL checks."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()


# The connection-record key of a SQLite connection's sealing switch (``mat.audit.staging``).
SEALING_SWITCH = "mat_sealing"


class SealingSwitch:
    """``mat_sealing()`` of one SQLite connection: the trigger on ``audit_staged_reads`` lets a
    DELETE through only while it answers 1, which only the sealing code turns on. A connection
    without it (the sqlite3 shell) cannot delete a staged read at all: no such function."""

    def __init__(self) -> None:
        self.on = False

    def __call__(self) -> int:
        return int(self.on)


@event.listens_for(Engine, "connect")
def _sqlite_knows_the_sealing_switch(dbapi_connection: object, record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        switch = SealingSwitch()
        dbapi_connection.create_function("mat_sealing", 0, switch)  # type: ignore[attr-defined]
        record.info[SEALING_SWITCH] = switch
