"""marshmallow schemas of the report queries, for the API and the reports page alike (and the
OpenAPI document): the dispensing log's days, format and filters, the patient history's days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate

from mat.clock import clinic_today
from mat.reports.log_rows import LogQuery
from mat.schema_fields import clinic_date

# Converting a day to UTC overflows at the ends of Python's calendar (year 1, year 9999).
LOG_FORMATS = ("csv", "pdf", "json")
PAGE_SIZES = ("letter", "a4")
SUBSTANCES = ("methadone", "buprenorphine", "naltrexone")
# The longest log one call exports: a year, as every other range of the API.
MAX_DAYS = 366
# A PDF is laid out whole before its first byte is sent (reportlab keeps the document in memory
# until it is saved). Measured on SQLite for a clinic of 500 doses a day: 31 days (15,500 rows,
# ~280 pages) peak at 14 MB of Python memory and take 3 to 4 s; both grow linearly (~0.9 MB and
# ~0.25 s per 1,000 rows), so a year would be ~160 MB and ~45 s per request, past a worker's
# 30 s timeout. A PDF is for printing and signing a month at most; longer ranges go out as CSV
# or JSON, which stream in constant memory (tests/reports/test_memory.py).
MAX_PDF_DAYS = 31
# The patient history shows the last 90 days unless asked otherwise.
HISTORY_DEFAULT_DAYS = 90


def _day(description: str, **kwargs: Any) -> fields.Date:
    return clinic_date(metadata={"description": description}, **kwargs)


def _page() -> fields.String:
    return fields.String(
        load_default="letter",
        validate=validate.OneOf(PAGE_SIZES),
        metadata={"description": "Paper of a PDF: `letter` (default) or `a4`."},
    )


def _check_range(first: date, last: date) -> None:
    if first > last:
        raise ValidationError(f"from ({first}) is after to ({last}).", "from")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError(f"Ask for at most {MAX_DAYS} days at a time.", "to")


class _DropEmpty(Schema):
    @pre_load
    def drop_empty(self, data: Any, **_: Any) -> dict[str, Any]:
        # A form sends every field, the unused ones empty: empty means "not given".
        return {key: data[key] for key in data if data[key] != ""}


class DispensingLogQuery(_DropEmpty):
    """Loads into ``{"query": LogQuery, "format": ..., "page": ...}``."""

    from_ = _day("First clinic-local day, inclusive. Default: `to`.", data_key="from")
    to = _day("Last clinic-local day, inclusive. Default: today (clinic-local).")
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(LOG_FORMATS),
        metadata={"description": f"`json` (default), `csv` or `pdf` (at most {MAX_PDF_DAYS} days)"},
    )
    product = fields.String(
        validate=validate.Regexp(r"^[A-Z0-9][A-Z0-9-]{0,23}$", error="Use a formulary code."),
        metadata={"description": "Only this product (formulary code, e.g. METH-10MGML)."},
    )
    substance = fields.String(validate=validate.OneOf(SUBSTANCES))
    page = _page()

    @post_load
    def resolve(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        last = data.pop("to", None) or data.get("from_") or clinic_today()
        first = data.pop("from_", None) or last
        _check_range(first, last)
        if data["format"] == "pdf" and (last - first).days >= MAX_PDF_DAYS:
            raise ValidationError(
                f"A PDF covers at most {MAX_PDF_DAYS} days; export longer ranges as csv or json.",
                "to",
            )
        query = LogQuery(first, last, data.pop("product", None), data.pop("substance", None))
        return {"query": query, **data}


class HistoryQuery(_DropEmpty):
    """Loads into ``{"first": date, "last": date, "format": "pdf", "page": ...}``."""

    from_ = _day(
        f"First clinic-local day. Default: {HISTORY_DEFAULT_DAYS - 1} days before `to`.",
        data_key="from",
    )
    to = _day("Last clinic-local day. Default: today (clinic-local).")
    format = fields.String(load_default="pdf", validate=validate.OneOf(("pdf",)))
    page = _page()

    @post_load
    def resolve(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        last = data.pop("to", None) or clinic_today()
        first = data.pop("from_", None) or last - timedelta(days=HISTORY_DEFAULT_DAYS - 1)
        _check_range(first, last)
        return {"first": first, "last": last, **data}


class HistoryPageQuery(HistoryQuery):
    """The reports page names the patient by MRN (auditors do not search patients by name)."""

    mrn = fields.String(required=True, validate=validate.Length(min=1, max=32))
