"""The state of one import while it runs: the patients and orders it has met, the counts, the
warnings, and the bad values found so far (keyed by row, up to ``MOST_FIELD_ERRORS``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import select

from mat.auth.models import User
from mat.errors import InvalidInput, flatten_field_errors
from mat.extensions import db
from mat.orders.models import Order
from mat.orders.service import patient_orders
from mat.patients.models import Patient
from mat.profiles import Profile

MOST_FIELD_ERRORS = 100  # a refusal names at most this many bad values


@dataclass
class KnownPatient:
    id: int
    admitted_on: date
    imported: bool  # brought by this import (no dose of it can exist in mat yet)


@dataclass
class ImportRun:
    by: User
    now: datetime
    profile: Profile
    import_id: int
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"patients": 0, "orders": 0, "doses": 0, "drug_screens": 0}
    )
    patients: dict[str, KnownPatient | None] = field(default_factory=dict)  # MRN -> patient
    orders: dict[int, list[Order]] = field(default_factory=dict)  # patient id -> orders
    # Every patient and order row was written: doses can be checked against the orders.
    orders_complete: bool = False

    @property
    def today(self) -> date:
        return self.now.date()

    def refuse(self, row: str, name: str, message: str) -> None:
        self.errors.setdefault(f"{row}.{name}", []).append(message)
        self._stop_if_enough()

    def refuse_all(self, row: str, messages: dict[str, Any]) -> None:
        for name, found in flatten_field_errors(messages).items():
            self.errors.setdefault(f"{row}.{name}", []).extend(found)
        self._stop_if_enough()

    def _stop_if_enough(self) -> None:
        if len(self.errors) >= MOST_FIELD_ERRORS:
            raise refusal(self.errors)

    def load(self, schema: Schema, row: str, data: Any) -> dict[str, Any] | None:
        if not isinstance(data, dict):
            self.refuse(row, "_schema", "Each row is an object of the section's fields.")
            return None
        try:
            return schema.load(data)
        except ValidationError as err:
            self.refuse_all(row, err.normalized_messages())
            return None

    def patient(self, mrn: str) -> KnownPatient | None:
        """The patient a row names: one of this import, or one already in mat."""
        if mrn not in self.patients:
            found = db.session.execute(
                select(Patient.id, Patient.admitted_on).where(Patient.mrn == mrn)
            ).first()
            self.patients[mrn] = None if found is None else KnownPatient(found[0], found[1], False)
        return self.patients[mrn]

    def orders_of(self, patient_id: int) -> list[Order]:
        if patient_id not in self.orders:
            self.orders[patient_id] = patient_orders(patient_id)
        return self.orders[patient_id]


def refusal(errors: dict[str, list[str]]) -> InvalidInput:
    shown = f"the first {MOST_FIELD_ERRORS} " if len(errors) >= MOST_FIELD_ERRORS else ""
    return InvalidInput(
        f"The import was refused ({shown}invalid values by row below); nothing was written.",
        code="import_refused",
        fields=errors,
    )


def unknown_patient(mrn: str) -> str:
    return f"No patient with MRN {mrn} in this import or in mat."
