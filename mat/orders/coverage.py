"""Which signed order governs which date, and each order's status: pure, ``today`` passed in.

The rule (api-contract.md): a newly signed order supersedes the patient's active order from its
start date on. So for a date ``d`` the governing order is the most recently signed one whose
coverage holds ``d``: ``start <= d``, ``d <= end`` (if it has an end), and ``d`` before the day it
was discontinued. Earlier orders keep governing the dates before a newer one starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Status = Literal["active", "superseded", "discontinued", "completed"]


@dataclass(frozen=True, slots=True)
class Coverage:
    order_id: int
    signed_at: datetime
    start: date
    end: date | None
    discontinued_on: date | None  # no dose from this date on

    @property
    def signing_order(self) -> tuple[datetime, int]:
        """Which of two orders was signed later; ids break a tie of the same instant."""
        return self.signed_at, self.order_id

    def holds(self, day: date) -> bool:
        if day < self.start or (self.end is not None and day > self.end):
            return False
        return self.discontinued_on is None or day < self.discontinued_on


def governing(orders: Sequence[Coverage], day: date) -> Coverage | None:
    """The order that plans ``day``: the newest signed among those whose coverage holds it."""
    best: Coverage | None = None
    for order in orders:
        if order.holds(day) and (best is None or order.signing_order > best.signing_order):
            best = order
    return best


def status(order: Coverage, orders: Sequence[Coverage], today: date) -> Status:
    """``discontinued`` and ``completed`` are facts of the order itself; ``superseded`` means a
    newer order has taken over (it started on or before today, or before this one would start)."""
    if order.discontinued_on is not None:
        return "discontinued"
    for newer in orders:
        if newer.signing_order <= order.signing_order or newer.discontinued_on is not None:
            continue
        if newer.start <= max(today, order.start):
            return "superseded"
    if order.end is not None and order.end < today:
        return "completed"
    return "active"
