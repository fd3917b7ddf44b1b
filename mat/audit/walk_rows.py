"""The audit events as ``verify`` walks them: in id order, a batch at a time, each event as a
``WalkRow`` whose keyed content is already written (``mat.audit.chain.keyed_content``).

On PostgreSQL the events come as ``COPY ... TO STDOUT`` text, never as typed rows. A million
events is the one read that touches every event, and most of its time went to making Python
objects only to write them back as text: a datetime per event (PostgreSQL writes the instant in
the canonical ``utc_text`` form itself, ``_AT_TEXT``), an int per id column (the JSON of a whole
number is its text), a row tuple per event through SQLAlchemy or a cursor. ``COPY`` also streams:
the server writes the next rows while this process hashes the last ones (on another core), where
a cursor's fetch waits for each batch. An event whose text holds an escape or a NULL, and an
event of the old unkeyed scheme, go through ``_typed`` (the values as the ORM would give them).

SQLite (the embedded demo engine) goes through SQLAlchemy Core, whose type turns its stored
text into datetimes. Tests check that both give the content the writer hashed, for every kind
of value and for tricky instants.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from contextlib import closing
from datetime import datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from sqlalchemy import select

from mat.audit.chain import (
    KEYED_FIELDS,
    LEGACY_SCHEME,
    content_with_instant,
    keyed_content,
)
from mat.audit.models import AuditEvent
from mat.extensions import db

WALK_BATCH = 5000  # events handed to the walk at a time
# Events per COPY: the rows a chunk's events record are looked up once it is read, so a chunk
# is what the walk holds of them; each COPY costs a round trip and a new index scan.
CHUNK = 20 * WALK_BATCH

# (id, scheme, prev_hash, hash, content, records, fields): ``content`` is the canonical keyed
# content (None when the instant has no text: an infinite timestamp, which no writer makes);
# ``fields`` the typed values by name, given for an event that needs them (the old scheme's
# hash is over the instant in a time zone), else None.
WalkRow = tuple[int, str, str, str, str | None, str, dict[str, Any] | None]

_COLUMNS = ("id", "scheme", "prev_hash", "hash", *KEYED_FIELDS)
_INT_COLUMNS = frozenset({"id", "user_id", "patient_id"})
# ``utc_text`` written by PostgreSQL: the instant in UTC, always 6 digits of microseconds and
# ``+00:00``. Years 1 to 9999 (all a Python datetime holds) have 4 digits both ways; to_char
# answers NULL for an infinite timestamp.
_AT_TEXT = """to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
_COPY_SELECT = "SELECT " + ", ".join(_AT_TEXT if c == "at" else c for c in _COLUMNS)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
# What COPY's text format writes for a character with a backslash (any other one stands for
# itself); ``\N`` alone is NULL.
_ESCAPED = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def event_chunks(after_id: int, limit: int | None) -> Iterator[Generator[list[WalkRow]]]:
    """The events after ``after_id`` in id order (at most ``limit``): chunks of batches.

    Read each chunk to its end, or close it, before the next one and before any other statement
    on the session's connection: on PostgreSQL a chunk is one COPY, which holds the connection
    until it ends (closing a chunk early reads the rest of it and drops it)."""
    if db.session.get_bind().dialect.name != "postgresql":
        # SQLite runs other statements while a result is open: one chunk per batch.
        with closing(_core_batches(after_id, limit)) as batches:
            for batch in batches:
                yield (one for one in (batch,))
        return
    while limit is None or limit > 0:
        size = CHUNK if limit is None else min(CHUNK, limit)
        read: list[int] = []  # the chunk's count of events and its last id, once read
        yield _copy_batches(after_id, size, read)
        if not read or read[0] < size:
            return  # the trail ends here (or the walk stopped)
        after_id = read[1]
        limit = None if limit is None else limit - size


def copy_statement(after_id: int, limit: int) -> str:
    """COPY takes no bound parameters: the two numbers are written in, as ints."""
    return (
        f"COPY ({_COPY_SELECT} FROM audit_events WHERE id > {int(after_id)} ORDER BY id "
        f"LIMIT {int(limit)}) TO STDOUT"
    )


