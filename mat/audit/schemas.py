"""marshmallow schemas of the audit trail: the auditor's filters (API and screen alike) and the
events as the API answers them. They also feed the OpenAPI document."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from mat.audit.queries import OUTCOMES, AuditFilters, local_iso, resolve_days
from mat.clock import clinic_today, clinic_zone
from mat.schema_fields import clinic_date

# Converting a day to UTC overflows at the ends of Python's calendar (year 1, year 9999).
EXPORT_FORMATS = ("json", "csv")
# Ids are 32-bit integer columns on PostgreSQL: a larger number must be a 422, never reach SQL.
MAX_ID = 2**31 - 1


def _id(minimum: int = 1) -> fields.Integer:
    return fields.Integer(validate=validate.Range(min=minimum, max=MAX_ID))


def _day(description: str, **kwargs: Any) -> fields.Date:
    return clinic_date(metadata={"description": description}, **kwargs)


class AuditFilterQuery(Schema):
    """Loads into ``{"filters": AuditFilters, ...}`` with the default days filled in."""

    from_ = _day(
        "First clinic-local day, inclusive. Default: six days before `to`.", data_key="from"
    )
    to = _day("Last clinic-local day, inclusive. Default: today (clinic-local).")
    user = fields.String(
        validate=[
            validate.Length(min=1, max=80),
            # PostgreSQL refuses NUL in text; no username holds a control character anyway.
            validate.Regexp(r"^[^\x00-\x1f\x7f]*$", error="Use a username."),
        ],
        metadata={"description": "Username"},
    )
    patient_id = _id()
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))

    @pre_load
    def drop_empty(self, data: Any, **_: Any) -> dict[str, Any]:
        # A filter form sends every field, the unused ones empty: empty means "not given".
        return {key: data[key] for key in data if data[key] != ""}

    @post_load
    def resolve(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        first, last = resolve_days(data.pop("from_", None), data.pop("to", None), clinic_today())
        if first > last:
            raise ValidationError(f"from ({first}) is after to ({last}).", "from")
        filters = AuditFilters(
            first,
            last,
            user=data.pop("user", None),
            patient_id=data.pop("patient_id", None),
            outcome=data.pop("outcome", None),
        )
        return {"filters": filters, **data}


class AuditExportQuery(AuditFilterQuery):
    format = fields.String(load_default="json", validate=validate.OneOf(EXPORT_FORMATS))


class AuditPageQuery(AuditFilterQuery):
    # Cursors of the audit screen: show the events just older than / newer than this id.
    before = _id()
    after = _id(minimum=0)

    @validates_schema
    def one_cursor(self, data: dict[str, Any], **_: Any) -> None:
        if "before" in data and "after" in data:
            raise ValidationError("Give before or after, not both.", "before")


class ClinicDateTime(fields.DateTime):
    """A stored UTC instant written as clinic-local time with its offset."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kw: Any) -> Any:
        return None if value is None else local_iso(value, clinic_zone())


def comma_list(value: str | None) -> list[str]:
    """A comma-separated column (roles, rule ids) as a list (also ``export.event_json``)."""
    return [part for part in (value or "").split(",") if part]


def json_object(value: str | None) -> Any:
    """A column holding a JSON object, as that object (also ``export.event_json``)."""
    return json.loads(value or "{}")


class CommaSeparated(fields.List):
    """A comma-separated column (roles, rule ids) as a list."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.String(), **kwargs)

    def _serialize(self, value: str | None, attr: str | None, obj: Any, **kw: Any) -> Any:
        return comma_list(value)


class JSONText(fields.Dict):
    """A column holding a JSON object, answered as that object."""

    def _serialize(self, value: str | None, attr: str | None, obj: Any, **kw: Any) -> Any:
        return json_object(value)


class AuditEventOut(Schema):
    id = fields.Integer()
    at = ClinicDateTime()
    user_id = fields.Integer(allow_none=True)
    username = fields.String(allow_none=True)
    roles = CommaSeparated()
    client_addr = fields.String(allow_none=True)
    action = fields.String()
    entity_type = fields.String(allow_none=True)
    entity_id = fields.String(allow_none=True)
    patient_id = fields.Integer(allow_none=True)
    outcome = fields.String(metadata={"enum": list(OUTCOMES)})
    rules = CommaSeparated()
    detail = JSONText()
    prev_hash = fields.String()
    hash = fields.String()


class AuditEventsOut(Schema):
    events = fields.List(fields.Nested(AuditEventOut))


class ChainReportOut(Schema):
    ok = fields.Boolean()
    events = fields.Integer(metadata={"description": "Events checked"})
    first_bad = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    checkpoints = fields.Integer(metadata={"description": "Signed checkpoints matched"})
    legacy_events = fields.Integer(
        metadata={"description": "Events from before keyed hashing (not protected by the key)"}
    )
    records = fields.Integer(metadata={"description": "Clinical rows checked against digests"})
    complete = fields.Boolean(
        metadata={"description": "False while events remain to check: call again with `after`"}
    )
    next = fields.String(
        allow_none=True,
        metadata={"description": "The cursor to pass as `after` for the next part, else null"},
    )


class VerifyQuery(Schema):
    after = fields.String(
        validate=validate.Length(min=1, max=2000),
        metadata={
            "description": "The `next` of the previous answer: go on where that call stopped"
        },
    )


class CheckpointOut(Schema):
    through_id = fields.Integer()
    events = fields.Integer()
    head_hash = fields.String()
    at = fields.String(metadata={"description": "UTC, ISO 8601; part of what is signed"})
    scheme = fields.String()
    signature = fields.String()


class CheckpointsOut(Schema):
    checkpoints = fields.List(fields.Nested(CheckpointOut))
