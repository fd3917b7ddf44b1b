"""Checking the audit trail: the keyed chain, the rows its events record, and the checkpoints.

``verify_chain`` walks the whole trail in id order, a batch at a time as plain rows (never the
whole trail in memory, never ORM objects), and names the first event that does not hold:

- its link to the previous event is broken (an event was deleted, inserted or moved);
- its keyed hash does not match its content (an event was edited), or it was hashed with a key
  this server does not have, or it claims the old unkeyed scheme after keyed events began;
- a clinical row it records is gone or no longer matches the digest the event holds (a dose,
  order, screen or formulary row was edited or deleted around the triggers);
- a signed checkpoint disagrees with the chain: its signature is wrong, or the chain at its event
  is not as long or does not end in the hash it signed, or its event is missing, or the chain
  ends before it (the newest events were cut off).

Checkpoints come from the database and, optionally, from an auditor's exported copy.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import select

from mat.audit.chain import (
    KEYED_PREFIX,
    LEGACY_SCHEME,
    ChainReport,
    checkpoint_signature,
    hmac_hasher,
    legacy_event_hashes,
    utc_text,
)
from mat.audit.checkpoints import Checkpoint, checkpoints_to_check
from mat.audit.keys import AuditKeys, audit_keys
from mat.audit.models import GENESIS, AuditEvent
from mat.audit.records import parse_name, row_digest
from mat.audit.service import record, seal_staged_reads
from mat.audit.walk_rows import WalkRow, event_chunks
from mat.clock import clinic_zone
from mat.extensions import db

BATCH = 1000  # recorded rows looked up per IN (...)


# Per table, the recorded rows a batch's events name: row id -> (digest, the event's id).
# table -> row id -> each digest the events recorded of it -> the first event recording that one
Wanted = dict[str, dict[int, dict[str, int]]]


class _Problem(Exception):
    def __init__(self, event_id: int | None, reason: str) -> None:
        super().__init__(reason)
        self.event_id, self.reason = event_id, reason


@dataclass(frozen=True)
class Progress:
    """Where a bounded walk stopped: enough to go on from the next event as if the walk had
    never paused (the link it expects, and the counts of its report)."""

    last_id: int
    expected_prev: str
    count: int
    legacy: int
    keyed: int
    matched: int
    records: int


class ChainWalk:
    """The state of one walk along the chain, fed a batch of event rows at a time."""

    def __init__(
        self,
        keys: AuditKeys,
        zones: list[Any],
        checkpoints: Sequence[Checkpoint],
        start: Progress | None = None,
    ):
        self.keys, self.zones = keys, zones
        self.scheme_keys: dict[str, bytes | None] = {}
        self.hashers: dict[str, Callable[[bytes], str]] = {}  # keyed schemes whose key we have
        self.checkpoints = sorted(checkpoints, key=lambda c: c.through_id)
        self.next_checkpoint = 0
        self.expected_prev = GENESIS
        self.count = self.legacy = self.keyed = self.matched = self.records = 0
        self.last_id = 0
        if start is not None:
            self.last_id, self.expected_prev = start.last_id, start.expected_prev
            self.count, self.legacy, self.keyed = start.count, start.legacy, start.keyed
            self.matched, self.records = start.matched, start.records
            # Checkpoints at or before the pause were checked by the calls that walked there.
            while (
                self.next_checkpoint < len(self.checkpoints)
                and self.checkpoints[self.next_checkpoint].through_id <= start.last_id
            ):
                self.next_checkpoint += 1

    def progress(self) -> Progress:
        return Progress(
            self.last_id, self.expected_prev, self.count, self.legacy, self.keyed, self.matched,
            self.records,
        )  # fmt: skip

    def report(self, problem: _Problem | None = None) -> ChainReport:
        ok = ChainReport(True, self.count, None, None, self.matched, self.legacy, self.records)
        return ok if problem is None else ok.failed(problem.event_id, problem.reason)

    def restore(self, progress: Progress) -> None:
        """Back to the state after an earlier batch, but for the count of rows checked (the
        records of the batches up to this one were checked since)."""
        self.last_id, self.expected_prev = progress.last_id, progress.expected_prev
        self.count, self.legacy, self.keyed = progress.count, progress.legacy, progress.keyed
        self.matched = progress.matched

    def check_chain(self, rows: Sequence[WalkRow]) -> tuple[Wanted, _Problem | None]:
        """Check a batch of events up to the first bad one; answers the rows they record (for
        ``check_records``) and the problem."""
        chain_problem: _Problem | None = None
        wanted: Wanted = defaultdict(dict)
        # The usual event (its link holds, a key this server has, no checkpoint at or before
        # it) is checked here on locals: per-event method calls and attribute writes were a
        # tenth of a million-event walk. Anything else, and any mismatch, goes to
        # ``_check_event`` with the walk's state written back, which names the problem.
        hashers = self.hashers
        expected, count, keyed, last_id = self.expected_prev, self.count, self.keyed, self.last_id
        next_checkpoint = self._next_checkpoint_id()
        for row in rows:
            event_id, scheme, prev_hash, stored_hash, content, recorded, _ = row
            hasher = hashers.get(scheme)
            if (
                hasher is not None
                and prev_hash == expected
                and event_id < next_checkpoint
                and content is not None
                and hasher((prev_hash + content).encode()) == stored_hash
            ):
                count += 1
                keyed += 1
                expected, last_id = stored_hash, event_id
            else:
                self.expected_prev, self.count, self.keyed, self.last_id = (
                    expected, count, keyed, last_id,
                )  # fmt: skip
                try:
                    self._check_event(row)
                except _Problem as problem:
                    chain_problem = problem
                    break
                expected, count, keyed, last_id = (
                    self.expected_prev, self.count, self.keyed, self.last_id,
                )  # fmt: skip
                next_checkpoint = self._next_checkpoint_id()
            if recorded:
                for name, digest in json.loads(recorded).items():
                    table, row_id = parse_name(name)
                    # Every digest a row was recorded with, each at its first event: a row
                    # changed between two events recording it is caught at the first one.
                    wanted[table].setdefault(row_id, {}).setdefault(digest, event_id)
        else:
            self.expected_prev, self.count, self.keyed, self.last_id = (
                expected, count, keyed, last_id,
            )  # fmt: skip
        return wanted, chain_problem

    def finish(self) -> _Problem | None:
        if self.next_checkpoint < len(self.checkpoints):
            cp = self.checkpoints[self.next_checkpoint]
            return _Problem(
                cp.through_id,
                f"the trail ends after {self.count} events (last event {self.last_id}) but a "
                f"checkpoint ({cp.source}, {utc_text(cp.at)}) says it held {cp.events} events "
                f"through event {cp.through_id}: events were cut off the end",
            )
        return None

    def _check_event(self, row: WalkRow) -> None:
        event_id, scheme, prev_hash, stored_hash, content, _, fields = row
        self._pass_checkpoints_before(event_id)
        self.count += 1
        self.last_id = event_id
        if prev_hash != self.expected_prev:
            raise _Problem(
                event_id,
                "its previous-hash link is broken (an event before it was deleted, inserted or "
                "moved)",
            )
        if scheme == LEGACY_SCHEME:
            if self.keyed:
                raise _Problem(
                    event_id, "it claims the old unkeyed scheme after keyed events began"
                )
            if (
                fields is None
                or fields["at"] is None
                or stored_hash not in legacy_event_hashes(prev_hash, fields, self.zones)
            ):
                raise _Problem(event_id, "its content does not match its hash")
            self.legacy += 1
        else:
            key = self._key(scheme)
            if key is None:
                raise _Problem(
                    event_id,
                    f"it was hashed with a key this server does not have ({scheme}); set "
                    "MAT_AUDIT_KEY or MAT_AUDIT_OLD_KEYS",
                )
            hasher = self.hashers.setdefault(scheme, hmac_hasher(key))
            if content is None or hasher((prev_hash + content).encode()) != stored_hash:
                raise _Problem(event_id, "its content does not match its hash")
            self.keyed += 1
        self.expected_prev = stored_hash
        self._check_checkpoint_at(event_id, stored_hash)

    def _next_checkpoint_id(self) -> float:
        """The event id of the next checkpoint to meet (infinity past the last one)."""
        if self.next_checkpoint < len(self.checkpoints):
            return self.checkpoints[self.next_checkpoint].through_id
        return math.inf

    def _key(self, scheme: str) -> bytes | None:
        if scheme not in self.scheme_keys:  # a trail has a handful of schemes, asked per event
            found = None
            if scheme.startswith(KEYED_PREFIX):
                found = self.keys.find(scheme.removeprefix(KEYED_PREFIX))
            self.scheme_keys[scheme] = found
        return self.scheme_keys[scheme]

    def _pass_checkpoints_before(self, event_id: int) -> None:
        while self.next_checkpoint < len(self.checkpoints):
            cp = self.checkpoints[self.next_checkpoint]
            if cp.through_id >= event_id:
                return
            raise _Problem(
                cp.through_id,
                f"a checkpoint ({cp.source}) ends at event {cp.through_id}, which is missing",
            )

    def _check_checkpoint_at(self, event_id: int, stored_hash: str) -> None:
        while self.next_checkpoint < len(self.checkpoints):
            cp = self.checkpoints[self.next_checkpoint]
            if cp.through_id != event_id:
                return
            key = self._key(cp.scheme)
            signed = (
                key is not None
                and checkpoint_signature(key, cp.through_id, cp.events, cp.head_hash, cp.at)
                == cp.signature
            )
            if not signed:
                raise _Problem(event_id, f"a checkpoint ({cp.source}) at it has a wrong signature")
            if (cp.events, cp.head_hash) != (self.count, stored_hash):
                raise _Problem(
                    event_id,
                    f"a checkpoint ({cp.source}, {utc_text(cp.at)}) says the chain held "
                    f"{cp.events} events through it, ending in {cp.head_hash[:12]}...; it holds "
                    f"{self.count}, ending in {stored_hash[:12]}...",
                )
            self.matched += 1
            self.next_checkpoint += 1

    def check_records(self, wanted: Wanted) -> _Problem | None:
        problems = []
        for table_name, expected in wanted.items():
            table = db.metadata.tables.get(table_name)
            if table is None:
                first = min(e for digests in expected.values() for e in digests.values())
                problems.append(_Problem(first, f"it records rows of {table_name}, not a table"))
                continue
            ids = sorted(expected)
            stored = {
                row.id: row_digest(table, row._mapping)
                for start in range(0, len(ids), BATCH)
                for row in db.session.execute(
                    select(table).where(table.c.id.in_(ids[start : start + BATCH]))
                )
            }
            for row_id, digests in expected.items():
                for digest, event_id in digests.items():
                    self.records += 1
                    if row_id not in stored:
                        problems.append(
                            _Problem(event_id, f"{table_name}/{row_id} it records is gone")
                        )
                    elif stored[row_id] != digest:
                        problems.append(
                            _Problem(
                                event_id,
                                f"{table_name}/{row_id} it records was changed after it was "
                                "recorded",
                            )
                        )
        return min(problems, key=lambda p: p.event_id or 0, default=None)


def verify_chain(exported: Iterable[dict[str, Any]] = ()) -> ChainReport:
    """Check the whole trail against the stored checkpoints and an exported copy of them."""
    report, _ = verify_chain_part(exported)
    return report


def verify_chain_part(
    exported: Iterable[dict[str, Any]] = (),
    *,
    start: Progress | None = None,
    limit: int | None = None,
) -> tuple[ChainReport, Progress | None]:
    """Check the trail from ``start`` (the beginning when None), at most ``limit`` events.

    Answers the report so far and, when events remain after the limit, the ``Progress`` to go on
    from (None once the walk reached the end or found a problem). The counts of a report are
    for the whole walk since the beginning, however many parts it took."""
    seal_staged_reads()  # the reads recorded so far are checked as part of the chain
    checkpoints = checkpoints_to_check(db.session, exported)
    walk = ChainWalk(audit_keys(), [UTC, clinic_zone()], checkpoints, start)
    walked_from = walk.count
    problem = _walk(walk, limit)
    if problem is not None:
        return walk.report(problem), None
    if limit is not None and walk.count - walked_from == limit and _events_after(walk.last_id):
        return walk.report(), walk.progress()
    return walk.report(walk.finish()), None


def _walk(walk: ChainWalk, limit: int | None) -> _Problem | None:
    """Feed the walk the events after where it stands, a chunk at a time: the links and hashes
    of a chunk's batches are checked while its events stream in, and the rows they record once
    the chunk is read (PostgreSQL runs no other statement on a connection during a COPY), batch
    by batch in order, so the problem named is the one a walk checking each batch whole (links,
    hashes, then rows) would name."""
    with closing(event_chunks(walk.last_id, limit)) as chunks:
        for chunk in chunks:
            problem = _walk_chunk(walk, chunk)
            if problem is not None:
                return problem
    return None


def _walk_chunk(walk: ChainWalk, chunk: Generator[Sequence[WalkRow]]) -> _Problem | None:
    pending: list[tuple[Wanted, _Problem | None, Progress]] = []
    try:
        for batch in chunk:
            wanted, chain_problem = walk.check_chain(batch)
            pending.append((wanted, chain_problem, walk.progress()))
            if chain_problem is not None:
                break
    finally:
        chunk.close()  # the walk may stop at the first bad event: end the read now
    for wanted, chain_problem, progress in pending:
        walk.restore(progress)
        # A changed row recorded by an earlier event of the batch is the first thing wrong.
        problem = walk.check_records(wanted) or chain_problem
        if problem is not None:
            return problem
    return None


def _events_after(event_id: int) -> bool:
    stmt = select(AuditEvent.id).where(AuditEvent.id > event_id).limit(1)
    return db.session.scalar(stmt) is not None


def verify_chain_on_record(
    *, start: Progress | None = None, limit: int | None = None
) -> tuple[ChainReport, Progress | None]:
    """Verify the chain (or its next part), then record that it was verified and what was found.

    The event is only queued here and chained at commit, after the walk: it is never part of the
    trail it reports on, so ``events`` counts what existed when the auditor asked.
    """
    report, stopped = verify_chain_part(start=start, limit=limit)
    detail: dict[str, Any] = {
        "ok": report.ok, "events": report.events, "first_bad": report.first_bad,
    }  # fmt: skip
    if start is not None or stopped is not None:
        detail["after_id"] = start.last_id if start else 0
        detail["complete"] = stopped is None
    record("audit.verify", entity_type="audit_trail", outcome="done", detail=detail)
    return report, stopped
