"""The clinic's clock: "today" is the clinic-local date (MAT_CLINIC_TZ), never the server's.

Views read the clock once per request and pass ``now`` (aware, in the clinic's zone) to the
services, which take ``today`` as ``now.date()``: rules never read a clock themselves.

``MAT_CLOCK`` (a config key, never an environment variable) may hold a callable returning an
aware datetime; tests and the demo seed use it to stand on a chosen clinic day. Production
leaves it unset and the wall clock is used.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from mat.database import utcnow


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["MAT_CLINIC_TZ"])


def clinic_now() -> datetime:
    clock = current_app.config.get("MAT_CLOCK")
    now = clock() if clock is not None else utcnow()
    if now.tzinfo is None:
        raise ValueError("MAT_CLOCK must return an aware datetime")
    return now.astimezone(clinic_zone())


def clinic_today() -> date:
    return clinic_now().date()
