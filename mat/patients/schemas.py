"""marshmallow schemas of the patients API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mat.clock import clinic_today
from mat.dosing.screens import NEVER_PRESCRIBED, PANEL
from mat.patients.models import LEVELS_OF_CARE, STATUSES
from mat.patients.views_data import PatientDetail
from mat.schema_fields import Computed, clinic_date, clinic_text

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


PRESCRIBABLE = tuple(s for s in PANEL if s not in NEVER_PRESCRIBED)


class PatientUpdate(Schema):
    level_of_care = fields.String(validate=validate.OneOf(LEVELS_OF_CARE))
    status = fields.String(validate=validate.OneOf(STATUSES))
    # Screen-panel substances prescribed elsewhere: expected on a screen, not positive. The list
    # given replaces the list held; [] clears it.
    other_prescribed = fields.List(
        fields.String(
            validate=validate.OneOf(
                PRESCRIBABLE, error=f"Use screen-panel names: {', '.join(PRESCRIBABLE)}."
            )
        ),
        validate=validate.Length(max=len(PRESCRIBABLE)),
    )

    @validates_schema
    def not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give level_of_care, status or other_prescribed.", "_schema")
        named = data.get("other_prescribed") or []
        if len(set(named)) != len(named):
            raise ValidationError("Name each substance once.", "other_prescribed")


class AdmissionIn(Schema):
    """A readmission: a new episode of care from ``admitted_on`` (day 1 again)."""

    admitted_on = clinic_date(required=True)
    level_of_care = fields.String(required=True, validate=validate.OneOf(LEVELS_OF_CARE))


class EpisodeOut(Schema):
    number = fields.Integer()
    admitted_on = fields.Date()
    level_of_care = fields.String()
    admitted_by = Computed(lambda e: _signer(e.admitted_by))
    discharged = fields.Boolean()
    discharged_on = fields.Date(allow_none=True)  # null: not discharged, or date not recorded
    discharged_by = Computed(lambda e: _signer(e.discharged_by))


def _signer(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "username": user.username, "full_name": user.full_name,
            "initials": user.initials}  # fmt: skip


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
    other_prescribed = fields.List(fields.String(), attribute="other_prescribed_list")


class PatientDetailOut(PatientOut):
    """Dumps a ``views_data.PatientDetail``: the patient's own fields (``PatientOut``), then the
    episodes and the parts the view put together (``patient_detail``)."""

    # Filled by the orders and dosing features (views_data.DETAIL_PARTS); null/empty until then.
    active_order = fields.Method("_active_order", allow_none=True)
    open_holds = fields.Method("_open_holds")
    episodes = fields.Method("_episodes")  # every episode of care, the first admission first

    def get_attribute(self, obj: PatientDetail, attr: str, default: Any) -> Any:
        # PatientOut's fields read the patient; the Method fields below are given the whole detail
        return super().get_attribute(obj.patient, attr, default)

    def _episodes(self, detail: PatientDetail) -> Any:
        return EpisodeOut(many=True).dump(detail.episodes)

    def _active_order(self, detail: PatientDetail) -> Any:
        return detail.parts["active_order"]

    def _open_holds(self, detail: PatientDetail) -> Any:
        return detail.parts["open_holds"]
