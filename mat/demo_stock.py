"""The demo clinic's controlled-substance stock, written through the real services: a vault and
the window, the lots every demo dose draws from (received on the first day of the history), and
yesterday's count of the window, 3 mL short and open, so the variance shows on every home page.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask import g

from mat.auth.models import User
from mat.clock import clinic_zone
from mat.profiles import Profile
from mat.stock import counts, ledger, service

# (product, lot, months to expiry, quantity, station)
LOTS = (
    ("METH-10MGML", "MA-24117", 14, Decimal(2500), "window-1"),
    ("METH-10MGML", "MA-24230", 20, Decimal(2500), "window-1"),
    ("METH-10MGML", "MA-24388", 24, Decimal(5000), "vault"),
    ("BUPNX-FILM-8", "BN8-5521", 18, Decimal(900), "window-1"),
    ("BUPNX-FILM-2", "BN2-1207", 18, Decimal(300), "window-1"),
)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clinic_zone())


def receive_demo_stock(
    first: date, receiver: User, witness: User, password: str, profile: Profile
) -> None:
    """The vault and the lots, received (and witnessed) before the first demo dose."""
    g.actor = receiver
    service.add_station({"code": "vault", "name": "Narcotics vault"}, receiver, _at(first, 6))
    for n, (product, lot, months, quantity, station) in enumerate(LOTS):
        service.receive(
            {
                "product": product,
                "lot": lot,
                "expires_on": first + timedelta(days=30 * months),
                "quantity": quantity,
                "supplier": "Demo Pharmaceutical Distributors",
                "order_form": f"222-{first:%y%m%d}{n:03d}",
                "station": station,
                "witness": {"username": witness.username, "password": password},
            },
            receiver,
            _at(first, 6, 30 + n),
            profile,
        )


def count_yesterday(
    today: date, nurse: User, witness: User, password: str, profile: Profile
) -> None:
    """The window's count of yesterday evening, one lot 3 mL short: an open variance."""
    g.actor = nurse
    station = service.station_by_code("window-1")
    held = ledger.balances([station.id])
    # The fullest methadone lot: the first one received may be nearly drawn down by the
    # history's doses, and a count cannot be short of more than the lot holds.
    short = max(
        ((quantity, lot.id) for _, lot, quantity in held if lot.medication.code == "METH-10MGML")
    )[1]
    counted = [
        {
            "product": lot.medication.code,
            "lot": lot.lot_number,
            "quantity": quantity - (3 if lot.id == short else 0),
        }
        for _, lot, quantity in held
    ]
    counts.record_count(
        {
            "station": station.code,
            "counted": counted,
            "explanation": "3 mL short on the pump's bottle at close; pump to be checked.",
            "witness": {"username": witness.username, "password": password},
        },
        nurse,
        _at(today - timedelta(days=1), 18, 30),
        profile,
    )
