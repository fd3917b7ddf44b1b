"""marshmallow schemas of the stock API (they also feed the OpenAPI document)."""

from __future__ import annotations

from decimal import Decimal
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

from mat.dosing.schemas import WitnessIn
from mat.orders.schemas import SignerOut
from mat.schema_fields import Computed, clinic_date, clinic_text
from mat.stock.fields import STATION_CODE, station_field

PRODUCT_CODE = validate.Regexp(r"^[A-Z0-9][A-Z0-9-]{0,23}$", error="Use a formulary code.")
# Lot numbers are the manufacturer's: letters, digits and the usual separators.
LOT_NUMBER = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9./-]{0,39}$", error="Use the lot number as printed (1-40 characters)."
)
# Free text is ``clinic_text``, as everywhere mat stores words: no control or direction-override
# characters, nothing the report fonts cannot print (the stock report and Form 106/41 records
# print it).
TEXT = validate.Length(min=3, max=2000)


def quantity(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(
        places=None,
        allow_nan=False,
        as_string=False,
        validate=validate.Range(min=Decimal(0), max=Decimal(10**8)),
        metadata={"description": "mL for liquids, units (tablets, films) for solids."},
        **kwargs,
    )


class StationIn(Schema):
    code = fields.String(required=True, validate=STATION_CODE)
    name = clinic_text(required=True, validate=validate.Length(min=1, max=80))


class ReceiptIn(Schema):
    product = fields.String(required=True, validate=PRODUCT_CODE)
    lot = fields.String(required=True, validate=LOT_NUMBER)
    expires_on = clinic_date(required=True)
    quantity = quantity(required=True)
    supplier = clinic_text(required=True, validate=validate.Length(min=2, max=120))
    order_form = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9 ./-]{2,39}$",
            error="Give the DEA Form 222 or CSOS order number (3-40 characters).",
        ),
    )
    station = station_field()
    witness = fields.Nested(WitnessIn, load_default=None)


class TransferIn(Schema):
    from_station = station_field(required=True)
    to_station = station_field(required=True)
    product = fields.String(required=True, validate=PRODUCT_CODE)
    lot = fields.String(required=True, validate=LOT_NUMBER)
    quantity = quantity(required=True)
    note = clinic_text(multiline=True, load_default=None, validate=validate.Length(max=2000))
    witness = fields.Nested(WitnessIn, load_default=None)


class CountedIn(Schema):
    product = fields.String(required=True, validate=PRODUCT_CODE)
    lot = fields.String(required=True, validate=LOT_NUMBER)
    quantity = quantity(required=True)


class CountIn(Schema):
    station = station_field()
    counted = fields.List(
        fields.Nested(CountedIn), required=True, validate=validate.Length(max=200)
    )
    explanation = clinic_text(multiline=True, load_default=None, validate=validate.Length(max=2000))
    witness = fields.Nested(WitnessIn, load_default=None)

    @validates_schema
    def one_line_per_lot(self, data: dict[str, Any], **_: Any) -> None:
        seen = [(line["product"], line["lot"]) for line in data.get("counted", [])]
        if len(seen) != len(set(seen)):
            raise ValidationError("Count each lot once.", "counted")


class ResolveIn(Schema):
    resolution = clinic_text(multiline=True, required=True, validate=TEXT)


class InventoryLineIn(CountedIn):
    station = station_field(required=True)


class InventoryIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("initial", "biennial")))
    taken_on = clinic_date(required=True)
    taken_at = fields.String(required=True, validate=validate.OneOf(("opening", "close")))
    counted = fields.List(
        fields.Nested(InventoryLineIn), required=True, validate=validate.Length(max=1000)
    )
    explanation = clinic_text(multiline=True, load_default=None, validate=validate.Length(max=2000))
    witness = fields.Nested(WitnessIn, load_default=None)

    @validates_schema
    def one_line_per_lot(self, data: dict[str, Any], **_: Any) -> None:
        seen = [(x["station"], x["product"], x["lot"]) for x in data.get("counted", [])]
        if len(seen) != len(set(seen)):
            raise ValidationError("Count each lot of each station once.", "counted")


