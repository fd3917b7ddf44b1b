"""The audit trail's keyed hash chain: pure functions, no Flask, no database.

Each event stores the hash of the one before it (``prev_hash``) and its own ``hash``, an
HMAC-SHA256 under the clinic's audit key (``mat.audit.keys``) of the previous hash and the
event's content as canonical JSON. So:

- editing, deleting, inserting or moving an event breaks the chain where it happened;
- re-forging the chain after an edit (recomputing every later hash) needs the audit key, which
  lives in the app server's environment, never in the database;
- cutting the newest events off is caught by the signed checkpoints (``checkpoint_signature``):
  a checkpoint says "the chain had N events through event id X, ending in hash H", signed with
  the same key, kept in the database and exported by auditors to keep elsewhere.

Content is hashed in one canonical form whatever the server's or the clinic's time zone:
timestamps as UTC ISO 8601 to the microsecond, JSON with sorted keys and no spaces.

Events written before keyed hashing (migration 0004) carry the scheme ``sha256``: a plain SHA-256
over the old canonical form. They are accepted only as the oldest part of the trail, before the
first keyed event, and counted apart in the report, so an auditor sees how much of the trail is
protected by the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

HASHED_FIELDS = (
    "at", "user_id", "username", "roles", "client_addr", "action", "entity_type",
    "entity_id", "patient_id", "outcome", "rules", "detail",
)  # fmt: skip
# Keyed events also cover the digests of the clinical rows they record (``records``).
KEYED_FIELDS = (*HASHED_FIELDS, "records")
LEGACY_SCHEME = "sha256"
KEYED_PREFIX = "hmac-sha256:"


# One encoder for every call: ``json.dumps`` with options builds a new encoder each time, which
# cost a verify of a million events several seconds. Same output as
# ``json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)``.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical(value: Any) -> str:
    return _CANONICAL.encode(value)


def utc_text(at: datetime) -> str:
    """The one text form of an instant that is hashed: UTC, microseconds, ``+00:00``."""
    if at.tzinfo is UTC:  # as the database hands most of them back: no conversion to make
        return at.isoformat(timespec="microseconds")
    if at.tzinfo is None:
        raise ValueError("naive datetime refused: audit instants are aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def key_id(key: bytes) -> str:
    """A short public name of a key, stored with each event so rotated keys can be found."""
    return hashlib.sha256(b"mat-audit-key-id|" + key).hexdigest()[:12]


def keyed_scheme(key: bytes) -> str:
    return KEYED_PREFIX + key_id(key)


def event_hash(key: bytes, prev_hash: str, fields: dict[str, Any]) -> str:
    """HMAC-SHA256 of the previous hash and the event's canonical content."""
    message = (prev_hash + keyed_content(fields)).encode()
    return hmac.digest(key, message, "sha256").hex()


# The keyed fields in the canonical (sorted) order, each with its JSON key written out.
_KEYED_SORTED = tuple(
    (name, json.encoder.encode_basestring_ascii(name) + ":") for name in sorted(KEYED_FIELDS)
)
_JSON_STRING = json.encoder.encode_basestring_ascii  # what _CANONICAL writes a string with


def keyed_content(fields: dict[str, Any]) -> str:
    """``canonical`` of the event's keyed fields, its instant as ``utc_text``: written field by
    field for the types an event holds (text, whole numbers, nothing), a third of the time the
    general encoder takes on a million-event verify; any other value goes to the general
    encoder. A test checks the two agree for every kind of value."""
    return content_with_instant(fields, utc_text(fields["at"]))


def content_with_instant(fields: dict[str, Any], at_text: str) -> str:
    """``keyed_content`` with the instant given as its ``utc_text`` already (verify has
    PostgreSQL write it, cheaper than a datetime made and written back per event)."""
    parts = []
    for name, key in _KEYED_SORTED:
        value = at_text if name == "at" else fields[name]
        kind = type(value)
        if kind is str:
            parts.append(key + _JSON_STRING(value))
        elif value is None:
            parts.append(key + "null")
        elif kind is int:
            parts.append(key + int.__repr__(value))
        else:
            content = {name: fields[name] for name in KEYED_FIELDS}
            content["at"] = at_text
            return canonical(content)
    return "{" + ",".join(parts) + "}"


def hmac_hasher(key: bytes) -> Callable[[bytes], str]:
    """The HMAC-SHA256 (hex) of a message under ``key``, as ``hmac.digest`` computes it, for
    many messages: RFC 2104's inner and outer SHA-256 states are made once from the key and
    copied per message, where ``hmac.digest`` sets the key up again on every call (its half of
    the work; a verify hashes every event of the trail). A test checks the two agree."""
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    block = key.ljust(_SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def hexdigest(message: bytes) -> str:
        first = inner.copy()
        first.update(message)
        second = outer.copy()
        second.update(first.digest())
        return second.hexdigest()

    return hexdigest


_SHA256_BLOCK = 64


def legacy_event_hashes(prev_hash: str, fields: dict[str, Any], zones: list[Any]) -> set[str]:
    """What a pre-0004 event may have stored: plain SHA-256, with its instant written in UTC or
    in the clinic's zone (the old code hashed the zone it was recorded in)."""
    found = set()
    for zone in zones:
        content = {name: fields[name] for name in HASHED_FIELDS}
        content["at"] = content["at"].astimezone(zone).isoformat(timespec="microseconds")
        found.add(hashlib.sha256((prev_hash + canonical(content)).encode()).hexdigest())
    return found


def checkpoint_signature(
    key: bytes, through_id: int, events: int, head_hash: str, at: datetime
) -> str:
    """The signature of a checkpoint: HMAC over what it asserts, in one canonical text."""
    message = f"mat-audit-checkpoint|{through_id}|{events}|{head_hash}|{utc_text(at)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_bad: int | None
    reason: str | None = None
    checkpoints: int = 0  # signed checkpoints matched along the chain
    legacy_events: int = 0  # events from before keyed hashing (scheme sha256)
    records: int = 0  # recorded digests of clinical rows checked (a row once per digest a batch)

    def failed(self, first_bad: int | None, reason: str) -> ChainReport:
        return ChainReport(
            False, self.events, first_bad, reason, self.checkpoints, self.legacy_events,
            self.records,
        )  # fmt: skip
