"""``Patient``: demographics, admission date (day 1 of treatment) and level of care."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from mat.database import utcnow
from mat.extensions import db

LEVELS_OF_CARE = ("detox", "inpatient", "intensive_outpatient", "outpatient", "maintenance")
STATUSES = ("active", "discharged")


class Patient(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(
            "level_of_care IN ('detox', 'inpatient', 'intensive_outpatient', 'outpatient', "
            "'maintenance')",
            name="known_level_of_care",
        ),
        CheckConstraint("status IN ('active', 'discharged')", name="known_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(32), unique=True)
    given_name: Mapped[str] = mapped_column(String(80))
    family_name: Mapped[str] = mapped_column(String(80), index=True)
    date_of_birth: Mapped[date]
    admitted_on: Mapped[date]  # day 1 of treatment (clinical-rules.md)
    level_of_care: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"