class TheftLossIn(Schema):
    station = station_field()
    product = fields.String(required=True, validate=PRODUCT_CODE)
    lot = fields.String(required=True, validate=LOT_NUMBER)
    quantity = quantity(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("theft", "loss", "in_transit")))
    found_on = clinic_date(required=True)
    circumstances = clinic_text(multiline=True, required=True, validate=TEXT)
    count_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))


class DestructionIn(Schema):
    station = station_field()
    product = fields.String(required=True, validate=PRODUCT_CODE)
    lot = fields.String(required=True, validate=LOT_NUMBER)
    quantity = quantity(required=True)
    method = clinic_text(required=True, validate=TEXT)
    reason = clinic_text(multiline=True, required=True, validate=TEXT)
    witnesses = fields.List(fields.Nested(WitnessIn), load_default=list)


class StockQuery(Schema):
    station = fields.String(load_default=None, validate=STATION_CODE)


class RecallQuery(Schema):
    product = fields.String(required=True, validate=PRODUCT_CODE)
    lot = fields.String(required=True, validate=LOT_NUMBER)


class VarianceQuery(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "all")))


class LabelQuery(Schema):
    layout = fields.String(load_default="sheet", validate=validate.OneOf(("sheet", "thermal")))


# ---- answers ------------------------------------------------------------------------------


def _number(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(as_string=False, **kwargs)


class StationOut(Schema):
    code = fields.String()
    name = fields.String()


class OnHandOut(Schema):
    station = fields.String()
    product = fields.String()
    lot = fields.String()
    expires_on = fields.Date()
    on_hand = _number()
    unit = fields.String()
    expired = fields.Boolean()


class ReceiptOut(Schema):
    id = fields.Integer()
    station = Computed(lambda r: r.station.code)
    product = Computed(lambda r: r.lot.medication.code)
    lot = Computed(lambda r: r.lot.lot_number)
    expires_on = Computed(lambda r: r.lot.expires_on.isoformat())
    quantity = _number()
    supplier = fields.String()
    order_form = fields.String()
    received_by = fields.Nested(SignerOut)
    witness = fields.Nested(SignerOut)
    received_at = fields.AwareDateTime()


class TransferOut(Schema):
    id = fields.Integer()
    from_station = Computed(lambda t: t.from_station.code)
    to_station = Computed(lambda t: t.to_station.code)
    product = Computed(lambda t: t.lot.medication.code)
    lot = Computed(lambda t: t.lot.lot_number)
    quantity = _number()
    note = fields.String(allow_none=True)
    by = fields.Nested(SignerOut)
    witness = fields.Nested(SignerOut)
    at = fields.AwareDateTime()


class CountLineOut(Schema):
    product = Computed(lambda line: line.lot.medication.code)
    lot = Computed(lambda line: line.lot.lot_number)
    expected = _number()
    counted = _number()
    variance = _number()
    tolerance = _number()
    beyond_tolerance = fields.Boolean()


class ResolutionOut(Schema):
    resolution = fields.String()
    by = fields.Nested(SignerOut)
    at = fields.AwareDateTime()


class CountOut(Schema):
    id = fields.Integer()
    station = Computed(lambda c: c.station.code)
    counted_on = fields.Date()
    counted_at = fields.AwareDateTime()
    counted_by = fields.Nested(SignerOut)
    witness = fields.Nested(SignerOut)
    status = fields.String(attribute="state")
    explanation = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(CountLineOut))
    resolution = fields.Nested(ResolutionOut, allow_none=True)
    # stock_loss_report while stock is missing past tolerance (mat.stock.counts)
    warnings = fields.Method("_warnings")

    def _warnings(self, count: Any) -> list[dict[str, str]]:
        from mat.stock.counts import count_warnings

        return [v.as_dict() for v in count_warnings(count)]


