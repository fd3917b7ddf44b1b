"""Printing take-home labels: which doses may have one, what each says, and the audit event.

A label is printed for a take-home dose that was not voided or spilled; printing is a read of
the patient's record (name, MRN, dose) and is audited like one.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask import current_app

from mat.audit.service import record
from mat.clock import clinic_zone
from mat.dosing.models import Dose
from mat.errors import Conflict, InvalidInput, concerning_patient
from mat.extensions import db
from mat.patients.models import Patient
from mat.reports.log_rows import strength_text
from mat.stock.rules import quantity_text, units_of


@dataclass(frozen=True, slots=True)
class LabelData:
    dose_id: int
    clinic: str
    address: str
    phone: str
    patient_name: str
    mrn: str
    medication: str  # the product's name, strength included
    strength: str  # "10 mg/mL"
    amount: str  # "60 mg = 6 mL", "16 mg = 2 films"
    for_date: date
    lot: str  # "L123 (exp 2027-01-31)" or "" when the product's stock is not tracked
    dispensed_on: date
    initials: str

    @property
    def qr_text(self) -> str:
        return str(self.dose_id)


def _amount(dose: Dose) -> str:
    product = dose.medication.as_product()
    mg = f"{dose.amount_mg.normalize():f} mg"
    if dose.volume_ml is not None:
        return f"{mg} = {quantity_text(product, dose.volume_ml)}"
    units = units_of(product, dose.amount_mg)
    return f"{mg} = {quantity_text(product, units)}" if units is not None else mg


def label_of(dose: Dose) -> LabelData:
    config = current_app.config
    patient = db.session.get(Patient, dose.patient_id)
    assert patient is not None
    medication = dose.medication
    lot = f"{dose.lot.lot_number} (exp {dose.lot.expires_on.isoformat()})" if dose.lot else ""
    return LabelData(
        dose_id=dose.id,
        clinic=config["MAT_CLINIC_NAME"],
        address=config.get("MAT_CLINIC_ADDRESS") or "",
        phone=config.get("MAT_CLINIC_PHONE") or "",
        patient_name=patient.display_name,
        mrn=patient.mrn,
        medication=medication.name,
        strength=strength_text(medication.strength_mg, medication.form, medication.unit),
        amount=_amount(dose),
        for_date=dose.service_date,
        lot=lot,
        dispensed_on=dose.dispensed_at.astimezone(clinic_zone()).date(),
        initials=dose.dispenser.initials,
    )


def check_printable(dose: Dose) -> None:
    if dose.mode != "take_home":
        raise InvalidInput(
            f"Dose {dose.id} was observed at the window: only take-home bottles have labels.",
            code="not_a_take_home",
        )
    if dose.correction is not None:
        raise Conflict(
            f"Dose {dose.id} was {dose.correction.kind}ed: its label is not printed.",
            code="corrected_dose",
        )


def labels_pdf(doses: Sequence[Dose], layout: str) -> bytes:
    """The PDF of one label per dose (each checked first), recorded as one audit event per
    patient."""
    from mat.stock.labels import write_labels  # reportlab: loaded only when labels are printed

    for dose in doses:
        check_printable(dose)
    patients = sorted({dose.patient_id for dose in doses})
    buffer = io.BytesIO()
    # A label too full to print whole is refused (``label_does_not_fit``) naming its patient.
    with concerning_patient(patients[0] if len(patients) == 1 else None):
        write_labels([label_of(dose) for dose in doses], buffer, layout=layout)
    for patient_id in patients:
        record(
            "dose.label",
            entity_type="dose",
            entity_id=",".join(str(d.id) for d in doses if d.patient_id == patient_id),
            patient_id=patient_id,
            detail={"layout": layout},
        )
    return buffer.getvalue()
