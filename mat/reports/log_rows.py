"""The dispensing log (DEA 21 CFR 1304.24): its rows, streamed from the database.

One row per dose handed out (observed or take-home) and one per correction (void or spill), in
the columns of api-contract.md ("Dispensing log export"). Every format (CSV, JSON, PDF) is
written from these rows, so the formats never disagree.

What a row's ``dispensed_on`` and ``dispensed_at`` mean (the log's day is the clinic-local day):

- An observed dose: the day it was given (its service date) and the time it was recorded.
- A take-home dose: the clinic day it was *handed out* (the local date of ``dispensed_at``),
  not the day it is for: DEA records the dispensing date, and a weekend's take-homes leave the
  stock on Friday. The day it is for is the entry's ``service_date`` (shown in the PDF).
- A late entry (a back-entered observed dose): the day it was given, its service date, with
  ``late_entry`` true. Its ``dispensed_at`` is when it was entered (the time of giving is not
  known), so it lies on a later day: the flag says why.
- A correction: the day and time the correction was recorded, in the block of the nurse who
  recorded it; it carries the corrected dose's patient, product, mode and amounts,
  ``correction_of`` (the corrected dose's id) and ``correction_kind``; ``dose_id`` is empty
  (the row is not a dose) and ``late_entry`` is false.
- ``units`` is the count of tablets or films of a solid form (empty for liquids) and ``lot`` the
  lot the dose was drawn from (empty where the product's stock is not tracked, ``mat.stock``).
- A dose row that a correction covered by the export voided or spilled says so itself
  (``corrected``: the kind; not a CSV column, where ``correction_of`` on the correction row links
  the two), and the day totals leave it out: they are net of voids and spills.

A take-home an SMA-168 exception let pass the ceiling names the exception
(``LogEntry.take_home_exception``): the PDF flags it and the JSON carries it as
``take_home_exception``. The CSV keeps exactly the contract's columns (outside tools read them
by position); its readers find the exception on the dose (``GET .../doses``) or in the PDF.

Rows are ordered by ``dispensed_on``, dispenser (user id: initials are not unique), then
``dispensed_at`` and id, so each day falls into one block per dispenser. Amounts stay
``Decimal`` all the way to the text.

The range is read in two queries streamed with ``yield_per`` (never the whole range in memory),
merged in log order: the observed doses, sorted by the database by service date and dispenser;
and the take-homes and corrections, sorted by their instant, whose day is the clinic day that
instant falls in (a clinic day is 23 to 25 hours in UTC), each day's few sorted here. (One query
per day made a year's export 366 round trips, each planning the same statement.) An export
covers the rows as they stood when it was asked for (``LogSnapshot``): later doses and
corrections are left out, so the audit event says exactly what left the building.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Row,
    func,
    select,
)

from mat.audit.queries import utc_bounds
from mat.auth.models import User
from mat.dosing.models import Dose, DoseCorrection
from mat.extensions import db
from mat.formulary.models import Medication
from mat.orders.models import TakeHomeException
from mat.orders.schedule import tidy
from mat.reports.log_statements import LOG_COLUMNS, log_statements

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LogRow:
    """One line of the dispensing log: exactly the contract's columns, in its order."""

    dispensed_on: date
    dispensed_at: datetime  # aware, in the clinic's zone
    patient_mrn: str
    patient_name: str
    substance: str
    product: str  # formulary code
    strength: str  # "10 mg/mL", "8 mg/tablet"
    dosage_form: str
    mode: str  # observed, take_home
    amount_mg: Decimal
    volume_ml: Decimal | None  # liquids only
    dispenser_initials: str
    dose_id: int | None  # None on a correction row
    late_entry: bool
    correction_of: int | None
    correction_kind: str | None  # void, spill
    units: Decimal | None  # tablets or films of a solid form
    lot: str | None  # the lot drawn from; None where the product's stock is not tracked
    corrected: str | None = None  # on a dose row: void or spill when a correction covers it