class InventoryLineOut(Schema):
    station = Computed(lambda line: line.station.code)
    product = Computed(lambda line: line.lot.medication.code)
    lot = Computed(lambda line: line.lot.lot_number)
    expected = _number()
    counted = _number()


class InventoryOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    taken_on = fields.Date()
    taken_at = fields.String()
    explanation = fields.String(allow_none=True)
    by = fields.Nested(SignerOut)
    witness = fields.Nested(SignerOut)
    at = fields.AwareDateTime()
    lines = fields.List(fields.Nested(InventoryLineOut))


class TheftLossOut(Schema):
    id = fields.Integer()
    station = Computed(lambda r: r.station.code)
    product = Computed(lambda r: r.lot.medication.code)
    lot = Computed(lambda r: r.lot.lot_number)
    kind = fields.String()
    quantity = _number()
    found_on = fields.Date()
    circumstances = fields.String()
    count_id = fields.Integer(allow_none=True)
    by = fields.Nested(SignerOut)
    at = fields.AwareDateTime()


class DestructionOut(Schema):
    id = fields.Integer()
    station = Computed(lambda r: r.station.code)
    product = Computed(lambda r: r.lot.medication.code)
    lot = Computed(lambda r: r.lot.lot_number)
    quantity = _number()
    method = fields.String()
    reason = fields.String()
    by = fields.Nested(SignerOut)
    witnesses = Computed(lambda r: [SignerOut().dump(w) for w in (r.witness1, r.witness2)])
    at = fields.AwareDateTime()


class RecipientOut(Schema):
    dose_id = fields.Integer()
    patient_id = fields.Integer()
    mrn = fields.String()
    patient_name = fields.String()
    date = fields.Date()
    dispensed_at = fields.AwareDateTime()
    mode = fields.String()
    amount_mg = _number()
    quantity = _number()
    station = fields.String()
    status = fields.String()


class RecallOut(Schema):
    product = fields.String()
    lot = fields.String()
    expires_on = fields.Date()
    on_hand = fields.List(fields.Nested(OnHandOut))
    recipients = fields.List(fields.Nested(RecipientOut))


class BottleReturnOut(Schema):
    dose_id = fields.Integer()
    by = fields.Nested(SignerOut)
    at = fields.AwareDateTime()


class StockReportQuery(Schema):
    """Loads into ``{"query": StockQuery, "format": ..., "page": ...}``."""

    from_ = clinic_date(
        data_key="from",
        load_default=None,
        metadata={"description": "First clinic day. Default: `to`."},
    )
    to = clinic_date(
        load_default=None, metadata={"description": "Last clinic day. Default: today."}
    )
    format = fields.String(load_default="json", validate=validate.OneOf(("csv", "pdf", "json")))
    station = fields.String(load_default=None, validate=STATION_CODE)
    product = fields.String(load_default=None, validate=PRODUCT_CODE)
    page = fields.String(load_default="letter", validate=validate.OneOf(("letter", "a4")))

    @pre_load
    def drop_empty(self, data: Any, **_: Any) -> dict[str, Any]:
        # A form sends every field, the unused ones empty: empty means "not given".
        return {key: data[key] for key in data if data[key] != ""}

    @post_load
    def resolve(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        from mat.clock import clinic_today
        from mat.reports.schemas import MAX_DAYS, MAX_PDF_DAYS
        from mat.stock.report import StockQuery

        last = data.pop("to") or data.get("from_") or clinic_today()
        first = data.pop("from_") or last
        if first > last:
            raise ValidationError(f"from ({first}) is after to ({last}).", "from")
        if (last - first).days >= MAX_DAYS:
            raise ValidationError(f"Ask for at most {MAX_DAYS} days at a time.", "to")
        if data["format"] == "pdf" and (last - first).days >= MAX_PDF_DAYS:
            raise ValidationError(f"A PDF covers at most {MAX_PDF_DAYS} days.", "to")
        query = StockQuery(first, last, data.pop("station"), data.pop("product"))
        return {"query": query, **data}
