"""Reading the audit trail: the filters an auditor gives, and the queries both the API and the
audit screen run with them.

Filters name clinic-local days (``MAT_CLINIC_TZ``); ``utc_bounds`` turns them into the UTC
instants the trail stores, so a day is the clinic's day even across a daylight-saving change.
Events are ordered by ``id``: that is the chain's order, the order the trail was written in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select

from mat.audit.models import AuditEvent
from mat.audit.service import seal_staged_reads
from mat.extensions import db

OUTCOMES = ("done", "refused")
# Without dates the trail shows the last week: today and the six clinic days before it.
DEFAULT_DAYS = 7
PAGE_SIZE = 100


def resolve_days(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The days a query covers: ``last`` defaults to today, ``first`` to six days before it."""
    last = last or today
    return first or last - timedelta(days=DEFAULT_DAYS - 1), last


def utc_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC: from the clinic's midnight opening ``first`` to the one after ``last``.

    A day is 23 or 25 hours long where the zone changes its clock. Where the change happens at
    midnight (Chile), fold 0 still names the day's first instant: a skipped midnight maps to the
    moment of the jump, a repeated one to its first occurrence.
    """
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_iso(at: datetime, zone: ZoneInfo) -> str:
    """A stored instant as the clinic's wall time with its offset, to the microsecond (lossless)."""
    return at.astimezone(zone).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class AuditFilters:
    first_day: date
    last_day: date
    user: str | None = None
    patient_id: int | None = None
    outcome: str | None = None

    def as_args(self) -> dict[str, Any]:
        """The filters as query-string arguments (for links that keep them): those given."""
        return {k: v for k, v in self.as_detail().items() if v is not None}

    def as_detail(self) -> dict[str, Any]:
        """The filters as an audit event records them (every key, given or not)."""
        return {
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "user": self.user,
            "patient_id": self.patient_id,
            "outcome": self.outcome,
        }


def matching(filters: AuditFilters, zone: ZoneInfo, *, through_id: int | None = None) -> Select:
    """The events the filters select, unordered; ``through_id`` caps the trail at a snapshot."""
    start, end = utc_bounds(filters.first_day, filters.last_day, zone)
    stmt = select(AuditEvent).where(AuditEvent.at >= start, AuditEvent.at < end)
    if filters.user is not None:
        # The name stored with the event, as it was then (also CLI actors such as "demo-seed").
        stmt = stmt.where(AuditEvent.username == filters.user)
    if filters.patient_id is not None:
        stmt = stmt.where(AuditEvent.patient_id == filters.patient_id)
    if filters.outcome is not None:
        stmt = stmt.where(AuditEvent.outcome == filters.outcome)
    if through_id is not None:
        stmt = stmt.where(AuditEvent.id <= through_id)
    return stmt


def last_event_id() -> int:
    """The newest stored event: an export covers the trail up to here and nothing later.

    Ids are taken under the chain's lock and committed in that order, so every event with a
    smaller id is already stored: the ids up to this one are a complete prefix of the trail.
    """
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def count_events(filters: AuditFilters, zone: ZoneInfo) -> int:
    subquery = matching(filters, zone).with_only_columns(AuditEvent.id).subquery()
    return db.session.scalar(select(func.count()).select_from(subquery)) or 0


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]  # newest first
    total: int  # every event the filters match, on all pages
    newer_than: int | None  # cursor of the previous (newer) page, None on the first
    older_than: int | None  # cursor of the next (older) page, None on the last


def event_page(
    filters: AuditFilters,
    zone: ZoneInfo,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    """One page, newest first, by id cursor rather than offset: new events arrive all the time
    (reading this page is one), and a cursor keeps each page's rows where they were."""
    seal_staged_reads()  # the reads recorded so far are part of the trail shown
    base = matching(filters, zone)
    if after is not None:
        stmt = base.where(AuditEvent.id > after).order_by(AuditEvent.id).limit(size)
        events = list(reversed(db.session.scalars(stmt).all()))
    else:
        if before is not None:
            base = base.where(AuditEvent.id < before)
        stmt = base.order_by(AuditEvent.id.desc()).limit(size)
        events = list(db.session.scalars(stmt))
    if not events:
        return EventPage([], count_events(filters, zone), None, None)

    def exists(condition: Any) -> bool:
        probe = matching(filters, zone).where(condition).with_only_columns(AuditEvent.id)
        return db.session.scalar(probe.limit(1)) is not None

    newest, oldest = events[0].id, events[-1].id
    return EventPage(
        events,
        count_events(filters, zone),
        newest if exists(AuditEvent.id > newest) else None,
        oldest if exists(AuditEvent.id < oldest) else None,
    )