# The contract's CSV columns; JSON rows carry ``corrected`` besides.
COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(LogRow) if f.name != "corrected")
JSON_COLUMNS: tuple[str, ...] = (*COLUMNS, "corrected")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A row with what the PDF shows besides: the day a dose is for, the dispenser's name, the
    witness of a correction and the product's name."""

    row: LogRow
    service_date: date
    dispenser_id: int
    dispenser_name: str
    witness_initials: str | None
    product_name: str
    take_home_exception: str | None = None  # the SMA-168 number that let it pass the ceiling


@dataclass(frozen=True)
class LogQuery:
    """The clinic-local days ``first``..``last`` (both included), optionally one product (a
    formulary code) or one substance."""

    first: date
    last: date
    product: str | None = None
    substance: str | None = None

    def as_detail(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "product": self.product,
            "substance": self.substance,
        }


@dataclass(frozen=True)
class LogSnapshot:
    """The newest dose and correction an export covers."""

    through_dose_id: int
    through_correction_id: int

    @classmethod
    def now(cls) -> LogSnapshot:
        return cls(
            db.session.scalar(select(func.max(Dose.id))) or 0,
            db.session.scalar(select(func.max(DoseCorrection.id))) or 0,
        )


@lru_cache(maxsize=4096)  # a clinic's doses repeat a few hundred amounts
def amount_text(amount: Decimal | None) -> str:
    """``Decimal("40.000")`` -> ``"40"``, ``None`` -> ``""``: the same text on both engines."""
    return "" if amount is None else f"{tidy(amount):f}"


@lru_cache(maxsize=256)
def strength_text(strength_mg: Decimal, form: str, unit: str) -> str:
    per = "mL" if form == "liquid" else unit
    return f"{amount_text(strength_mg)} mg/{per}"


@dataclass(frozen=True, slots=True)
class _Product:
    code: str
    name: str
    substance: str
    form: str
    strength: str
    strength_mg: Decimal

    def units(self, amount_mg: Decimal) -> Decimal | None:
        """Tablets or films of a dose (``None`` for a liquid), as exact as the amount."""
        return None if self.form == "liquid" else amount_mg / self.strength_mg


class _Reader:
    """Turns the query's rows into log rows. Products and staff are a few dozen rows, read once
    per export, so each of the many dose rows carries only ids for them."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.products = {
            m.id: _Product(
                m.code,
                m.name,
                m.substance,
                m.form,
                strength_text(m.strength_mg, m.form, m.unit),
                m.strength_mg,
            )
            for m in db.session.scalars(select(Medication))
        }
        self.staff: dict[int, tuple[str, str]] = {
            user_id: (initials, name)
            for user_id, initials, name in db.session.execute(
                select(User.id, User.initials, User.full_name)
            )
        }
        self.exceptions: dict[int, str] = {
            exception_id: number
            for exception_id, number in db.session.execute(
                select(TakeHomeException.id, TakeHomeException.number)
            )
        }

    def medication_ids(self, query: LogQuery) -> list[int] | None:
        if query.product is None and query.substance is None:
            return None
        return [
            medication_id
            for medication_id, p in self.products.items()
            if query.product in (None, p.code) and query.substance in (None, p.substance)
        ]

    def row(self, day: date, row: Row) -> LogRow:
        (at, dispenser_id, kind_rank, dose_id, kind, late, _witness, _for, mode, amount,
         volume, medication_id, corrected, mrn, family_name, given_name, lot, _exception,
         _id) = row  # fmt: skip
        product = self.products[medication_id]
        is_correction = kind_rank == 1
        return LogRow(
            dispensed_on=day,
            dispensed_at=at.astimezone(self.zone),
            patient_mrn=mrn,
            patient_name=f"{family_name}, {given_name}",
            substance=product.substance,
            product=product.code,
            strength=product.strength,
            dosage_form=product.form,
            mode=mode,
            amount_mg=amount,
            volume_ml=volume,
            dispenser_initials=self.staff[dispenser_id][0],
            dose_id=None if is_correction else dose_id,
            late_entry=bool(late),
            correction_of=dose_id if is_correction else None,
            correction_kind=kind,
            units=product.units(amount),
            lot=lot,
            corrected=None if is_correction else corrected,
        )

    def entry(self, day: date, row: Row) -> LogEntry:
        dispenser_id, witness = row[_DISPENSER], row[_WITNESS]
        staff = self.staff
        return LogEntry(
            row=self.row(day, row),
            service_date=row[_SERVICE_DATE],
            dispenser_id=dispenser_id,
            dispenser_name=staff[dispenser_id][1],
            witness_initials=None if witness is None else staff[witness][0],
            product_name=self.products[row[_MEDICATION]].name,
            take_home_exception=self.exceptions.get(row[_EXCEPTION]),
        )


# Where ``log_statements`` puts the columns read by position here: a row's fields read by
# name cost about a microsecond each, on every one of a month's 15,000 rows.
_AT, _DISPENSER, _KIND_RANK, _WITNESS, _SERVICE_DATE, _MEDICATION, _EXCEPTION, _ROW_ID = (
    LOG_COLUMNS.index(name)
    for name in (
        "at", "dispenser_id", "kind_rank", "witness_id", "service_date", "medication_id",
        "exception_id", "row_id",
    )
)  # fmt: skip


def _log_key(day: date, row: Row) -> tuple[date, int, datetime, int, int]:
    """A row's place in the log: day, dispenser, instant, dose before correction, id."""
    return day, row[_DISPENSER], row[_AT], row[_KIND_RANK], row[_ROW_ID]


