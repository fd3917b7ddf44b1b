"""Orders as the API shows them: plain dicts for the marshmallow output schemas.

The API layer's adapter, not a service: services return ``Order`` (or ``OrderWithStatus``) and the
views shape it here for ``OrderOut`` / ``SignedOrderOut`` / ``PlannedDoseOut``. It stays a module
of its own, rather than ``Method`` fields on the schemas, because those schemas also write the
OpenAPI document: plain typed fields over these dicts document every field of the contract, where
a ``Method`` field documents none. (Decided in the move of serialization out of the services.)
"""

from __future__ import annotations

import json
from typing import Any

from mat.orders.models import Order
from mat.orders.schedule import WEEKDAYS, PlannedDose


def order_answer(order: Order, status: str) -> dict[str, Any]:
    stored = order.stored
    take_home = None
    if order.take_home is not None and stored.take_home is not None:
        auth = order.take_home
        take_home = {
            "weekdays": sorted(stored.take_home.weekdays, key=_weekday_index),
            "dates": sorted(stored.take_home.dates),
            "split_slots": [slot for slot in stored.slots if slot in stored.take_home.split_slots],
            "criteria_list": auth.criteria_list,
            "criteria": auth.criteria,
            "rationale": auth.rationale,
            "note": auth.note,
            "affirmed_by": auth.affirmed_by,
            "affirmed_at": auth.affirmed_at,
        }
    stop = order.discontinuation
    return {
        "id": order.id,
        "patient_id": order.patient_id,
        "medication": order.medication.code,
        "kind": order.kind,
        "status": status,
        "start_date": order.start_date,
        "end_date": order.end_date,
        "first_dose_mg": order.first_dose_mg,
        "steps": stored.steps,
        "split": [{"slot": slot, "fraction": f} for slot, f in stored.split],
        "take_home": take_home,
        "justification": order.justification,
        "warnings": json.loads(order.warnings),
        "profile": {"id": order.profile_id, "version": order.profile_version},
        "signed_by": order.signed_by,
        "signed_at": order.signed_at,
        "imported": order.imported,
        "prescribed_by": order.prescribed_by_text,
        "discontinued": None
        if stop is None
        else {
            "effective_on": stop.effective_on,
            "reason": stop.reason,
            "by": stop.by,
            "at": stop.at,
        },
    }


def planned_answer(planned: PlannedDose, order_id: int | None) -> dict[str, Any]:
    return {
        "date": planned.date,
        "slot": planned.slot,
        "dose_mg": planned.dose_mg,
        "volume_ml": planned.volume_ml,
        "mode": planned.mode,
        "order_id": order_id,
    }


def _weekday_index(name: str) -> int:
    return WEEKDAYS.index(name)
