"""How a dose reads at the window: mg, and what the nurse measures out for it.

A liquid is drawn up in mL (the formulary's concentration); a solid form is counted out in
tablets or films of the product's strength, so "16 mg" also says "2 films of 8 mg": the nurse
must not have to divide in their head at a busy window.
"""

from __future__ import annotations

from decimal import Decimal

from mat.formulary.models import Medication
from mat.orders.schedule import mg_text
from mat.stock.rules import quantity_of, quantity_text


def measure_text(
    medication: Medication, amount_mg: Decimal, volume_ml: Decimal | None = None
) -> str:
    """``"4 mL"`` for a liquid (the recorded volume when there is one), ``"2 films of 8 mg"``
    for a solid form."""
    product = medication.as_product()
    if product.is_liquid:
        volume = volume_ml if volume_ml is not None else quantity_of(product, amount_mg)
        return quantity_text(product, volume)
    units = quantity_of(product, amount_mg)
    return f"{quantity_text(product, units)} of {mg_text(product.strength_mg)}"


def dose_text(medication: Medication, amount_mg: Decimal, volume_ml: Decimal | None = None) -> str:
    """``"40 mg (4 mL)"``, ``"16 mg (2 films of 8 mg)"``."""
    return f"{mg_text(amount_mg)} ({measure_text(medication, amount_mg, volume_ml)})"
