"""The built-in formulary: the seven products every install has (api-contract.md).

Pure data, no Flask: the schedule and rule modules measure doses against these, and the migration
that creates the ``medications`` table inserts the same rows.

How a product is measured (clinical-rules.md, ``dose_not_measurable``):
- liquids are drawn up to 0.1 mL, so the smallest step in mg is ``0.1 * mg_per_ml``;
- solid forms are given in whole units; a scored tablet may be halved.
Scoring is a clinic-visible choice: generic buprenorphine sublingual tablets and the films are
treated as *not* splittable (film labels say not to cut them, and tablet scoring varies by
manufacturer), naltrexone 50 mg tablets are scored (25 mg is a common first dose).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Form = Literal["liquid", "tablet", "film"]
LIQUID_STEP_ML = Decimal("0.1")


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    name: str
    substance: Literal["methadone", "buprenorphine", "naltrexone"]
    form: Form
    strength_mg: Decimal  # mg per mL for liquids, mg per unit for solid forms
    unit: str  # "mL", "tablet", "film"
    scored: bool = False

    @property
    def is_liquid(self) -> bool:
        return self.form == "liquid"

    @property
    def per_ml(self) -> Decimal | None:
        """mg per mL for liquids (the contract's ``per_ml``), ``None`` for solid forms."""
        return self.strength_mg if self.is_liquid else None

    @property
    def smallest_step_mg(self) -> Decimal:
        """The smallest amount this product can measure, in mg."""
        if self.is_liquid:
            return LIQUID_STEP_ML * self.strength_mg
        return self.strength_mg / 2 if self.scored else self.strength_mg

    def is_measurable(self, amount_mg: Decimal) -> bool:
        """True when ``amount_mg`` is a whole number of this product's smallest steps."""
        return amount_mg >= 0 and amount_mg % self.smallest_step_mg == 0

    def volume_ml(self, amount_mg: Decimal) -> Decimal | None:
        """mL to draw up for ``amount_mg`` (liquids only), exact to 0.1 mL."""
        if not self.is_liquid:
            return None
        return (amount_mg / self.strength_mg).quantize(LIQUID_STEP_ML)


PRODUCTS: tuple[Product, ...] = (
    Product(
        "METH-10MGML",
        "Methadone HCl oral concentrate 10 mg/mL",
        "methadone",
        "liquid",
        Decimal("10"),
        "mL",
    ),
    Product(
        "METH-1MGML",
        "Methadone HCl oral solution 1 mg/mL",
        "methadone",
        "liquid",
        Decimal("1"),
        "mL",
    ),
    Product(
        "BUP-SL-2",
        "Buprenorphine sublingual tablet 2 mg",
        "buprenorphine",
        "tablet",
        Decimal("2"),
        "tablet",
    ),
    Product(
        "BUP-SL-8",
        "Buprenorphine sublingual tablet 8 mg",
        "buprenorphine",
        "tablet",
        Decimal("8"),
        "tablet",
    ),
    Product(
        "BUPNX-FILM-2",
        "Buprenorphine/naloxone sublingual film 2 mg/0.5 mg",
        "buprenorphine",
        "film",
        Decimal("2"),
        "film",
    ),
    Product(
        "BUPNX-FILM-8",
        "Buprenorphine/naloxone sublingual film 8 mg/2 mg",
        "buprenorphine",
        "film",
        Decimal("8"),
        "film",
    ),
    Product(
        "NTX-TAB-50",
        "Naltrexone HCl tablet 50 mg",
        "naltrexone",
        "tablet",
        Decimal("50"),
        "tablet",
        scored=True,
    ),
)

BY_CODE: dict[str, Product] = {p.code: p for p in PRODUCTS}
