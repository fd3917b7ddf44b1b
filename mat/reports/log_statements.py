"""The two SQL statements the dispensing log is read with (``mat.reports.log_rows`` streams
and merges them): the observed doses by service date, and the take-homes and corrections by
their instant, each row with its patient's names and its lot.

Only the statements live here; what they mean for a row of the log is ``log_rows``' docstring.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    Select,
    String,
    Subquery,
    and_,
    cast,
    false,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from mat.audit.queries import utc_bounds
from mat.clinic_limits import TAKE_HOME_AHEAD_DAYS
from mat.dosing.models import Dose, DoseCorrection
from mat.patients.models import Patient
from mat.stock.models import Lot

if TYPE_CHECKING:  # log_rows imports this module
    from mat.reports.log_rows import LogQuery, LogSnapshot

# Rows fetched per round trip.
BATCH = 1000
# The names of both statements' columns, in their order: ``log_rows`` reads them by position.
LOG_COLUMNS = (
    "at", "dispenser_id", "kind_rank", "dose_id", "correction_kind", "late", "witness_id",
    "service_date", "mode", "amount_mg", "volume_ml", "medication_id", "corrected", "mrn",
    "family_name", "given_name", "lot_number", "exception_id", "row_id",
)  # fmt: skip


def log_statements(
    query: LogQuery, zone: ZoneInfo, medication_ids: list[int] | None, snapshot: LogSnapshot
) -> tuple[Select, Select]:
    """The range's rows in two streams: the observed doses, whose log day is their service
    date, in log order; and the take-homes and corrections, whose log day is the clinic day of
    their instant, in the order of that instant (``log_rows`` sorts each day's few of them)."""
    start, end = utc_bounds(query.first, query.last, zone)
    doses = (
        select(
            Dose.dispensed_at.label("at"),
            Dose.dispenser_id.label("dispenser_id"),
            literal(0).label("kind_rank"),
            Dose.id.label("dose_id"),
            cast(null(), String).label("correction_kind"),
            Dose.late_entry_reason.is_not(None).label("late"),
            cast(null(), Integer).label("witness_id"),
            Dose.service_date.label("service_date"),
            Dose.mode.label("mode"),
            Dose.amount_mg.label("amount_mg"),
            Dose.volume_ml.label("volume_ml"),
            Dose.medication_id.label("medication_id"),
            Dose.patient_id.label("patient_id"),
            Dose.id.label("row_id"),
            Dose.lot_id.label("lot_id"),
            # The correction that covers this dose, if the export includes it.
            DoseCorrection.kind.label("corrected"),
            Dose.take_home_exception_id.label("exception_id"),
        )
        .outerjoin(
            DoseCorrection,
            and_(
                DoseCorrection.dose_id == Dose.id,
                DoseCorrection.id <= snapshot.through_correction_id,
            ),
        )
        .where(
            Dose.id <= snapshot.through_dose_id,
            # Imported doses are the previous program's log's, not mat's (mat.imports).
            Dose.import_id.is_(None),
        )
    )
    observed = doses.where(
        Dose.mode == "observed", Dose.service_date.between(query.first, query.last)
    )
    take_homes = doses.where(
        Dose.mode == "take_home",
        # Take-homes are handed out at most TAKE_HOME_AHEAD_DAYS before the day they are for:
        # this bound lets the (service_date, dispensed_at) index find the range's rows.
        Dose.service_date.between(query.first, query.last + timedelta(days=TAKE_HOME_AHEAD_DAYS)),
        Dose.dispensed_at >= start,
        Dose.dispensed_at < end,
    )
    corrected = aliased(Dose)
    corrections = (
        select(
            DoseCorrection.at,
            DoseCorrection.by_id,
            literal(1),
            corrected.id,
            DoseCorrection.kind,
            false(),
            DoseCorrection.witness_id,
            corrected.service_date,
            corrected.mode,
            corrected.amount_mg,
            corrected.volume_ml,
            corrected.medication_id,
            corrected.patient_id,
            DoseCorrection.id,
            corrected.lot_id,
            cast(null(), String),
            cast(null(), Integer),
        )
        .join(corrected, corrected.id == DoseCorrection.dose_id)
        .where(
            DoseCorrection.id <= snapshot.through_correction_id,
            DoseCorrection.at >= start,
            DoseCorrection.at < end,
        )
    )
    if medication_ids is not None:
        observed = observed.where(Dose.medication_id.in_(medication_ids))
        take_homes = take_homes.where(Dose.medication_id.in_(medication_ids))
        corrections = corrections.where(corrected.medication_id.in_(medication_ids))
    by_day = _with_names(observed.subquery("observed"), by_service_date=True)
    by_instant = _with_names(union_all(take_homes, corrections).subquery("handed"))
    return by_day, by_instant


def _with_names(rows: Subquery, *, by_service_date: bool = False) -> Select:
    c = rows.c
    # The order of these columns is the one ``_Reader.row`` unpacks (``LOG_COLUMNS``).
    columns = [
        c.at, c.dispenser_id, c.kind_rank, c.dose_id, c.correction_kind, c.late, c.witness_id,
        c.service_date, c.mode, c.amount_mg, c.volume_ml, c.medication_id, c.corrected,
        Patient.mrn, Patient.family_name, Patient.given_name, Lot.lot_number, c.exception_id,
        c.row_id,
    ]  # fmt: skip
    order = [c.at, c.kind_rank, c.row_id]
    if by_service_date:
        order = [c.service_date, c.dispenser_id, *order]
    stmt = (
        select(*columns)
        .join(Patient, Patient.id == c.patient_id)
        .outerjoin(Lot, Lot.id == c.lot_id)
        .order_by(*order)
    )
    return stmt.execution_options(yield_per=BATCH)
