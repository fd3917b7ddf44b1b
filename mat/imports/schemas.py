"""marshmallow schemas of an import: each row through the live API's own schema, plus the
``patient_mrn`` (and for orders the free-text prescriber) that ties it to its patient."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from mat.dosing.models import MODES
from mat.dosing.schemas import DoseIn, ScreenIn
from mat.orders.schemas import OrderIn, ViolationOut
from mat.patients.schemas import PatientCreate
from mat.schema_fields import Answer, clinic_date, clinic_text

SECTIONS = ("patients", "orders", "doses", "drug_screens")


def _mrn() -> fields.String:
    """The patient a row belongs to, written as a registration writes an MRN."""
    return fields.String(required=True, validate=PatientCreate().fields["mrn"].validate)


class PatientRow(PatientCreate):
    """A patient as ``POST /api/v1/patients`` takes one."""


class OrderRow(OrderIn):
    """An order body as ``POST .../orders`` takes one, for a patient, by a named prescriber."""

    patient_mrn = _mrn()
    prescribed_by = clinic_text(required=True, validate=validate.Length(min=1, max=160))


class DoseRow(DoseIn):
    """A dose the other program gave, read as ``POST .../doses`` reads one (amount, slot,
    date), with its patient, product and mode; no late-entry reason, no station."""

    class Meta:
        exclude = ("late_entry_reason", "station")

    patient_mrn = _mrn()
    date = clinic_date(required=True)
    medication = fields.String(required=True, validate=validate.Length(min=1, max=24))
    mode = fields.String(required=True, validate=validate.OneOf(MODES))


class ScreenRow(ScreenIn):
    patient_mrn = _mrn()


class ImportHeader(Schema):
    source = clinic_text(multiline=True, required=True, validate=validate.Length(min=1, max=2000))
    dry_run = Answer(load_default=False)


class ImportIn(ImportHeader):
    """The whole body (the OpenAPI document's description of it). The service reads it row by
    row, streamed, through the row schemas above, so that errors are keyed by row."""

    patients = fields.List(fields.Nested(PatientRow), load_default=list)
    orders = fields.List(fields.Nested(OrderRow), load_default=list)
    doses = fields.List(fields.Nested(DoseRow), load_default=list)
    drug_screens = fields.List(fields.Nested(ScreenRow), load_default=list)


class CountsOut(Schema):
    patients = fields.Integer()
    orders = fields.Integer()
    doses = fields.Integer()
    drug_screens = fields.Integer()


class ImportWarningOut(ViolationOut):
    row = fields.String()  # "orders[2]": the row whose order the rule judged


class ImportOut(Schema):
    id = fields.Integer(allow_none=True)  # null for a dry run: nothing was written
    dry_run = fields.Boolean()
    counts = fields.Nested(CountsOut)
    warnings = fields.List(fields.Nested(ImportWarningOut))
