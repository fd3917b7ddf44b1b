"""Episodes of care: admission, discharge, readmission (clinical-rules.md, "Day of treatment").

Day 1 is the admission date of the patient's current episode. A discharged patient who comes
back is readmitted (``readmit``): a new episode, day 1 again, and with it the first-day rules and
the take-home ceilings; the earlier episodes stay in the record (append-only rows).
``patients.admitted_on``, ``level_of_care`` and ``status`` describe the current episode and are
written here together with the episode rows, in one transaction.

Readings of the rule book where it leaves room:
- a discharge (``PATCH status discharged``) ends the current episode on the clinic date it is
  recorded, and discontinues every active or upcoming order from the next day (the day's dose, if
  given, stays planned): an order of an earlier episode never governs a day of a later one. The
  discontinuations name the user who discharged (an admin may: the contract lets admins
  discharge) and the reason, so the record says the orders ended with the episode, not by a
  prescriber's clinical decision (``prescriber_required`` is about that decision);
- a discharged patient is made active only by a readmission (409 ``readmission_required`` for
  ``PATCH status active``), so a new episode always has its own day 1;
- a readmission is dated today or earlier (recorded when the patient is back), on or after the
  last discharge date and after the last admission date;
- a patient written without an episode row (registered before migration 0006 wrote them, or by
  code outside this service) has an implied episode 1 from ``admitted_on``, written down the
  first time an episode is ended or added.
Services flush and never commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mat.audit.service import record
from mat.auth.models import User
from mat.dosing.situation import lock_patient
from mat.errors import Conflict, InvalidInput, names_the_patient
from mat.extensions import db
from mat.orders.models import OrderDiscontinuation
from mat.orders.service import order_status, patient_orders
from mat.patients.models import EpisodeDischarge, Patient, PatientEpisode
from mat.patients.service import first_episode, get_patient, update_patient

DISCHARGE_REASON = "Patient discharged: the episode of care ended."


def episodes_of(patient_id: int) -> list[PatientEpisode]:
    """The patient's episodes, first admission first."""
    stmt = (
        select(PatientEpisode)
        .where(PatientEpisode.patient_id == patient_id)
        .order_by(PatientEpisode.number)
    )
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class EpisodeSummary:
    """One episode of care as the record shows it (``EpisodeOut`` serializes it for the API;
    the chart and the history PDF read it as it is)."""

    number: int
    admitted_on: date
    level_of_care: str
    admitted_by: User | None
    discharged_on: date | None  # None: not discharged, or discharged before dates were kept
    discharged_by: User | None
    discharged: bool


def episode_summaries(patient: Patient) -> list[EpisodeSummary]:
    """The episodes, first admission first (an implied episode 1 when none is written yet)."""
    rows = episodes_of(patient.id)
    if not rows:
        implied = EpisodeSummary(
            1, patient.admitted_on, patient.level_of_care, None, None, None, discharged=False
        )
        return [implied]
    return [
        EpisodeSummary(
            e.number,
            e.admitted_on,
            e.level_of_care,
            e.admitted_by,
            e.discharge.discharged_on if e.discharge else None,
            e.discharge.by if e.discharge else None,
            e.discharge is not None,
        )
        for e in rows
    ]


def _current(patient: Patient, now: datetime) -> PatientEpisode:
    """The latest episode, writing the implied episode 1 down when there is no row yet."""
    rows = episodes_of(patient.id)
    if rows:
        return rows[-1]
    return first_episode(patient, None, now)


@names_the_patient
def change_patient(patient_id: int, changes: dict[str, Any], by: User, now: datetime) -> Patient:
    """PATCH: level of care, other prescribed substances, and discharge (which ends the episode).
    A discharged patient comes back only through ``readmit``."""
    lock_patient(patient_id)
    patient = get_patient(patient_id, audit_read=False)
    status = changes.get("status")
    if status == "active" and patient.status == "discharged":
        raise Conflict(
            f"{patient.display_name} is discharged; readmit with POST "
            f"/api/v1/patients/{patient.id}/admissions (a new episode, day 1 again).",
            code="readmission_required",
        )
    discharging = status == "discharged" and patient.status == "active"
    if "other_prescribed" in changes:
        changes = {**changes, "other_prescribed": json.dumps(changes["other_prescribed"])}
    patient = update_patient(patient_id, changes)
    if discharging:
        _discharge(patient, by, now)
    return patient


def _discharge(patient: Patient, by: User, now: datetime) -> None:
    today = now.date()
    episode = _current(patient, now)
    if episode.discharge is None:
        episode.discharge = EpisodeDischarge(discharged_on=today, by=by, at=now)
    orders = patient_orders(patient.id)
    ended, discontinuations = [], []
    for order in orders:
        if order_status(order, orders, today) != "active":
            continue
        order.discontinuation = OrderDiscontinuation(
            effective_on=max(today + timedelta(days=1), order.start_date),
            reason=DISCHARGE_REASON,
            by=by,
            at=now,
        )
        ended.append(order.id)
        discontinuations.append(order.discontinuation)
    db.session.flush()
    record(
        "patient.discharge",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        detail={"episode": episode.number, "on": today.isoformat(), "orders_ended": ended},
        records=[episode.discharge, *discontinuations],
    )


@names_the_patient
def readmit(patient_id: int, data: dict[str, Any], by: User, now: datetime) -> Patient:
    """A new episode of care from ``admitted_on``: day 1 again."""
    lock_patient(patient_id)
    patient = get_patient(patient_id, audit_read=False)
    if patient.status == "active":
        raise Conflict(
            f"{patient.display_name} is active (admitted on {patient.admitted_on}); discharge "
            "before a readmission.",
            code="patient_active",
        )
    today = now.date()
    previous = _current(patient, now)
    admitted_on: date = data["admitted_on"]
    earliest = previous.admitted_on + timedelta(days=1)
    discharged_on = previous.discharge.discharged_on if previous.discharge else None
    if discharged_on is not None:
        earliest = max(earliest, discharged_on)
    if not earliest <= admitted_on <= today:
        raise InvalidInput(
            "The readmission date is out of range.",
            fields={"admitted_on": [f"Use a date from {earliest} to {today} (today)."]},
        )
    episode = PatientEpisode(
        patient_id=patient.id,
        number=previous.number + 1,
        admitted_on=admitted_on,
        level_of_care=data["level_of_care"],
        admitted_by=by,
        admitted_at=now,
    )
    db.session.add(episode)
    try:
        db.session.flush()
    except IntegrityError as exc:  # a second readmission at the same moment
        raise Conflict("The patient was readmitted at the same moment.", code="conflict") from exc
    patient.admitted_on = admitted_on
    patient.level_of_care = data["level_of_care"]
    patient.status = "active"
    db.session.flush()
    record(
        "patient.readmit",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        records=[episode],
        detail={
            "episode": episode.number,
            "admitted_on": admitted_on.isoformat(),
            "level_of_care": episode.level_of_care,
            "previous_admission": previous.admitted_on.isoformat(),
        },
    )
    return patient