def _copy_batches(after_id: int, limit: int, read: list[int]) -> Generator[list[WalkRow]]:
    raw = db.session.connection().connection.dbapi_connection
    encoding = raw.info.encoding
    with raw.cursor() as cursor, cursor.copy(copy_statement(after_id, limit)) as copy:
        read_all = False
        try:
            count, last_id = 0, after_id
            lines: list[str] = []
            for data in copy:  # one event a time, its line with its newline
                lines.append(str(data, encoding)[:-1])
                if len(lines) == WALK_BATCH:
                    batch = rows_from_copy(lines)
                    count, last_id, lines = count + len(batch), batch[-1][0], []
                    yield batch
            read_all = True
            if lines:
                batch = rows_from_copy(lines)
                count, last_id = count + len(batch), batch[-1][0]
                yield batch
            read[:] = [count, last_id]
        finally:
            if not read_all:  # the walk stopped early: read the rest, so the COPY ends cleanly
                while copy.read():
                    pass


def rows_from_copy(lines: list[str]) -> list[WalkRow]:
    """``WalkRow``s of lines of ``COPY ... TO STDOUT`` text of ``copy_statement``'s columns."""
    found: list[WalkRow] = []
    add = found.append
    json_text = encode_basestring_ascii  # what ``canonical`` writes a string with
    for line in lines:
        columns = line.split("\t")
        if "\\" in line or columns[1] == LEGACY_SCHEME:
            add(_typed(columns))
            continue
        (
            event_id, scheme, prev_hash, stored_hash, at, user_id, username, roles,
            client_addr, action, entity_type, entity_id, patient_id, outcome, rules, detail,
            records,
        ) = columns  # fmt: skip
        # ``content_with_instant`` for text and whole numbers, in the sorted key order; a test
        # checks the two agree. A whole number's JSON is its text as PostgreSQL writes it.
        content = (
            f'{{"action":{json_text(action)},"at":"{at}",'
            f'"client_addr":{json_text(client_addr)},"detail":{json_text(detail)},'
            f'"entity_id":{json_text(entity_id)},"entity_type":{json_text(entity_type)},'
            f'"outcome":{json_text(outcome)},"patient_id":{patient_id},'
            f'"records":{json_text(records)},"roles":{json_text(roles)},'
            f'"rules":{json_text(rules)},"user_id":{user_id},'
            f'"username":{json_text(username)}}}'
        )
        add((int(event_id), scheme, prev_hash, stored_hash, content, records, None))
    return found


def _typed(columns: list[str]) -> WalkRow:
    """A line's values as the ORM gives them (NULLs, escapes undone, whole numbers as ints);
    the instant as a datetime parsed back from its ``utc_text``."""
    values: dict[str, Any] = {}
    for name, text in zip(_COLUMNS, columns, strict=True):
        value: Any = None if text == "\\N" else _ESCAPE.sub(_unescaped, text)
        if value is not None and name in _INT_COLUMNS:
            value = int(value)
        values[name] = value
    at_text = values["at"]
    content = None if at_text is None else content_with_instant(values, at_text)
    values["at"] = None if at_text is None else datetime.fromisoformat(at_text)
    fields = {name: values[name] for name in KEYED_FIELDS}
    row = (values["id"], values["scheme"], values["prev_hash"], values["hash"])
    return (*row, content, values["records"] or "", fields)


def _unescaped(match: re.Match[str]) -> str:
    return _ESCAPED.get(match.group(1), match.group(1))


def _core_batches(after_id: int, limit: int | None) -> Iterator[list[WalkRow]]:
    columns = [AuditEvent.__table__.c[name] for name in _COLUMNS]
    stmt = select(*columns).where(AuditEvent.id > after_id).order_by(AuditEvent.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    result = db.session.execute(stmt.execution_options(yield_per=WALK_BATCH))
    try:
        for batch in result.partitions():
            yield [_from_typed(row) for row in batch]
    finally:
        result.close()  # the walk may stop at the first bad event; release the cursor


def _from_typed(row: Any) -> WalkRow:
    event_id, scheme, prev_hash, stored_hash, *values = row
    fields = dict(zip(KEYED_FIELDS, values, strict=True))
    content = None if scheme == LEGACY_SCHEME else keyed_content(fields)
    return (event_id, scheme, prev_hash, stored_hash, content, fields["records"] or "", fields)
