"""The stock pages (server-rendered): stock on hand per station, the station a nurse works at,
receipts, transfers, stations, the recall of a lot and the stock report download.

Counts, variances, inventories and the DEA Form 106 and 41 records are in ``views_records.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import EXCLUDE, ValidationError
from sqlalchemy import select

from mat.auth.access import ANY_ROLE, roles_required
from mat.clock import clinic_now, clinic_zone
from mat.errors import InvalidInput, MatError
from mat.extensions import db
from mat.formulary.models import Medication
from mat.idempotency import new_form_token
from mat.stock import counts, dea, service
from mat.stock.api import on_hand_rows
from mat.stock.models import StockReceipt
from mat.stock.pages import (
    amount,
    form_values,
    load,
    show_refusals,
    spend_stock_form_token,
    text,
    witness_of,
)
from mat.stock.report_files import stock_report_download
from mat.stock.schemas import RecallQuery, ReceiptIn, StationIn, StockReportQuery, TransferIn
from mat.stock.window import choose_station, current_station

bp = Blueprint("stock", __name__, url_prefix="/stock")
bp.add_app_template_filter(amount, "amount")
bp.add_app_template_global(new_form_token, "form_token")
RECENT_DAYS = 30


def _profile() -> Any:
    return current_app.extensions["mat_profile"]


def products() -> list[Medication]:
    return list(db.session.scalars(select(Medication).order_by(Medication.code)))


# ---- the stock page ------------------------------------------------------------------------


def index_page(*, error: MatError | None = None, status: int = 200, form: str = "") -> Any:
    today = clinic_now().date()
    recent = db.session.scalars(
        select(StockReceipt)
        .where(StockReceipt.received_at >= clinic_now() - timedelta(days=RECENT_DAYS))
        .order_by(StockReceipt.id.desc())
    )
    page = render_template(
        "stock/index.html",
        stock=on_hand_rows(None),
        stations=service.all_stations(),
        station=current_station(),
        open_variances=counts.variances(open_only=True),
        receipts=list(recent),
        products=products(),
        today=today,
        error=error,
        failed=request.endpoint if error else None,
        values=form_values() if error else {},
        recent_days=RECENT_DAYS,
        zone=clinic_zone(),
    )
    return page, status


@bp.route("", methods=["GET"])
@roles_required("nurse", "auditor", "admin")
def index() -> Any:
    return index_page()


@bp.route("/station", methods=["POST"])
@roles_required("nurse")
def station() -> Any:
    """Work at another station for the rest of this session."""
    code = (request.form.get("station") or "").strip()
    if choose_station(code) is None:
        raise InvalidInput(f"There is no station {code!r}.", fields={"station": ["Choose one."]})
    flash(f"You are working at {code} for this session.", "success")
    return redirect(request.form.get("back") or url_for("stock.index"), code=303)


@bp.route("/stations", methods=["POST"])
@roles_required("admin")
def add_station() -> Any:
    data = load(StationIn(), {"code": text("code"), "name": text("name")}, "Name the station.")
    added = service.add_station(data, g.actor, clinic_now())
    flash(f"Station {added.code} ({added.name}) added.", "success")
    return redirect(url_for("stock.index"), code=303)


@bp.route("/receipts", methods=["POST"])
@roles_required("nurse", "admin")
def receive() -> Any:
    """A receipt, received by the signed-in user and signed by a witness on the same screen."""
    fields = ("product", "lot", "expires_on", "quantity", "supplier", "order_form", "station")
    data = load(
        ReceiptIn(),
        {**{name: text(name) for name in fields}, "witness": witness_of()},
        "The receipt is incomplete.",
    )
    spend_stock_form_token("receipt")
    receipt = service.receive(data, g.actor, clinic_now(), _profile())
    flash(
        f"Received {receipt.quantity.normalize():f} {receipt.lot.medication.unit} of "
        f"{receipt.lot.medication.code} lot {receipt.lot.lot_number} at {receipt.station.code}, "
        f"witnessed by {receipt.witness.full_name}.",
        "success",
    )
    return redirect(url_for("stock.index"), code=303)


@bp.route("/transfers", methods=["POST"])
@roles_required("nurse", "admin")
def transfer() -> Any:
    fields = ("from_station", "to_station", "product", "lot", "quantity", "note")
    data = load(
        TransferIn(),
        {**{name: text(name) for name in fields}, "witness": witness_of()},
        "The transfer is incomplete.",
    )
    spend_stock_form_token("transfer")
    moved = service.transfer(data, g.actor, clinic_now(), _profile())
    flash(
        f"Moved {moved.quantity.normalize():f} of lot {moved.lot.lot_number} from "
        f"{moved.from_station.code} to {moved.to_station.code}.",
        "success",
    )
    return redirect(url_for("stock.index"), code=303)


# ---- recall and report ---------------------------------------------------------------------


@bp.route("/recall", methods=["GET"])
@roles_required(*ANY_ROLE)
def recall() -> Any:
    """Who received lot X: one form, one answer (audited as a read of those patients)."""
    found, errors = None, {}
    if request.args.get("lot") or request.args.get("product"):
        try:
            args = RecallQuery().load(request.args, unknown=EXCLUDE)
        except ValidationError as err:
            errors = err.messages if isinstance(err.messages, dict) else {"lot": err.messages}
        else:
            try:
                found = dea.recall(args["product"], args["lot"], clinic_now().date())
            except InvalidInput as err:
                errors = err.fields
    page = render_template(
        "stock/recall.html",
        found=found,
        errors=errors,
        products=products(),
        values=request.args,
        zone=clinic_zone(),
    )
    return page, 422 if errors else 200


@bp.route("/report", methods=["GET"])
@roles_required("auditor", "admin")
def report() -> Any:
    """The stock report's form; with ``download`` its file (the API's bytes)."""
    errors: dict[str, Any] = {}
    if "download" in request.args:
        try:
            args = StockReportQuery().load(request.args, unknown=EXCLUDE)
        except ValidationError as err:
            errors = err.messages if isinstance(err.messages, dict) else {"_": err.messages}
        else:
            return stock_report_download(args["query"], args["format"], args["page"])
    today = clinic_now().date()
    page = render_template(
        "stock/report.html",
        errors=errors,
        values=request.args if errors else {"from": today.replace(day=1), "to": today},
        stations=service.all_stations(),
        products=products(),
        zone=clinic_zone().key,
        auditor=current_user.has_role("auditor"),
    )
    return page, 422 if errors else 200


show_refusals(
    bp,
    {
        "stock.station": index_page,
        "stock.add_station": index_page,
        "stock.receive": index_page,
        "stock.transfer": index_page,
    },
)
