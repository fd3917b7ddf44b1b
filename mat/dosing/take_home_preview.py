"""Which take-home dates a rule will refuse, judged before the nurse ticks them.

The window lists the coming week's take-home dates; a date the rules would refuse on its own
is shown disabled with the rule's words beside it, instead of a checkbox that only fails after
the nurse has ticked it. The same rules as ``service.dispense_take_homes`` (they are its own
functions), judged one date at a time: the hand-out itself still judges the ticked dates
together (a run of days can pass the ceiling where each day alone does not), all or nothing.
Reads only; nothing is written or audited here (the page's read is audited once).
"""

from __future__ import annotations

from datetime import date, datetime

from mat.dosing import service
from mat.orders.service import governing_order, patient_orders
from mat.patients.service import get_patient
from mat.profiles import Profile
from mat.violations import Violation, blocking


def refused_take_home_dates(
    patient_id: int, dates: list[date], now: datetime, profile: Profile
) -> dict[date, list[Violation]]:
    """For each date a blocking rule refuses alone, the rules that refuse it."""
    if not dates:
        return {}
    patient = get_patient(patient_id, audit_read=False)
    orders = patient_orders(patient.id)
    today = now.date()
    blocks = service.patient_blocks(patient, orders, today, now, profile)
    refused: dict[date, list[Violation]] = {}
    for day in dates:
        order = governing_order(orders, day) or governing_order(orders, today)
        found = list(blocks)
        if order is not None:
            found += service.take_home_rules(patient, orders, order, [day], today, profile)
        if blocking(found):
            refused[day] = blocking(found)
    return refused
