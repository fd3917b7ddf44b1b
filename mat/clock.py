"""The clinic's clock: "today" is the clinic-local date (MAT_CLINIC_TZ), never the server's."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from mat.database import utcnow


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["MAT_CLINIC_TZ"])


def clinic_now() -> datetime:
    return utcnow().astimezone(clinic_zone())


def clinic_today() -> date:
    return clinic_now().date()
