"""marshmallow schemas of the orders API (the order body of api-contract.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mat.orders.models import CRITERIA_2024, ORDER_KINDS
from mat.schema_fields import Answer, amount, clinic_date, clinic_text, whole_number

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CRITERIA = CRITERIA_2024  # the five federal criteria (2024), each answered true or false
SLOT = validate.Regexp(r"^[a-z][a-z0-9_]{0,11}$", error="Use a short lower-case slot name.")


def _mg(**kwargs: Any) -> fields.Decimal:
    # Amounts are JSON numbers read as Decimal (mat.jsonio); text, NaN and Infinity are refused.
    return amount(validate=validate.Range(min=Decimal(0), max=Decimal(10000)), **kwargs)


class StepIn(Schema):
    date = clinic_date(required=True)
    dose_mg = _mg(required=True)


class TitrationIn(Schema):
    start_mg = _mg(required=True)
    step_mg = _mg(
        required=True,
    )
    every_days = whole_number(required=True, validate=validate.Range(min=1, max=90))
    target_mg = _mg(required=True)

    @validates_schema
    def rises(self, data: dict[str, Any], **_: Any) -> None:
        if data["step_mg"] <= 0:
            raise ValidationError("A titration step must be above 0 mg.", "step_mg")
        if data["target_mg"] < data["start_mg"]:
            raise ValidationError("The target is below the start dose.", "target_mg")


class TaperIn(Schema):
    start_mg = _mg(required=True)
    step_percent = amount(
        required=True, validate=validate.Range(min=Decimal("0.1"), max=Decimal(100))
    )
    every_days = whole_number(required=True, validate=validate.Range(min=1, max=90))
    end_mg = _mg(required=True)

    @validates_schema
    def falls(self, data: dict[str, Any], **_: Any) -> None:
        if data["end_mg"] >= data["start_mg"]:
            raise ValidationError("A taper ends below its start dose.", "end_mg")


class SplitIn(Schema):
    slot = fields.String(required=True, validate=SLOT)
    fraction = amount(
        required=True,
        validate=validate.Range(min=Decimal(0), min_inclusive=False, max=Decimal(1)),
    )


def _criterion() -> Answer:
    # true or false only: a criterion left unanswered is refused, not taken as either.
    return Answer(
        required=True,
        error_messages={"required": "Answer true or false.", "invalid": "Answer true or false."},
    )


class CriteriaIn(Schema):
    """The five federal take-home criteria (42 CFR 8.12, 2024), each answered; a "no" fires
    ``take_home_criteria`` (the order's justification must cover it)."""

    no_active_use_or_risk = _criterion()
    regular_attendance = _criterion()
    no_behavioral_problems = _criterion()
    no_diversion = _criterion()
    safe_transport_and_storage = _criterion()


class TakeHomeIn(Schema):
    weekdays = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS)), load_default=list)
    dates = fields.List(clinic_date(), load_default=list)
    split_slots = fields.List(fields.String(validate=SLOT), load_default=list)
    criteria = fields.Nested(CriteriaIn, required=True)
    rationale = clinic_text(
        multiline=True,
        required=True,
        validate=validate.Length(min=1, max=4000),
        error_messages={"required": "Say why the benefits of take-homes outweigh the risks."},
    )

    @validates_schema
    def some_days(self, data: dict[str, Any], **_: Any) -> None:
        if not (data.get("weekdays") or data.get("dates") or data.get("split_slots")):
            raise ValidationError(
                "Name take-home weekdays, dates or split slots (or several).", "weekdays"
            )
        if not (data.get("rationale") or "").strip():
            raise ValidationError(
                "Say why the benefits of take-homes outweigh the risks.", "rationale"
            )


class OrderIn(Schema):
    medication = fields.String(required=True, validate=validate.Length(min=1, max=24))
    kind = fields.String(required=True, validate=validate.OneOf(ORDER_KINDS))
    start_date = clinic_date(required=True)
    end_date = clinic_date(load_default=None)
    dose_mg = _mg(load_default=None)
    steps = fields.List(
        fields.Nested(StepIn), load_default=None, validate=validate.Length(min=1, max=400)
    )
    titration = fields.Nested(TitrationIn, load_default=None)
    taper = fields.Nested(TaperIn, load_default=None)
    split = fields.List(
        fields.Nested(SplitIn), load_default=None, validate=validate.Length(min=2, max=4)
    )
    take_home = fields.Nested(TakeHomeIn, load_default=None)
    justification = clinic_text(
        multiline=True, load_default=None, validate=validate.Length(max=4000)
    )

    @validates_schema
    def one_way_to_say_the_dose(self, data: dict[str, Any], **_: Any) -> None:
        given = [k for k in ("dose_mg", "steps", "titration", "taper") if data.get(k) is not None]
        if len(given) != 1:
            raise ValidationError(
                "Give exactly one of dose_mg, steps, titration or taper.", "dose_mg"
            )
        if data.get("titration") is not None and data["kind"] != "titration":
            raise ValidationError("Titration parameters belong to a titration order.", "kind")
        if data.get("taper") is not None and data["kind"] != "taper":
            raise ValidationError("Taper parameters belong to a taper order.", "kind")
        end = data.get("end_date")
        if end is not None and end < data["start_date"]:
            raise ValidationError("The end date is before the start date.", "end_date")
        steps = data.get("steps") or []
        dates = [s["date"] for s in steps]
        if dates and (dates != sorted(set(dates)) or dates[0] != data["start_date"]):
            raise ValidationError(
                "Steps must start on start_date and go forward one date at a time.", "steps"
            )
        split = data.get("split") or []
        if len({s["slot"] for s in split}) != len(split):
            raise ValidationError("Each split slot appears once.", "split")
        split_slots = (data.get("take_home") or {}).get("split_slots") or []
        slots = [s["slot"] for s in split]
        if split_slots and (not slots or slots[0] in split_slots or set(split_slots) - set(slots)):
            raise ValidationError(
                {
                    "take_home": {
                        "split_slots": [
                            "Name later slots of the split: the first part is observed, and "
                            f"the order's slots are {', '.join(slots) or 'none (not split)'}."
                        ]
                    }
                }
            )


