"""Signed orders, their take-home authorizations and discontinuations: all append-only.

A signed order is never edited. Its status is derived, not stored: a newer order supersedes it
from the newer one's start date, a discontinuation row ends it, its end date completes it. So the
database can refuse every UPDATE and DELETE on these tables (triggers in migration 0002).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
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
    # An order brought in by an import (mat.imports): signed by another program's prescriber,
    # named here as free text; ``signed_by`` is the admin who imported it.
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    prescribed_by_text: Mapped[str | None] = mapped_column(String(160))

    medication: Mapped[Medication] = relationship(lazy="joined")
    signed_by: Mapped[User] = relationship(lazy="joined")
    take_home: Mapped[TakeHomeAuthorization | None] = relationship(
        back_populates="order", lazy="selectin", uselist=False
    )
    discontinuation: Mapped[OrderDiscontinuation | None] = relationship(
        back_populates="order", lazy="selectin", uselist=False
    )

    @property
    def imported(self) -> bool:
        return self.import_id is not None

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


# The federal take-home criteria (42 CFR 8.12 as amended in 2024): each answered yes or no.
CRITERIA_2024 = ("no_active_use_or_risk", "regular_attendance", "no_behavioral_problems",
                 "no_diversion", "safe_transport_and_storage")  # fmt: skip
# What authorizations signed before migration 0006 affirmed (the list before 2024).
CRITERIA_BEFORE_2024 = ("no_recent_misuse", "regular_attendance", "no_behavioral_problems",
                        "no_diversion", "stable_home", "safe_storage")  # fmt: skip


class TakeHomeAuthorization(db.Model):  # type: ignore[name-defined,misc]
    """The federal criteria the prescriber answered before authorizing take-homes, and why the
    benefits outweigh the risks (``rationale``).

    Rows are never changed (append-only), so the criteria of 2024 came in as new columns beside
    the old ones (migration 0006): a row answers either the five 2024 criteria and a rationale,
    or (signed before) the six criteria of the old list and a ``note``. The check constraint
    keeps every row one whole form.
    """

    __tablename__ = "take_home_authorizations"
    __table_args__ = (
        CheckConstraint(
            "(no_active_use_or_risk IS NOT NULL AND safe_transport_and_storage IS NOT NULL "
            "AND rationale IS NOT NULL) OR (no_recent_misuse IS NOT NULL AND stable_home IS "
            "NOT NULL AND safe_storage IS NOT NULL)",
            name="one_whole_form",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    no_active_use_or_risk: Mapped[bool | None]
    regular_attendance: Mapped[bool]
    no_behavioral_problems: Mapped[bool]
    no_diversion: Mapped[bool]
    safe_transport_and_storage: Mapped[bool | None]
    rationale: Mapped[str | None] = mapped_column(Text)
    # The old list's own criteria, kept as answered before 2024.
    no_recent_misuse: Mapped[bool | None]
    stable_home: Mapped[bool | None]
    safe_storage: Mapped[bool | None]
    note: Mapped[str] = mapped_column(Text, default="")
    affirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    affirmed_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="take_home")
    affirmed_by: Mapped[User] = relationship(lazy="joined")

    @property
    def criteria_list(self) -> str:
        """``2024`` for the five criteria of 42 CFR 8.12 as amended, ``before-2024`` for an
        authorization signed under the old list."""
        return "2024" if self.rationale is not None else "before-2024"

    @property
    def criteria(self) -> dict[str, bool | None]:
        names = CRITERIA_2024 if self.criteria_list == "2024" else CRITERIA_BEFORE_2024
        return {name: getattr(self, name) for name in names}


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


class TakeHomeException(db.Model):  # type: ignore[name-defined,misc]
    """An exception approved by the state opioid treatment authority or SAMHSA (form SMA-168),
    recorded by a prescriber: take-homes on ``starts_on``..``ends_on`` may pass the take-home
    ceiling (``take_home_exception``). Append-only (migration 0006)."""

    __tablename__ = "take_home_exceptions"
    __table_args__ = (
        UniqueConstraint("patient_id", "number", name="one_exception_number_per_patient"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    number: Mapped[str] = mapped_column(String(64))  # the SMA-168 request or approval number
    approved_by: Mapped[str] = mapped_column(String(160))  # who approved, as the form says
    approved_on: Mapped[date]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    recorded_by: Mapped[User] = relationship(lazy="joined")

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on
