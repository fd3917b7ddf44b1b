"""Stock JSON API: stations, stock on hand, receipts, transfers, counts and their variances.

DEA records (inventories, Form 106, Form 41), the recall, take-home labels, bottle returns and
the stock report are in ``api_records.py``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g

from mat.auth.access import ANY_ROLE, api_roles
from mat.clock import clinic_now
from mat.idempotency import idempotent
from mat.jsonio import ApiBlueprint
from mat.profiles import Profile
from mat.stock import counts, ledger, service
from mat.stock.rules import is_expired
from mat.stock.schemas import (
    CountIn,
    CountOut,
    OnHandOut,
    ReceiptIn,
    ReceiptOut,
    ResolveIn,
    StationIn,
    StationOut,
    StockQuery,
    TransferIn,
    TransferOut,
    VarianceQuery,
)
from mat.web_extensions import limiter

blp = ApiBlueprint(
    "stock_api", __name__, url_prefix="/api/v1", description="Controlled-substance stock"
)

# Witness passwords are checked on these calls: failed confirmations are limited like failed
# sign-ins (as for dose corrections), so the field cannot be used to guess a colleague's password.
WITNESS_FAILURE_LIMIT = "10 per minute"


def _profile() -> Profile:
    return current_app.extensions["mat_profile"]


def witness_failed(response: Any) -> bool:
    """A refusal that names the witness (a wrong password, or someone who may not sign), not
    one of the stock's own rules: only those count against the limit."""
    if response.status_code != 422 or not response.is_json:
        return False
    fields = (response.get_json(silent=True) or {}).get("error", {}).get("fields", {})
    return "witness" in fields or "witnesses" in fields


def on_hand_rows(station_code: str | None) -> list[dict[str, Any]]:
    """The contract's ``[{station, product, lot, expires_on, on_hand}]`` (with unit and whether
    the lot has expired), soonest expiry first per station and product."""
    station_ids = None
    if station_code is not None:
        station_ids = [service.station_by_code(station_code).id]
    today = clinic_now().date()
    return [
        {
            "station": station.code,
            "product": lot.medication.code,
            "lot": lot.lot_number,
            "expires_on": lot.expires_on,
            "on_hand": quantity,
            "unit": lot.medication.unit,
            "expired": is_expired(lot.expires_on, today),
        }
        for station, lot, quantity in ledger.balances(station_ids)
    ]


@blp.route("/stock/stations", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.response(200, StationOut(many=True))
def stations() -> Any:
    return service.all_stations()


@blp.route("/stock/stations", methods=["POST"])
@api_roles("admin")
@blp.arguments(StationIn())
@blp.response(201, StationOut)
def add_station(data: dict[str, Any]) -> Any:
    return service.add_station(data, g.actor, clinic_now())


@blp.route("/stock", methods=["GET"])
@api_roles("nurse", "auditor", "admin")
@blp.arguments(StockQuery(), location="query")
@blp.response(200, OnHandOut(many=True))
def on_hand(args: dict[str, Any]) -> Any:
    """Stock on hand per station and lot (lots holding stock only)."""
    return on_hand_rows(args["station"])


@blp.route("/stock/receipts", methods=["POST"])
@limiter.limit(WITNESS_FAILURE_LIMIT, deduct_when=witness_failed)
@api_roles("nurse", "admin")
@idempotent
@blp.arguments(ReceiptIn())
@blp.response(201, ReceiptOut)
def receive(data: dict[str, Any]) -> Any:
    """Receive a lot (DEA 222 or CSOS order), received by the caller and witnessed by another
    user; 422 `stock_receipt` when refused."""
    return service.receive(data, g.actor, clinic_now(), _profile())


@blp.route("/stock/transfers", methods=["POST"])
@limiter.limit(WITNESS_FAILURE_LIMIT, deduct_when=witness_failed)
@api_roles("nurse", "admin")
@idempotent
@blp.arguments(TransferIn())
@blp.response(201, TransferOut)
def transfer(data: dict[str, Any]) -> Any:
    """Move part of a lot between stations, witnessed."""
    return service.transfer(data, g.actor, clinic_now(), _profile())


@blp.route("/stock/counts", methods=["POST"])
@limiter.limit(WITNESS_FAILURE_LIMIT, deduct_when=witness_failed)
@api_roles("nurse")
@idempotent
@blp.arguments(CountIn())
@blp.response(201, CountOut)
def count(data: dict[str, Any]) -> Any:
    """The end-of-day count of a station: every lot held there, witnessed. Status `balanced`,
    or `open` when a variance is past tolerance (it then needs an `explanation`)."""
    return counts.record_count(data, g.actor, clinic_now(), _profile())


@blp.route("/stock/variances", methods=["GET"])
@api_roles("nurse", "prescriber", "auditor", "admin")
@blp.arguments(VarianceQuery(), location="query")
@blp.response(200, CountOut(many=True))
def variances(args: dict[str, Any]) -> Any:
    """Counts with a variance past tolerance: `open` (default) or `all`, newest first."""
    return counts.variances(open_only=args["status"] == "open")


@blp.route("/stock/variances/<int:count_id>/resolve", methods=["POST"])
@api_roles("prescriber", "admin")
@blp.arguments(ResolveIn())
@blp.response(200, CountOut)
def resolve(data: dict[str, Any], count_id: int) -> Any:
    """Close an open variance; by a prescriber or admin who neither counted nor witnessed it."""
    return counts.resolve_variance(count_id, data["resolution"], g.actor, clinic_now())
