"""The stock record pages: the end-of-day count (blind, the witness signs on the same screen),
variances and their resolution, inventories, and the DEA Form 106 and 41 records."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from mat.auth.access import roles_required
from mat.clock import clinic_now, clinic_zone
from mat.errors import MatError
from mat.stock import counts, dea, ledger, service
from mat.stock.pages import (
    form_values,
    load,
    show_refusals,
    spend_stock_form_token,
    text,
    witness_of,
)
from mat.stock.schemas import CountIn, DestructionIn, InventoryIn, ResolveIn, TheftLossIn
from mat.stock.views import products
from mat.stock.window import current_station

bp = Blueprint("stock_records", __name__, url_prefix="/stock")
# Rows a form may carry: more lots than a clinic ever holds at once.
MAX_LINES = 200


def _profile() -> Any:
    return current_app.extensions["mat_profile"]


def _render(template: str, status: int, error: MatError | None, **context: Any) -> Any:
    page = render_template(
        template,
        error=error,
        failed=request.endpoint if error else None,
        values=form_values() if error else {},
        zone=clinic_zone(),
        **context,
    )
    return page, status


def _lines() -> list[dict[str, Any]]:
    """The count or inventory form's rows: ``product-N``, ``lot-N``, ``quantity-N``
    (and ``station-N``)."""
    rows = []
    for n in range(min(int(request.form.get("lines", "0") or 0), MAX_LINES)):
        row = {name: text(f"{name}-{n}") for name in ("product", "lot", "quantity", "station")}
        rows.append({k: v for k, v in row.items() if v is not None})
    return rows


# ---- the daily count -----------------------------------------------------------------------


def count_page(*, error: MatError | None = None, status: int = 200) -> Any:
    code = current_station()
    station = service.station_by_code(code)
    held = [(lot, q) for _, lot, q in ledger.balances([station.id])]
    return _render("stock/count.html", status, error, station=code, lots=held,
                   stations=service.all_stations())  # fmt: skip


@bp.route("/count", methods=["GET"])
@roles_required("nurse")
def count_form() -> Any:
    return count_page()


@bp.route("/count", methods=["POST"])
@roles_required("nurse")
def count() -> Any:
    raw = {
        "station": current_station(),
        "counted": [row for row in _lines() if "quantity" in row or row.get("product")],
        "explanation": text("explanation"),
        "witness": witness_of(),
    }
    for row in raw["counted"]:
        row.pop("station", None)
    data = load(CountIn(), raw, "Write the quantity counted for every lot (0 if it is empty).")
    spend_stock_form_token("count")
    counted = counts.record_count(data, g.actor, clinic_now(), _profile())
    return redirect(url_for("stock_records.count_result", count_id=counted.id), code=303)


@bp.route("/counts/<int:count_id>", methods=["GET"])
@roles_required("nurse", "prescriber", "auditor", "admin")
def count_result(count_id: int) -> Any:
    counted = counts.get_count(count_id)
    return _render("stock/count_result.html", 200, None, count=counted,
                   warnings=counts.count_warnings(counted))  # fmt: skip


# ---- variances -----------------------------------------------------------------------------


def variances_page(*, error: MatError | None = None, status: int = 200) -> Any:
    return _render(
        "stock/variances.html",
        status,
        error,
        open=counts.variances(open_only=True),
        history=[c for c in counts.variances(open_only=False) if c.resolution is not None][:20],
        may_resolve=current_user.has_role("prescriber", "admin"),
    )


@bp.route("/variances", methods=["GET"])
@roles_required("nurse", "prescriber", "auditor", "admin")
def variances() -> Any:
    return variances_page()


@bp.route("/variances/<int:count_id>/resolve", methods=["POST"])
@roles_required("prescriber", "admin")
def resolve(count_id: int) -> Any:
    data = load(ResolveIn(), {"resolution": text("resolution")}, "Say how it was resolved.")
    counts.resolve_variance(count_id, data["resolution"], g.actor, clinic_now())
    flash(f"The variance of count {count_id} is resolved.", "success")
    return redirect(url_for("stock_records.variances"), code=303)


# ---- inventories ---------------------------------------------------------------------------


def inventories_page(*, error: MatError | None = None, status: int = 200) -> Any:
    held = [(s, lot, q) for s, lot, q in ledger.balances()]
    return _render("stock/inventories.html", status, error, inventories=dea.inventories(),
                   lots=held, today=clinic_now().date(),
                   may_record=current_user.has_role("nurse", "admin"))  # fmt: skip


@bp.route("/inventories", methods=["GET"])
@roles_required("nurse", "auditor", "admin")
def inventories() -> Any:
    return inventories_page()


@bp.route("/inventories", methods=["POST"])
@roles_required("nurse", "admin")
def record_inventory() -> Any:
    raw = {
        "kind": text("kind"),
        "taken_on": text("taken_on"),
        "taken_at": text("taken_at"),
        "counted": _lines(),
        "explanation": text("explanation"),
        "witness": witness_of(),
    }
    data = load(InventoryIn(), raw, "The inventory is incomplete.")
    spend_stock_form_token("inventory")
    recorded = dea.record_inventory(data, g.actor, clinic_now(), _profile())
    flash(f"The {recorded.kind} inventory of {recorded.taken_on} is recorded.", "success")
    return redirect(url_for("stock_records.inventories"), code=303)


# ---- DEA Form 106 and 41 -------------------------------------------------------------------


def records_page(*, error: MatError | None = None, status: int = 200) -> Any:
    return _render(
        "stock/records.html",
        status,
        error,
        losses=dea.theft_loss_reports(),
        destructions=dea.destructions(),
        stations=service.all_stations(),
        products=products(),
        today=clinic_now().date(),
        may_106=current_user.has_role("nurse", "prescriber", "admin"),
        may_41=current_user.has_role("nurse", "admin"),
    )


@bp.route("/records", methods=["GET"])
@roles_required("nurse", "prescriber", "auditor", "admin")
def records() -> Any:
    return records_page()


@bp.route("/records/theft-loss", methods=["POST"])
@roles_required("nurse", "prescriber", "admin")
def theft_loss() -> Any:
    names = ("station", "product", "lot", "quantity", "kind", "found_on", "circumstances")
    data = load(TheftLossIn(), {n: text(n) for n in names}, "The Form 106 record is incomplete.")
    report = dea.record_theft_loss(data, g.actor, clinic_now())
    flash(f"DEA Form 106 record {report.id} stored. Send DEA its copy.", "success")
    return redirect(url_for("stock_records.records"), code=303)


@bp.route("/records/destruction", methods=["POST"])
@roles_required("nurse", "admin")
def destruction() -> Any:
    names = ("station", "product", "lot", "quantity", "method", "reason")
    signers = [w for w in (witness_of("witness1"), witness_of("witness2")) if w]
    data = load(
        DestructionIn(),
        {**{n: text(n) for n in names}, "witnesses": signers},
        "The Form 41 record is incomplete.",
    )
    spend_stock_form_token("destruction")
    done = dea.record_destruction(data, g.actor, clinic_now(), _profile())
    flash(f"DEA Form 41 record {done.id} stored; the stock is written off.", "success")
    return redirect(url_for("stock_records.records"), code=303)


show_refusals(
    bp,
    {
        "stock_records.count": count_page,
        "stock_records.resolve": variances_page,
        "stock_records.record_inventory": inventories_page,
        "stock_records.theft_loss": records_page,
        "stock_records.destruction": records_page,
    },
)
