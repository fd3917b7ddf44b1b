"""Audit events recorded directly, as if requests of a given user had done something."""

from __future__ import annotations

from typing import Any

from flask import g
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.audit.service import record
from mat.extensions import db


def events_by(user: Any, n: int, **kwargs: Any) -> list[int]:
    """``n`` committed events recorded as ``user``; the ids of all of that user's events."""
    g.actor = user
    try:
        for i in range(n):
            record("test.event", entity_type="thing", entity_id=i, **kwargs)
        db.session.commit()
    finally:
        g.pop("actor")
    stmt = select(AuditEvent.id).where(AuditEvent.username == user.username)
    return list(db.session.scalars(stmt.order_by(AuditEvent.id)))


def stored(action: str) -> list[AuditEvent]:
    """The stored events of one action, in id order."""
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(stmt))
