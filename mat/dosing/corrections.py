"""Voids and spills: a new row pointing at the dose, confirmed by a second nurse.

The dose row is never changed (``append_only``). A void says the dose was recorded in error; a
spill says it was dispensed but lost. Either way the patient is taken not to have had it, so
the slot may be dosed again (as the next ``attempt``), and both show in every log. A void puts
the dose's quantity back into its lot, a spill leaves it written off (``mat.stock.draws``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from mat.audit.service import record
from mat.auth.models import User
from mat.auth.service import password_matches
from mat.dosing.models import Dose, DoseCorrection
from mat.dosing.situation import lock_patient
from mat.errors import Conflict, NotFound, RuleViolation
from mat.extensions import db
from mat.profiles import Profile
from mat.stock.draws import return_for_correction
from mat.violations import Violation


def get_dose(dose_id: int) -> Dose:
    dose = db.session.get(Dose, dose_id)
    if dose is None:
        raise NotFound(f"No dose with id {dose_id}.", code="dose_not_found")
    return dose


def _witness(by: User, credentials: dict[str, str], profile: Profile) -> User:
    """The second nurse, who confirms with their own password; refused as ``witness_required``."""
    witness = db.session.scalar(select(User).where(User.username == credentials["username"]))
    problem = None
    if not password_matches(witness, credentials["password"]) or witness is None:
        problem = "The witness's username or password is wrong."
    elif not witness.active or not witness.has_role("nurse"):
        problem = f"{witness.full_name} is not an active nurse and cannot witness a correction."
    elif witness.id == by.id:
        problem = "The witness must be a second nurse, not the one correcting the dose."
    if problem is None:
        return witness
    violation = Violation("witness_required", profile.severity("witness_required"), problem)
    raise RuleViolation(problem, code="witness_required", violations=[violation])


def correct_dose(
    dose_id: int, data: dict[str, Any], by: User, now: datetime, profile: Profile
) -> DoseCorrection:
    dose = get_dose(dose_id)
    lock_patient(dose.patient_id)
    db.session.refresh(dose)  # a correction stored while we waited for the lock
    if dose.correction is not None:
        raise Conflict(
            f"Dose {dose.id} was already corrected ({dose.correction.kind}); a correction is "
            "itself never changed.",
            code="already_corrected",
        )
    witness = _witness(by, data["witness"], profile)
    correction = DoseCorrection(
        dose=dose, kind=data["kind"], reason=data["reason"], by=by, witness=witness, at=now
    )
    db.session.add(correction)
    db.session.flush()
    return_for_correction(dose, correction, by, now)
    record(
        f"dose.{data['kind']}",
        entity_type="dose",
        entity_id=dose.id,
        patient_id=dose.patient_id,
        detail={
            "correction_id": correction.id,
            "reason": data["reason"],
            "witness": witness.username,
        },
    )
    return correction