class TakeHomeExceptionIn(Schema):
    """An SMA-168 exception as approved: number, approver, approval date, dates, reason."""

    number = clinic_text(required=True, validate=validate.Length(min=1, max=64))
    approved_by = clinic_text(required=True, validate=validate.Length(min=2, max=160))
    approved_on = clinic_date(required=True)
    from_ = clinic_date(data_key="from", required=True)
    to = clinic_date(required=True)
    reason = clinic_text(multiline=True, required=True, validate=validate.Length(min=3, max=2000))


class DiscontinueIn(Schema):
    reason = clinic_text(multiline=True, required=True, validate=validate.Length(min=3, max=2000))


# ---- answers ------------------------------------------------------------------------------


def _amount_out(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(as_string=False, **kwargs)


class ViolationOut(Schema):
    rule = fields.String()
    severity = fields.String()
    message = fields.String()


class PlannedDoseOut(Schema):
    date = fields.Date()
    slot = fields.String()
    dose_mg = _amount_out()
    volume_ml = _amount_out(allow_none=True)
    mode = fields.String()
    order_id = fields.Integer(allow_none=True)


class PreviewOut(Schema):
    schedule = fields.List(fields.Nested(PlannedDoseOut))
    violations = fields.List(fields.Nested(ViolationOut))


class SignerOut(Schema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    initials = fields.String()


class StepOut(Schema):
    date = fields.Date(attribute="start")
    dose_mg = _amount_out()


class SplitOut(Schema):
    slot = fields.String()
    fraction = _amount_out()


class TakeHomeOut(Schema):
    weekdays = fields.List(fields.String())
    dates = fields.List(fields.Date())
    split_slots = fields.List(fields.String())
    # "2024": the five criteria of 42 CFR 8.12 as amended; "before-2024": an authorization signed
    # under the old six-criteria list, shown with its answers as recorded.
    criteria_list = fields.String()
    criteria = fields.Dict(keys=fields.String(), values=fields.Boolean())
    rationale = fields.String(allow_none=True)
    note = fields.String()  # the old list's free note; empty on 2024 authorizations
    affirmed_by = fields.Nested(SignerOut)
    affirmed_at = fields.AwareDateTime()


class DiscontinuationOut(Schema):
    effective_on = fields.Date()
    reason = fields.String()
    by = fields.Nested(SignerOut)
    at = fields.AwareDateTime()


class ProfileOut(Schema):
    id = fields.String()
    version = fields.String()


class TakeHomeExceptionOut(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    number = fields.String()
    approved_by = fields.String()
    approved_on = fields.Date()
    from_ = fields.Date(data_key="from", attribute="starts_on")
    to = fields.Date(attribute="ends_on")
    reason = fields.String()
    recorded_by = fields.Nested(SignerOut)
    recorded_at = fields.AwareDateTime()


class OrderOut(Schema):
    """An order as every answer shows it; the service hands a dict built by ``order_view``."""

    id = fields.Integer()
    patient_id = fields.Integer()
    medication = fields.String()
    kind = fields.String()
    status = fields.String()
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    first_dose_mg = _amount_out()
    steps = fields.List(fields.Nested(StepOut))
    split = fields.List(fields.Nested(SplitOut))
    take_home = fields.Nested(TakeHomeOut, allow_none=True)
    justification = fields.String(allow_none=True)
    warnings = fields.List(fields.Nested(ViolationOut))
    profile = fields.Nested(ProfileOut)
    signed_by = fields.Nested(SignerOut)
    signed_at = fields.AwareDateTime()
    # Another program's order, brought in by an import: its prescriber as free text (signed_by
    # is the admin who imported it).
    imported = fields.Boolean()
    prescribed_by = fields.String(allow_none=True)
    discontinued = fields.Nested(DiscontinuationOut, allow_none=True)


class SignedOrderOut(OrderOut):
    schedule = fields.List(fields.Nested(PlannedDoseOut))


class ScheduleQuery(Schema):
    # Default: four weeks from today (the view fills them in from the clinic clock).
    from_ = clinic_date(data_key="from", load_default=None)
    to = clinic_date(load_default=None)
