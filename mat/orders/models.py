"""Signed orders, their take-home authorizations and discontinuations: all append-only.

A signed order is never edited. Its status is derived, not stored: a newer order supersedes it
from the newer one's start date, a discontinuation row ends it, its end date completes it. So the
database can refuse every UPDATE and DELETE on these tables (triggers in migration 0002).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mat.auth.models import User
from mat.database import utcnow
from mat.extensions import db
from mat.formulary.models import Medication
from mat.orders.coverage import Coverage
from mat.orders.stored import StoredSchedule

ORDER_KINDS = ("induction", "titration", "maintenance", "taper")


class Order(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('induction', 'titration', 'maintenance', 'taper')", name="known_kind"
        ),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    medication_id: Mapped[int] = mapped_column(ForeignKey("medications.id"))
    kind: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[date]
    # The effective last day (an explicit end_date, or the day a taper to 0 mg runs out).
    end_date: Mapped[date | None]
    first_dose_mg: Mapped[Decimal]
    # The stored schedule: JSON of steps [[date, mg], ...], split [[slot, fraction], ...] and
    # take-home days, the one representation both explicit and generated orders become.
    schedule: Mapped[str] = mapped_column(Text)
    request: Mapped[str] = mapped_column(Text)  # the order body as the prescriber sent it
    justification: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[str] = mapped_column(Text, default="[]")  # [{rule, severity, message}]
    profile_id: Mapped[str] = mapped_column(String(40))
    profile_version: Mapped[str] = mapped_column(String(20))
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)

    medication: Mapped[Medication] = relationship(lazy="joined")
    signed_by: Mapped[User] = relationship(lazy="joined")
    take_home: Mapped[TakeHomeAuthorization | None] = relationship(
        back_populates="order", lazy="selectin", uselist=False
    )
    discontinuation: Mapped[OrderDiscontinuation | None] = relationship(
        back_populates="order", lazy="selectin", uselist=False
    )

    @property
    def stored(self) -> StoredSchedule:
        cached = self.__dict__.get("_stored")
        if cached is None:  # parsed once per loaded row; the row never changes (append-only)
            cached = self.__dict__["_stored"] = StoredSchedule.from_json(self.schedule)
        return cached

    @property
    def coverage(self) -> Coverage:
        stopped = self.discontinuation.effective_on if self.discontinuation else None
        return Coverage(self.id, self.signed_at, self.start_date, self.end_date, stopped)


class TakeHomeAuthorization(db.Model):  # type: ignore[name-defined,misc]
    """The six federal criteria the prescriber affirmed before authorizing take-homes."""

    __tablename__ = "take_home_authorizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    no_recent_misuse: Mapped[bool]
    regular_attendance: Mapped[bool]
    no_behavioral_problems: Mapped[bool]
    no_diversion: Mapped[bool]
    stable_home: Mapped[bool]
    safe_storage: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    affirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    affirmed_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="take_home")
    affirmed_by: Mapped[User] = relationship(lazy="joined")


class OrderDiscontinuation(db.Model):  # type: ignore[name-defined,misc]
    """Ends an order from ``effective_on`` (the clinic date it was discontinued)."""

    __tablename__ = "order_discontinuations"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    effective_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="discontinuation")
    by: Mapped[User] = relationship(lazy="joined")
