"""Controlled-substance stock: stations, lots, and the ledger of every quantity that moved.

- ``Station``: a dispensing station (``window-1`` is built in by migration 0007; admins add more,
  a vault for example). A nurse works at one station per session.
- ``Lot``: a manufacturer's lot of a formulary product with its expiry date. A lot number is
  unique per product; the same lot may be received more than once and sit at several stations.
- ``StockMovement``: the ledger (append-only): every quantity that entered or left a station's
  lot, except doses. A dose is itself the record of its draw: ``doses.station_id`` and
  ``doses.lot_id`` (also append-only) name where it came from, and its quantity is its
  ``volume_ml`` (liquids) or its units (``amount_mg / strength_mg``, solids).
- ``StockBalance``: a cached on-hand per station and lot, so that a dose checks and takes its
  quantity in one guarded UPDATE (``on_hand >= quantity``), which two windows cannot both pass.
  It is the one table of this package that changes; it always equals the ledger's sum
  (``mat.stock.ledger.ledger_on_hand``), which the property tests check, and a database CHECK
  keeps it from going below zero.
- ``StockReceipt`` and ``StockTransfer``: the documents behind receipt and transfer movements.

Quantities are ``Decimal``: mL for liquids, units (tablets, films) for solids.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mat.auth.models import User
from mat.database import utcnow
from mat.extensions import db
from mat.formulary.models import Medication

# A month's receipts of a busy clinic fit easily; 12 digits leave room for any stock room.
Quantity = Numeric(12, 3, asdecimal=True)
MOVEMENT_KINDS = ("receipt", "transfer_in", "transfer_out", "return", "count", "destruction")


class Station(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Lot(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "lots"
    __table_args__ = (UniqueConstraint("medication_id", "lot_number", name="one_lot_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    medication_id: Mapped[int] = mapped_column(ForeignKey("medications.id"), index=True)
    lot_number: Mapped[str] = mapped_column(String(40))
    expires_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    medication: Mapped[Medication] = relationship(lazy="joined")


class StockBalance(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "stock_balances"
    __table_args__ = (
        UniqueConstraint("station_id", "lot_id", name="one_balance"),
        CheckConstraint("on_hand >= 0", name="never_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    on_hand: Mapped[Decimal] = mapped_column(Quantity)


class StockReceipt(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "stock_receipts"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="positive_quantity"),
        CheckConstraint("witness_id <> received_by_id", name="witness_is_someone_else"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    supplier: Mapped[str] = mapped_column(String(120))
    order_form: Mapped[str] = mapped_column(String(40))  # DEA Form 222 or CSOS order number
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    witness_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    station: Mapped[Station] = relationship(lazy="joined")
    lot: Mapped[Lot] = relationship(lazy="joined")
    received_by: Mapped[User] = relationship(foreign_keys=[received_by_id], lazy="joined")
    witness: Mapped[User] = relationship(foreign_keys=[witness_id], lazy="joined")


class StockTransfer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "stock_transfers"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="positive_quantity"),
        CheckConstraint("from_station_id <> to_station_id", name="two_stations"),
        CheckConstraint("witness_id <> by_id", name="witness_is_someone_else"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    from_station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    to_station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    note: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    witness_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    lot: Mapped[Lot] = relationship(lazy="joined")
    from_station: Mapped[Station] = relationship(foreign_keys=[from_station_id], lazy="joined")
    to_station: Mapped[Station] = relationship(foreign_keys=[to_station_id], lazy="joined")
    by: Mapped[User] = relationship(foreign_keys=[by_id], lazy="joined")
    witness: Mapped[User] = relationship(foreign_keys=[witness_id], lazy="joined")


class StockMovement(db.Model):  # type: ignore[name-defined,misc]
    """One line of the ledger: ``quantity`` is signed (+ in, - out). Exactly the document that
    caused it is named: a receipt, a transfer, a voided dose (``return``), a count (its
    adjustment to what was counted) or a destruction (DEA Form 41)."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('receipt', 'transfer_in', 'transfer_out', 'return', 'count', 'destruction')",
            name="known_kind",
        ),
        CheckConstraint("quantity <> 0", name="nonzero_quantity"),
        Index("ix_stock_movements_station_id_at", "station_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("stock_receipts.id"))
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("stock_transfers.id"))
    dose_id: Mapped[int | None] = mapped_column(ForeignKey("doses.id"))
    count_id: Mapped[int | None] = mapped_column(ForeignKey("stock_counts.id"))
    destruction_id: Mapped[int | None] = mapped_column(ForeignKey("stock_destructions.id"))
