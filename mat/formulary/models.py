"""``Medication``: a formulary row; the seven built-in rows come from ``catalog.PRODUCTS``."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from mat.extensions import db
from mat.formulary.catalog import Product


class Medication(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "medications"
    __table_args__ = (
        CheckConstraint("form IN ('liquid', 'tablet', 'film')", name="known_form"),
        CheckConstraint("strength_mg > 0", name="positive_strength"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    substance: Mapped[str] = mapped_column(String(24))
    form: Mapped[str] = mapped_column(String(12))
    strength_mg: Mapped[Decimal]  # mg per mL for liquids, mg per unit otherwise
    unit: Mapped[str] = mapped_column(String(12))
    scored: Mapped[bool] = mapped_column(default=False)

    @property
    def per_ml(self) -> Decimal | None:
        return self.strength_mg if self.form == "liquid" else None

    def as_product(self) -> Product:
        """The pure value the schedule and rule modules measure doses with."""
        return Product(
            self.code,
            self.name,
            self.substance,
            self.form,  # type: ignore[arg-type]
            self.strength_mg,
            self.unit,
            self.scored,
        )
