"""The DEA records of the stock, each an append-only row (triggers in migration 0007).

- ``StockCount`` (with ``StockCountLine``): the end-of-day count of one station, expected against
  counted per lot (clinical-rules.md, ``stock_reconciliation``), signed by the counter and a
  witness. ``status`` is ``balanced`` or ``open`` when stored; an open count is a variance that
  stays open until a ``VarianceResolution`` row (a prescriber or an admin) closes it.
- ``Inventory`` (with ``InventoryLine``): the initial and the biennial inventory (21 CFR
  1304.11): every lot at every station counted and signed, with the date and whether it was
  taken at the opening or the close of business.
- ``TheftLossReport``: a DEA Form 106 record (theft or significant loss): date found,
  quantity, circumstances.
- ``Destruction``: a DEA Form 41 record: what was destroyed, how, witnessed by two people.
- ``BottleReturn``: an empty take-home bottle brought back and scanned at the window.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mat.auth.models import User
from mat.database import utcnow
from mat.extensions import db
from mat.stock.models import Lot, Quantity, Station

COUNT_STATUSES = ("balanced", "open")
INVENTORY_KINDS = ("initial", "biennial")
INVENTORY_TIMES = ("opening", "close")
LOSS_KINDS = ("theft", "loss", "in_transit")


class StockCount(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "stock_counts"
    __table_args__ = (
        CheckConstraint("status IN ('balanced', 'open')", name="known_status"),
        CheckConstraint("witness_id <> counted_by_id", name="witness_is_someone_else"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    counted_on: Mapped[date]  # the clinic day counted
    counted_at: Mapped[datetime] = mapped_column(default=utcnow)
    counted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    witness_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10))
    explanation: Mapped[str | None] = mapped_column(Text)

    station: Mapped[Station] = relationship(lazy="joined")
    counted_by: Mapped[User] = relationship(foreign_keys=[counted_by_id], lazy="joined")
    witness: Mapped[User] = relationship(foreign_keys=[witness_id], lazy="joined")
    lines: Mapped[list[StockCountLine]] = relationship(
        back_populates="count", order_by="StockCountLine.id"
    )
    resolution: Mapped[VarianceResolution | None] = relationship(
        back_populates="count", uselist=False
    )

    @property
    def is_open(self) -> bool:
        return self.status == "open" and self.resolution is None

    @property
    def state(self) -> str:
        """``balanced``, ``open`` or ``resolved``: what screens and reports print."""
        if self.status == "balanced":
            return "balanced"
        return "open" if self.resolution is None else "resolved"


class StockCountLine(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "stock_count_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_counts.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    expected: Mapped[Decimal] = mapped_column(Quantity)
    counted: Mapped[Decimal] = mapped_column(Quantity)
    variance: Mapped[Decimal] = mapped_column(Quantity)
    tolerance: Mapped[Decimal] = mapped_column(Quantity)
    beyond_tolerance: Mapped[bool]

    count: Mapped[StockCount] = relationship(back_populates="lines")
    lot: Mapped[Lot] = relationship(lazy="joined")


class VarianceResolution(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "variance_resolutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_counts.id"), unique=True)
    resolution: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    count: Mapped[StockCount] = relationship(back_populates="resolution")
    by: Mapped[User] = relationship(lazy="joined")


class Inventory(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "inventories"
    __table_args__ = (
        CheckConstraint("kind IN ('initial', 'biennial')", name="known_kind"),
        CheckConstraint("taken_at IN ('opening', 'close')", name="known_time"),
        CheckConstraint("witness_id <> by_id", name="witness_is_someone_else"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    taken_on: Mapped[date]
    taken_at: Mapped[str] = mapped_column(String(10))  # opening or close of business
    explanation: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    witness_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[User] = relationship(foreign_keys=[by_id], lazy="joined")
    witness: Mapped[User] = relationship(foreign_keys=[witness_id], lazy="joined")
    lines: Mapped[list[InventoryLine]] = relationship(order_by="InventoryLine.id")


class InventoryLine(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "inventory_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    inventory_id: Mapped[int] = mapped_column(ForeignKey("inventories.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    expected: Mapped[Decimal] = mapped_column(Quantity)
    counted: Mapped[Decimal] = mapped_column(Quantity)

    station: Mapped[Station] = relationship(lazy="joined")
    lot: Mapped[Lot] = relationship(lazy="joined")


class TheftLossReport(db.Model):  # type: ignore[name-defined,misc]
    """DEA Form 106: recorded here; the quantity itself leaves the ledger through the count that
    finds it (see ``mat.stock.dea``)."""

    __tablename__ = "theft_loss_reports"
    __table_args__ = (
        CheckConstraint("kind IN ('theft', 'loss', 'in_transit')", name="known_kind"),
        CheckConstraint("quantity > 0", name="positive_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    kind: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    found_on: Mapped[date]
    circumstances: Mapped[str] = mapped_column(Text)
    count_id: Mapped[int | None] = mapped_column(ForeignKey("stock_counts.id"))
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    station: Mapped[Station] = relationship(lazy="joined")
    lot: Mapped[Lot] = relationship(lazy="joined")
    by: Mapped[User] = relationship(lazy="joined")


class Destruction(db.Model):  # type: ignore[name-defined,misc]
    """DEA Form 41: stock destroyed (expired, damaged), witnessed by two people besides the one
    who records it; its quantity leaves the ledger (a ``destruction`` movement)."""

    __tablename__ = "stock_destructions"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="positive_quantity"),
        CheckConstraint(
            "witness1_id <> by_id AND witness2_id <> by_id AND witness1_id <> witness2_id",
            name="three_people",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    method: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    witness1_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    witness2_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    station: Mapped[Station] = relationship(lazy="joined")
    lot: Mapped[Lot] = relationship(lazy="joined")
    by: Mapped[User] = relationship(foreign_keys=[by_id], lazy="joined")
    witness1: Mapped[User] = relationship(foreign_keys=[witness1_id], lazy="joined")
    witness2: Mapped[User] = relationship(foreign_keys=[witness2_id], lazy="joined")


class BottleReturn(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "bottle_returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("doses.id"), unique=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[User] = relationship(lazy="joined")
