"""Assertions shared by the API tests: the contract's error shape, and "nothing changed"."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from mat.audit.models import AuditEvent
from mat.extensions import db


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def audited_refusals() -> list[tuple[int, str, int | None]]:
    """Every refused request in the audit trail (``record_refusal``'s events, not a service's own
    refused event such as ``order.preview``) as (status, code, patient it names), oldest first.
    A page that audits its own refusal must leave exactly one: the commit hook records an
    anonymous second one for a 4xx answer not marked as recorded (``answer_refusal``)."""
    stmt = select(AuditEvent).where(AuditEvent.outcome == "refused").order_by(AuditEvent.id)
    found = []
    for event in db.session.scalars(stmt):
        detail = json.loads(event.detail)
        if "status" in detail:
            found.append((detail["status"], detail["code"], event.patient_id))
    return found