def _days_of_instants(rows: Iterable[Row], starts: list[datetime]) -> Iterator[tuple[int, Row]]:
    """Take-homes and corrections, read in the order of their instants, with their log day
    (its index in the range) and each day's in log order. ``starts`` are the UTC instants the
    range's days begin at: a row's day is the one whose [start, next start) holds its instant,
    as ``utc_bounds`` draws a day. Only one day's rows are held, to be sorted."""
    for n, group in groupby(rows, key=lambda row: bisect_right(starts, row[_AT]) - 1):
        for row in sorted(group, key=lambda row: _log_key(date.min, row)):
            yield n, row


def _read(
    query: LogQuery,
    zone: ZoneInfo,
    snapshot: LogSnapshot,
    make: Callable[[_Reader, date, Row], T],
) -> Iterator[T]:
    """The log in log order, a batch at a time: the observed doses (by service date) merged
    with the take-homes and corrections (by the day of their instant), two streamed queries."""
    reader = _Reader(zone)
    by_day, by_instant = log_statements(query, zone, reader.medication_ids(query), snapshot)
    days = [query.first + timedelta(days=n) for n in range((query.last - query.first).days + 1)]
    starts = [utc_bounds(day, day, zone)[0] for day in days]
    observed = db.session.execute(by_day)
    try:
        handed = db.session.execute(by_instant)
        try:
            merged = heapq.merge(
                ((_log_key(row[_SERVICE_DATE], row), row[_SERVICE_DATE], row) for row in observed),
                (
                    (_log_key(days[n], row), days[n], row)
                    for n, row in _days_of_instants(handed, starts)
                ),
                key=itemgetter(0),
            )
            for _key, day, row in merged:
                yield make(reader, day, row)
        finally:
            handed.close()
    finally:
        observed.close()  # a client that hangs up mid-download must not leave a cursor open


def log_rows(query: LogQuery, zone: ZoneInfo, snapshot: LogSnapshot) -> Iterator[LogRow]:
    """The rows of CSV and JSON."""
    return _read(query, zone, snapshot, _Reader.row)


def log_entries(query: LogQuery, zone: ZoneInfo, snapshot: LogSnapshot) -> Iterator[LogEntry]:
    """The rows with what the PDF shows besides."""
    return _read(query, zone, snapshot, _Reader.entry)
