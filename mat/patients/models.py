"""``Patient``: demographics, admission date (day 1 of treatment) and level of care; and the
patient's episodes of care.

An episode of care runs from an admission to a discharge. A discharged patient who comes back is
readmitted: a new episode, day 1 again (clinical-rules.md). ``PatientEpisode`` and
``EpisodeDischarge`` are append-only (triggers in migration 0006), so every earlier episode stays
in the record. ``patients.admitted_on`` is the admission date of the *current* episode, written
by the episode service together with the episode row (``mat/patients/episodes.py``): every rule
that counts treatment days reads it, and the episodes table is the history behind it.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mat.auth.models import User
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
    admitted_on: Mapped[date]  # day 1 of treatment: the current episode's admission date
    level_of_care: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12), default="active")
    # Screen-panel substances prescribed elsewhere (JSON list): expected on a screen, not positive.
    other_prescribed: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    @property
    def other_prescribed_list(self) -> list[str]:
        return list(json.loads(self.other_prescribed))


class PatientEpisode(db.Model):  # type: ignore[name-defined,misc]
    """One episode of care: admission ``number`` (1, 2, ...) of the patient, from
    ``admitted_on``. ``admitted_by`` is empty for episodes migration 0006 wrote for patients
    registered before episodes were recorded."""

    __tablename__ = "patient_episodes"
    __table_args__ = (
        UniqueConstraint("patient_id", "number", name="one_episode_number_per_patient"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    number: Mapped[int]
    admitted_on: Mapped[date]
    level_of_care: Mapped[str] = mapped_column(String(24))
    admitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    admitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    admitted_by: Mapped[User | None] = relationship(lazy="joined")
    discharge: Mapped[EpisodeDischarge | None] = relationship(
        back_populates="episode", lazy="selectin", uselist=False
    )


class EpisodeDischarge(db.Model):  # type: ignore[name-defined,misc]
    """The end of an episode. ``discharged_on`` and ``by`` are empty only where migration 0006
    found a patient already discharged (the date was not recorded before)."""

    __tablename__ = "episode_discharges"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("patient_episodes.id"), unique=True)
    discharged_on: Mapped[date | None]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    episode: Mapped[PatientEpisode] = relationship(back_populates="discharge")
    by: Mapped[User | None] = relationship(lazy="joined")
