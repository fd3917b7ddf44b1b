"""marshmallow schemas of the dosing-window API (they also feed the OpenAPI document)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mat.dosing.models import LOSS_DECISIONS, LOSS_KINDS
from mat.dosing.screens import PANEL
from mat.orders.schemas import SLOT, SignerOut, ViolationOut
from mat.schema_fields import Computed, amount, clinic_date, clinic_text
from mat.stock.fields import station_field
from mat.stock.rules import units_of

SCREEN_SUBSTANCES = PANEL  # the screen panel (mat/dosing/screens.py)
REASON = validate.Length(min=3, max=2000)


class DoseIn(Schema):
    amount_mg = amount(
        required=True,
        validate=validate.Range(min=Decimal(0), min_inclusive=False, max=Decimal(10000)),
    )
    slot = fields.String(load_default=None, validate=SLOT)
    date = clinic_date(load_default=None)
    late_entry_reason = clinic_text(
        multiline=True, load_default=None, validate=validate.Length(max=2000)
    )
    station = station_field()


class WithheldIn(Schema):
    reason = clinic_text(multiline=True, required=True, validate=REASON)
    date = clinic_date(load_default=None)


class TakeHomeRequestIn(Schema):
    dates = fields.List(clinic_date(), required=True, validate=validate.Length(min=1, max=28))
    station = station_field()


class WitnessIn(Schema):
    # A failed witness confirmation names the witness in the audit trail: stored text.
    username = clinic_text(printed=False, required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class CorrectionIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("void", "spill")))
    reason = clinic_text(multiline=True, required=True, validate=REASON)
    # Absent or null: refused by the rule (422 witness_required), not as a missing field.
    witness = fields.Nested(WitnessIn, load_default=None, allow_none=True)


class LossReportIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(LOSS_KINDS))
    reported_on = clinic_date(required=True)
    note = clinic_text(multiline=True, required=True, validate=REASON)


class LossReviewIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(LOSS_DECISIONS))
    note = clinic_text(multiline=True, required=True, validate=REASON)


class ReasonIn(Schema):
    reason = clinic_text(multiline=True, required=True, validate=REASON)


class ScreenIn(Schema):
    collected_on = clinic_date(required=True)
    results = fields.Dict(
        keys=fields.String(validate=validate.OneOf(SCREEN_SUBSTANCES)),
        values=fields.String(validate=validate.OneOf(("positive", "negative"))),
        required=True,
    )

    @validates_schema
    def some_results(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("results"):
            raise ValidationError("Give at least one substance's result.", "results")


class ClosureIn(Schema):
    date = clinic_date(required=True)
    reason = clinic_text(multiline=True, required=True, validate=REASON)


class PlanQuery(Schema):
    date = clinic_date(load_default=None)  # default: today at the clinic


class RangeQuery(Schema):
    from_ = clinic_date(data_key="from", load_default=None)
    to = clinic_date(load_default=None)


# ---- answers ------------------------------------------------------------------------------


def _amount(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(as_string=False, **kwargs)


class DosePlanOut(Schema):
    date = fields.Date()
    status = fields.String()
    dose_mg = _amount(allow_none=True)
    volume_ml = _amount(allow_none=True)
    slot = fields.String(allow_none=True)
    mode = fields.String(allow_none=True)
    medication = fields.String(allow_none=True)
    violations = fields.List(fields.Nested(ViolationOut))
    warnings = fields.List(fields.Nested(ViolationOut))
    missed_days = fields.Integer()
    take_home_ceiling_days = fields.Integer(allow_none=True)


class CorrectionOut(Schema):
    id = fields.Integer()
    dose_id = fields.Integer()
    kind = fields.String()
    reason = fields.String()
    by = fields.Nested(SignerOut)
    witness = fields.Nested(SignerOut)
    at = fields.AwareDateTime()


class LossReviewOut(Schema):
    decision = fields.String()
    note = fields.String()
    by = fields.Nested(SignerOut)
    at = fields.AwareDateTime()


class DoseLossOut(Schema):
    """A loss report as its dose shows it."""

    id = fields.Integer()
    kind = fields.String()
    reported_on = fields.Date()
    note = fields.String()
    reported_by = fields.Nested(SignerOut)
    reported_at = fields.AwareDateTime()
    review = fields.Nested(LossReviewOut, allow_none=True)


class LossReportOut(DoseLossOut):
    dose_id = fields.Integer()
    patient_id = fields.Integer()
    date = Computed(lambda loss: loss.dose.service_date.isoformat())  # the day it was for


class DoseOut(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    order_id = fields.Integer()
    date = fields.Date(attribute="service_date")
    slot = fields.String()
    attempt = fields.Integer()
    mode = fields.String()
    medication = Computed(lambda dose: dose.medication.code)
    amount_mg = _amount()
    volume_ml = _amount(allow_none=True)
    dispensed_at = fields.AwareDateTime()
    dispenser = fields.Nested(SignerOut)
    late_entry = fields.Boolean()
    # Given by another program, brought in by an import (mat.imports): not in mat's log.
    imported = fields.Boolean()
    late_entry_reason = fields.String(allow_none=True)
    closure_dose = fields.Boolean()
    warnings = fields.List(fields.Nested(ViolationOut), attribute="warning_list")
    profile = Computed(lambda d: {"id": d.profile_id, "version": d.profile_version})
    status = Computed(
        lambda dose: "given" if dose.correction is None else f"{dose.correction.kind}ed"
    )
    correction = fields.Nested(CorrectionOut, allow_none=True)
    loss = fields.Nested(DoseLossOut, allow_none=True)
    # The SMA-168 exception number that let this take-home pass the ceiling, if one did.
    take_home_exception = Computed(
        lambda d: d.take_home_exception.number if d.take_home_exception_id else None
    )
    # Where it was drawn (mat.stock): tablets or films of a solid form, the station, the lot.
    units = Computed(
        lambda dose: units_of(dose.medication.as_product(), dose.amount_mg),
        metadata={"type": "number", "nullable": True},
    )
    station = Computed(lambda dose: dose.station.code if dose.station else None)
    lot = Computed(lambda dose: dose.lot.lot_number if dose.lot else None)


class TakeHomesOut(Schema):
    doses = fields.List(fields.Nested(DoseOut))


class WithheldOut(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    date = fields.Date(attribute="service_date")
    reason = fields.String()
    by = fields.Nested(SignerOut)
    at = fields.AwareDateTime()


class HoldReleaseOut(Schema):
    reason = fields.String()
    by = fields.Nested(SignerOut)
    at = fields.AwareDateTime()


class HoldOut(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    reason = fields.String()
    set_by = fields.Nested(SignerOut)
    set_at = fields.AwareDateTime()
    open = fields.Boolean(attribute="is_open")
    release = fields.Nested(HoldReleaseOut, allow_none=True)


class ScreenOut(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    collected_on = fields.Date()
    results = fields.Dict(attribute="result_map")
    recorded_by = fields.Nested(SignerOut)
    recorded_at = fields.AwareDateTime()


class ClosureOut(Schema):
    id = fields.Integer()
    date = fields.Date()
    reason = fields.String()
    at = fields.AwareDateTime()
