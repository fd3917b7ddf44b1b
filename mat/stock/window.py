"""What the dosing window shows of the stock, for one patient today: the station the nurse works
at, the lot the next dose would be drawn from (or why none may be), the take-homes handed out
today with their labels, and the bottles not yet returned."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask import session
from sqlalchemy import select

from mat.clinic_limits import TAKE_HOME_AHEAD_DAYS
from mat.clock import clinic_zone
from mat.dosing.models import Dose
from mat.extensions import db
from mat.formulary.models import Medication
from mat.profiles import Profile
from mat.stock.bottles import bottles_out
from mat.stock.draws import preview_draw
from mat.stock.models import Station
from mat.stock.rules import DEFAULT_STATION, LotStock, quantity_text, units_of
from mat.violations import Violation

SESSION_KEY = "station"


def current_station() -> str:
    """The station this nurse works at in this session (``window-1`` until they choose)."""
    code = session.get(SESSION_KEY) or DEFAULT_STATION
    return code if isinstance(code, str) else DEFAULT_STATION


def choose_station(code: str) -> Station | None:
    """Work at ``code`` for the rest of the session; None when there is no such station."""
    station = db.session.scalar(select(Station).where(Station.code == code))
    if station is not None:
        session[SESSION_KEY] = station.code
    return station


@dataclass
class WindowStock:
    station: str
    tracked: bool = False
    lot: LotStock | None = None
    problems: list[Violation] = field(default_factory=list)
    handed_out: list[Dose] = field(default_factory=list)  # today's take-homes with a label
    bottles_out: list[Dose] = field(default_factory=list)


def units_text(medication: Medication, amount_mg: Decimal) -> str:
    """``2 films`` for a solid form, ``""`` for a liquid (its mL are shown already)."""
    product = medication.as_product()
    units = units_of(product, amount_mg)
    return "" if units is None else quantity_text(product, units)


def window_stock(
    patient_id: int,
    medication: Medication | None,
    amount_mg: Decimal | None,
    today: date,
    profile: Profile,
    station: str,
) -> WindowStock:
    found = WindowStock(station=station)
    if medication is not None and amount_mg is not None:
        preview = preview_draw(medication, amount_mg, station, today, profile)
        found.tracked, found.lot, found.problems = preview.tracked, preview.lot, preview.problems
    found.handed_out = handed_out_today(patient_id, today)
    found.bottles_out = bottles_out(patient_id, today)
    return found


def handed_out_today(patient_id: int, today: date) -> list[Dose]:
    """The patient's take-home doses handed out today and not corrected: a label each."""
    handed = db.session.scalars(
        select(Dose)
        .where(
            Dose.patient_id == patient_id,
            Dose.mode == "take_home",
            Dose.service_date.between(today, today + timedelta(days=TAKE_HOME_AHEAD_DAYS)),
        )
        .order_by(Dose.service_date, Dose.id)
    )
    zone = clinic_zone()
    return [
        d
        for d in handed
        if d.correction is None and d.dispensed_at.astimezone(zone).date() == today
    ]
