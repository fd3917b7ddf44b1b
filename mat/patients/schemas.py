"""marshmallow schemas of the patients API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mat.clock import clinic_today
from mat.patients.models import LEVELS_OF_CARE, STATUSES
from mat.patients.views_data import DETAIL_PARTS
from mat.schema_fields import clinic_date, clinic_text

# Admission dates a registration can mean: not before programs like this one kept records the
# way mat does (1950; and never before the date of birth), and at most 30 days ahead (a patient
# booked for intake next month). Anything else is a typo (2062 for 2026, 1026), refused with 422
# before it shifts the day of treatment every rule counts from.
EARLIEST_ADMISSION = date(1950, 1, 1)
ADMISSION_DAYS_AHEAD = 30


def admission_problem(admitted: date, born: date | None, today: date) -> str | None:
    """Why ``admitted`` cannot be an admission date, or None. Pure: ``today`` is passed in."""
    latest = today + timedelta(days=ADMISSION_DAYS_AHEAD)
    if admitted < EARLIEST_ADMISSION:
        return f"Use an admission date from {EARLIEST_ADMISSION} on."
    if born is not None and admitted < born:
        return "Admission is before the date of birth."
    if admitted > latest:
        return f"Admission is at most {ADMISSION_DAYS_AHEAD} days ahead: on or before {latest}."
    return None


class PatientCreate(Schema):
    mrn = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$", error="Use 1-32 letters, digits or '-'."
        ),
    )
    given_name = clinic_text(required=True, validate=validate.Length(min=1, max=80))
    family_name = clinic_text(required=True, validate=validate.Length(min=1, max=80))
    date_of_birth = clinic_date(required=True)
    admitted_on = clinic_date(required=True)
    level_of_care = fields.String(required=True, validate=validate.OneOf(LEVELS_OF_CARE))

    @validates_schema
    def dates_in_order(self, data: dict[str, Any], **_: Any) -> None:
        born, admitted = data.get("date_of_birth"), data.get("admitted_on")
        today = clinic_today()
        if born and born > today:
            raise ValidationError("The date of birth is in the future.", "date_of_birth")
        problem = admission_problem(admitted, born, today) if admitted else None
        if problem:
            raise ValidationError(problem, "admitted_on")


class PatientUpdate(Schema):
    level_of_care = fields.String(validate=validate.OneOf(LEVELS_OF_CARE))
    status = fields.String(validate=validate.OneOf(STATUSES))

    @validates_schema
    def not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give level_of_care or status.", "_schema")


class PatientSearch(Schema):
    # Kept in the audit trail (patient.search), never printed: the text rules, not the fonts.
    q = clinic_text(printed=False, load_default="", validate=validate.Length(max=80))


class PatientOut(Schema):
    id = fields.Integer()
    mrn = fields.String()
    given_name = fields.String()
    family_name = fields.String()
    date_of_birth = fields.Date()
    admitted_on = fields.Date()
    level_of_care = fields.String()
    status = fields.String()


class PatientDetailOut(PatientOut):
    # Filled by the orders and dosing features (views_data.DETAIL_PARTS); null/empty until then.
    active_order = fields.Method("_active_order", allow_none=True)
    open_holds = fields.Method("_open_holds")

    def _active_order(self, patient: object) -> Any:
        return DETAIL_PARTS["active_order"](patient)

    def _open_holds(self, patient: object) -> Any:
        return DETAIL_PARTS["open_holds"](patient)
