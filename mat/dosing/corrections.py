"""Voids and spills: a new row pointing at the dose, confirmed by a second nurse.

The dose row is never changed (``append_only``). A void says the dose was recorded in error; a
spill says it was dispensed but lost. Either way the patient is taken not to have had it, so
the slot may be dosed again (as the next ``attempt``), and both show in every log.

A take-home is corrected only on the clinic day it was handed out (``take_home_correction``):
after the patient has left with it, a dose lost, stolen or spilled is a loss report
(``mat/dosing/loss_reports.py``), which a prescriber reviews. A correction without a witness is
refused as ``witness_required``, like one with a wrong one; every reason is given at once, and
a witness's password is not checked for a correction refused anyway.
the slot may be dosed again (as the next ``attempt``), and both show in every log. A void puts
the dose's quantity back into its lot, a spill leaves it written off (``mat.stock.draws``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mat.audit.service import record
from mat.auth.credentials import check_password
from mat.auth.models import User
from mat.dosing.models import Dose, DoseCorrection
from mat.dosing.situation import lock_patient
from mat.errors import Conflict, MatError, NotFound, RuleViolation
from mat.extensions import db
from mat.profiles import Profile
from mat.stock.draws import return_for_correction
from mat.violations import Violation


def get_dose(dose_id: int) -> Dose:
    dose = db.session.get(Dose, dose_id)
    if dose is None:
        raise NotFound(f"No dose with id {dose_id}.", code="dose_not_found")
    return dose


def _witness(by: User, given: dict[str, str], now: datetime, profile: Profile) -> User:
    """The second nurse, who confirms with their own password; refused as ``witness_required``.

    The password is checked like a sign-in (``check_password``): a wrong one counts towards the
    witness's own lockout, and the refusal's audit event names the witness that was tried.
    """
    username = given["username"]
    witness: User | None = None
    try:
        witness = check_password(username, given["password"], now, purpose="witness")
    except MatError as err:
        problem = (
            "The witness's account is locked after too many wrong passwords."
            if err.code == "account_locked"
            else "The witness's username or password is wrong."
        )
        on_refusal = err.on_refusal
    else:
        on_refusal = None
        problem = None
        if not witness.has_role("nurse"):
            problem = f"{witness.full_name} is not a nurse and cannot witness a correction."
        elif witness.id == by.id:
            problem = "The witness must be a second nurse, not the one correcting the dose."
    if problem is None and witness is not None:
        return witness
    violation = Violation("witness_required", profile.severity("witness_required"), problem)
    raise RuleViolation(
        problem,
        code="witness_required",
        violations=[violation],
        audit_detail={"witness": username, "purpose": "witness"},
        on_refusal=on_refusal,
    )


def _refusals(
    dose: Dose, credentials: dict[str, str] | None, now: datetime, profile: Profile
) -> list[Violation]:
    found = []
    handed_out = dose.dispensed_at.astimezone(now.tzinfo).date()
    if dose.mode == "take_home" and handed_out != now.date():
        found.append(
            Violation(
                "take_home_correction",
                profile.severity("take_home_correction"),
                f"Take-home dose #{dose.id} was handed out on {handed_out}; a take-home is "
                "voided or spilled only the day it is handed out. If the patient lost it, it "
                f"was stolen or spilled, report it: POST /api/v1/doses/{dose.id}/loss-reports.",
            )
        )
    if dose.loss is not None:
        found.append(
            Violation(
                "take_home_correction",
                profile.severity("take_home_correction"),
                f"Take-home dose #{dose.id} was reported {dose.loss.kind} on "
                f"{dose.loss.reported_on}; a prescriber reviews that report.",
            )
        )
    if credentials is None:
        found.append(
            Violation(
                "witness_required",
                profile.severity("witness_required"),
                "A second nurse confirms every void or spill with their own username and "
                "password (witness).",
            )
        )
    return found


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
    if dose.imported:  # the previous program's record (mat.imports): not mat's to correct
        raise Conflict(
            f"Dose {dose.id} was imported from the previous program's record; correct it there.",
            code="imported_dose",
        )
    found = _refusals(dose, data.get("witness"), now, profile)
    if found:
        raise RuleViolation(
            "The dose was not corrected: " + " ".join(v.message for v in found),
            code=found[0].rule,
            violations=found,
        )
    witness = _witness(by, data["witness"], now, profile)
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
        records=[correction, dose],
        detail={
            "correction_id": correction.id,
            "reason": data["reason"],
            "witness": witness.username,
        },
    )
    return correction
