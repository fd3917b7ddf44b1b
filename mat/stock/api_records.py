"""Stock JSON API, the records: inventories, DEA Form 106 and 41, the recall of a lot, take-home
labels and bottle returns of a dose, and the stock report."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g

from mat.auth.access import ANY_ROLE, api_roles
from mat.clock import clinic_now
from mat.dosing.corrections import get_dose
from mat.idempotency import idempotent
from mat.jsonio import ApiBlueprint
from mat.stock import bottles, dea
from mat.stock.api import WITNESS_FAILURE_LIMIT, witness_failed
from mat.stock.printing import labels_pdf
from mat.stock.report_files import stock_report_download
from mat.stock.schemas import (
    BottleReturnOut,
    DestructionIn,
    DestructionOut,
    InventoryIn,
    InventoryOut,
    LabelQuery,
    RecallOut,
    RecallQuery,
    StockReportQuery,
    TheftLossIn,
    TheftLossOut,
)
from mat.web_extensions import limiter

blp = ApiBlueprint(
    "stock_records_api", __name__, url_prefix="/api/v1", description="DEA records and labels"
)


def _file(content_type: str, description: str) -> dict[str, Any]:
    return {
        "schema": {"type": "string", "format": "binary"},
        "content_type": content_type,
        "description": description,
        "success": True,
    }


@blp.route("/stock/inventories", methods=["POST"])
@limiter.limit(WITNESS_FAILURE_LIMIT, deduct_when=witness_failed)
@api_roles("nurse", "admin")
@idempotent
@blp.arguments(InventoryIn())
@blp.response(201, InventoryOut)
def record_inventory(data: dict[str, Any]) -> Any:
    """The initial or biennial inventory: every lot at every station, counted and signed."""
    profile = current_app.extensions["mat_profile"]
    return dea.record_inventory(data, g.actor, clinic_now(), profile)


@blp.route("/stock/inventories", methods=["GET"])
@api_roles("nurse", "auditor", "admin")
@blp.response(200, InventoryOut(many=True))
def inventories() -> Any:
    return dea.inventories()


@blp.route("/stock/theft-loss-reports", methods=["POST"])
@api_roles("nurse", "prescriber", "admin")
@blp.arguments(TheftLossIn())
@blp.response(201, TheftLossOut)
def record_theft_loss(data: dict[str, Any]) -> Any:
    """A DEA Form 106 record: a theft or significant loss, when found, how much, how."""
    return dea.record_theft_loss(data, g.actor, clinic_now())


@blp.route("/stock/theft-loss-reports", methods=["GET"])
@api_roles("nurse", "prescriber", "auditor", "admin")
@blp.response(200, TheftLossOut(many=True))
def theft_loss_reports() -> Any:
    return dea.theft_loss_reports()


@blp.route("/stock/destructions", methods=["POST"])
@limiter.limit(WITNESS_FAILURE_LIMIT, deduct_when=witness_failed)
@api_roles("nurse", "admin")
@idempotent
@blp.arguments(DestructionIn())
@blp.response(201, DestructionOut)
def record_destruction(data: dict[str, Any]) -> Any:
    """A DEA Form 41 record: stock destroyed, with two witnesses; it leaves the stock."""
    profile = current_app.extensions["mat_profile"]
    return dea.record_destruction(data, g.actor, clinic_now(), profile)


@blp.route("/stock/destructions", methods=["GET"])
@api_roles("nurse", "auditor", "admin")
@blp.response(200, DestructionOut(many=True))
def destructions() -> Any:
    return dea.destructions()


@blp.route("/stock/recall", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.arguments(RecallQuery(), location="query")
@blp.response(200, RecallOut)
def recall(args: dict[str, Any]) -> Any:
    """Who received lot X: every dose drawn from it with its patient, and where its stock is.
    Audited as a read of those patients' records."""
    return dea.recall(args["product"], args["lot"], clinic_now().date())


@blp.route("/doses/<int:dose_id>/label", methods=["GET"])
@api_roles("nurse")
@blp.arguments(LabelQuery(), location="query")
@blp.alt_response(200, **_file("application/pdf", "The bottle label of a take-home dose."))
def label(args: dict[str, Any], dose_id: int) -> Any:
    """The PDF label of a take-home dose: `sheet` (4 x 2 inch, 10 to a Letter sheet) or
    `thermal` (2 x 1 inch)."""
    data = labels_pdf([get_dose(dose_id)], args["layout"])
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename=label-dose-{dose_id}.pdf",
            "Cache-Control": "no-store",
        },
    )


@blp.route("/doses/<int:dose_id>/bottle-return", methods=["POST"])
@api_roles("nurse")
@blp.response(201, BottleReturnOut)
def bottle_return(dose_id: int) -> Any:
    """The empty bottle of a take-home dose came back (scanned at the window)."""
    return bottles.record_bottle_return(dose_id, g.actor, clinic_now())


@blp.route("/reports/stock", methods=["GET"])
@api_roles("auditor", "admin")
@blp.arguments(StockReportQuery(), location="query")
@blp.alt_response(200, **_file("application/json", "The stock report (json, csv or pdf)."))
@blp.alt_response(200, **_file("text/csv", "The stock report (json, csv or pdf)."))
@blp.alt_response(200, **_file("application/pdf", "The stock report (json, csv or pdf)."))
def stock_report(args: dict[str, Any]) -> Any:
    """Receipts, dispensed, spilled, counts and variances per day, station, product and lot
    (`from`..`to`, clinic days; PDF at most 31 days). Recorded in the audit trail."""
    return stock_report_download(args["query"], args["format"], args["page"])
