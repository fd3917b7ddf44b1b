"""What happens at the dosing window, as append-only rows (triggers in migration 0003).

- ``Dose``: one observed or take-home dose. ``(patient, service date, slot, attempt)`` is unique
  in the database, so two windows giving the same dose at once store one and refuse the other.
  ``attempt`` is 1 for the first dose of a slot; only after that dose is voided or spilled may a
  replacement be recorded, as attempt 2 (and so on), under the same unique constraint.
- ``DoseCorrection``: a void or a spill pointing at the dose it corrects, confirmed by a second
  nurse (the witness). The dose row itself is never changed.
- ``WithheldDose``: the nurse did not give the day's dose (for example the patient appeared
  intoxicated). Counts as not dosed.
- ``Hold`` and ``HoldRelease``: no dose while a hold is open; a release is a new row.
- ``DrugScreen``: a urine drug screen with per-substance results.
- ``ClinicClosure``: a day the clinic is closed (one take-home allowed, flagged).
- ``TakeHomeLoss`` and ``TakeHomeLossReview``: a take-home the patient reports lost, stolen or
  spilled after leaving (not a correction: the dose was handed out), and the prescriber's
  decision whether to replace it (migration 0006).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mat.auth.models import User
from mat.database import utcnow
from mat.extensions import db
from mat.formulary.models import Medication
from mat.orders.models import TakeHomeException

if TYPE_CHECKING:  # mapped in mat.stock.models (imported by mat.models with every model)
    from mat.stock.models import Lot, Station

MODES = ("observed", "take_home")
CORRECTION_KINDS = ("void", "spill")
LOSS_KINDS = ("lost", "stolen", "spilled")
LOSS_DECISIONS = ("replace", "no_replacement")


class Dose(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "doses"
    __table_args__ = (
        UniqueConstraint("patient_id", "service_date", "slot", "attempt", name="one_per_slot"),
        CheckConstraint("mode IN ('observed', 'take_home')", name="known_mode"),
        CheckConstraint("amount_mg > 0", name="positive_amount"),
        CheckConstraint("attempt >= 1", name="attempt_from_one"),
        Index("ix_doses_service_date_dispensed_at", "service_date", "dispensed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    medication_id: Mapped[int] = mapped_column(ForeignKey("medications.id"))
    service_date: Mapped[date]  # the clinic date the dose is for
    slot: Mapped[str] = mapped_column(String(12))
    attempt: Mapped[int] = mapped_column(default=1)
    mode: Mapped[str] = mapped_column(String(10))
    amount_mg: Mapped[Decimal]
    volume_ml: Mapped[Decimal | None]  # liquids only
    dispensed_at: Mapped[datetime]
    dispenser_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    late_entry_reason: Mapped[str | None] = mapped_column(Text)
    closure_dose: Mapped[bool] = mapped_column(default=False)
    warnings: Mapped[str] = mapped_column(Text, default="[]")  # [{rule, severity, message}]
    profile_id: Mapped[str] = mapped_column(String(40))
    profile_version: Mapped[str] = mapped_column(String(20))
    # The SMA-168 exception that let this take-home pass the ceiling (take_home_exception).
    take_home_exception_id: Mapped[int | None] = mapped_column(
        ForeignKey("take_home_exceptions.id")
    )
    # Where the dose was drawn (mat.stock): the station, and the lot of a product whose stock
    # is tracked (None before its first receipt, and on rows from before stock tracking).
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)
    # A dose another program gave, brought in by an import (mat.imports): it counts for the
    # dose plan but is not a row of mat's dispensing log (the other program's log holds it).
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))

    medication: Mapped[Medication] = relationship(lazy="joined")
    dispenser: Mapped[User] = relationship(lazy="joined")
    station: Mapped[Station | None] = relationship()
    lot: Mapped[Lot | None] = relationship()
    correction: Mapped[DoseCorrection | None] = relationship(
        back_populates="dose", lazy="selectin", uselist=False
    )
    loss: Mapped[TakeHomeLoss | None] = relationship(
        back_populates="dose", lazy="selectin", uselist=False
    )
    take_home_exception: Mapped[TakeHomeException | None] = relationship()

    @property
    def imported(self) -> bool:
        return self.import_id is not None

    @property
    def late_entry(self) -> bool:
        return self.late_entry_reason is not None

    @property
    def counts(self) -> bool:
        """Whether the patient is taken to have had this dose: not voided, not spilled, and not
        a lost take-home a prescriber decided to replace (the replacement takes its slot)."""
        return self.correction is None and not (self.loss is not None and self.loss.replaced)

    @property
    def warning_list(self) -> list[dict[str, str]]:
        return json.loads(self.warnings)


class DoseCorrection(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "dose_corrections"
    __table_args__ = (
        CheckConstraint("kind IN ('void', 'spill')", name="known_kind"),
        CheckConstraint("witness_id <> by_id", name="witness_is_someone_else"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("doses.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    witness_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    dose: Mapped[Dose] = relationship(back_populates="correction")
    by: Mapped[User] = relationship(foreign_keys=[by_id], lazy="joined")
    witness: Mapped[User] = relationship(foreign_keys=[witness_id], lazy="joined")


class WithheldDose(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "withheld_doses"
    __table_args__ = (UniqueConstraint("patient_id", "service_date", name="one_per_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    service_date: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[User] = relationship(lazy="joined")


class Hold(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)

    set_by: Mapped[User] = relationship(lazy="joined")
    release: Mapped[HoldRelease | None] = relationship(
        back_populates="hold", lazy="selectin", uselist=False
    )

    @property
    def is_open(self) -> bool:
        return self.release is None


class HoldRelease(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "hold_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("holds.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    hold: Mapped[Hold] = relationship(back_populates="release")
    by: Mapped[User] = relationship(lazy="joined")


class DrugScreen(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "drug_screens"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    collected_on: Mapped[date]
    results: Mapped[str] = mapped_column(Text)  # canonical JSON {substance: result}
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))  # mat.imports

    recorded_by: Mapped[User] = relationship(lazy="joined")

    @property
    def result_map(self) -> dict[str, str]:
        return json.loads(self.results)


class ClinicClosure(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "clinic_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[date] = mapped_column(unique=True)
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class TakeHomeLoss(db.Model):  # type: ignore[name-defined,misc]
    """A take-home dose reported lost, stolen or spilled after the patient left with it."""

    __tablename__ = "take_home_losses"
    __table_args__ = (CheckConstraint("kind IN ('lost', 'stolen', 'spilled')", name="known_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("doses.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    reported_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text)
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)

    dose: Mapped[Dose] = relationship(back_populates="loss")
    reported_by: Mapped[User] = relationship(lazy="joined")
    review: Mapped[TakeHomeLossReview | None] = relationship(
        back_populates="loss", lazy="selectin", uselist=False
    )

    @property
    def replaced(self) -> bool:
        return self.review is not None and self.review.decision == "replace"


class TakeHomeLossReview(db.Model):  # type: ignore[name-defined,misc]
    """A prescriber's decision on a loss report: replace the dose, or not."""

    __tablename__ = "take_home_loss_reviews"
    __table_args__ = (
        CheckConstraint("decision IN ('replace', 'no_replacement')", name="known_decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loss_id: Mapped[int] = mapped_column(ForeignKey("take_home_losses.id"), unique=True)
    decision: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    loss: Mapped[TakeHomeLoss] = relationship(back_populates="review")
    by: Mapped[User] = relationship(lazy="joined")
