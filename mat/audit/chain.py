"""Hash chaining of audit events: pure functions, no database.

The hash covers every stored field but ``id`` and ``hash`` itself, serialized as canonical JSON,
prefixed by the previous event's hash. Changing any field, dropping an event or swapping two
events changes what the next event should have stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

HASHED_FIELDS = (
    "at", "user_id", "username", "roles", "client_addr", "action", "entity_type",
    "entity_id", "patient_id", "outcome", "rules", "detail",
)  # fmt: skip


class ChainedEvent(Protocol):
    id: int
    prev_hash: str
    hash: str


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    content = {k: fields[k] for k in HASHED_FIELDS}
    at = content["at"]
    if isinstance(at, datetime):
        content["at"] = at.isoformat(timespec="microseconds")
    return hashlib.sha256((prev_hash + canonical(content)).encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_bad: int | None
    reason: str | None = None


def verify(events: Iterable[Any], genesis: str) -> ChainReport:
    """Walk events in id order; name the first whose link or content does not match."""
    expected_prev = genesis
    count = 0
    for event in events:
        count += 1
        if event.prev_hash != expected_prev:
            return ChainReport(
                False,
                count,
                event.id,
                "its previous-hash link is broken "
                "(an event before it was deleted, inserted or moved)",
            )
        fields = {k: getattr(event, k) for k in HASHED_FIELDS}
        if event_hash(event.prev_hash, fields) != event.hash:
            return ChainReport(False, count, event.id, "its content does not match its hash")
        expected_prev = event.hash
    return ChainReport(True, count, None)
