"""The stock report as CSV and JSON, and its download (recorded in the audit trail first).

CSV: one row per day, station and lot (``mat.stock.report.COLUMNS``), quantities in the lot's
unit (mL or tablets/films). JSON: the same rows as ``lines``, with the counts (lines,
explanations, resolutions), receipts, transfers, Form 106 and Form 41 records of the range.
The PDF is ``mat.stock.report_pdf``.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from flask import Response, current_app

from mat.audit.service import record
from mat.reports.log_rows import amount_text
from mat.stock.report import COLUMNS, StockQuery, StockReport, read_stock_report
from mat.stock.schemas import (
    CountOut,
    DestructionOut,
    ReceiptOut,
    TheftLossOut,
    TransferOut,
)

MIMETYPES = {"csv": "text/csv", "json": "application/json", "pdf": "application/pdf"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return amount_text(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def csv_text(report: StockReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for line in report.lines:
        writer.writerow([_guard(_cell(getattr(line, name))) for name in COLUMNS])
    return out.getvalue()


def _guard(text: str) -> str:
    # api-contract.md: a cell a spreadsheet would run as a formula starts with a quote. Station
    # codes, products and lot numbers are validated, but a negative quantity starts with "-".
    if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and not _number(text)):
        return "'" + text
    return text


def _number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def json_text(report: StockReport) -> str:
    body = {
        "from": report.query.first,
        "to": report.query.last,
        "lines": [{name: getattr(line, name) for name in COLUMNS} for line in report.lines],
        "counts": CountOut(many=True).dump(report.counts),
        "receipts": ReceiptOut(many=True).dump(report.receipts),
        "transfers": TransferOut(many=True).dump(report.transfers),
        "theft_loss_reports": TheftLossOut(many=True).dump(report.theft_loss_reports),
        "destructions": DestructionOut(many=True).dump(report.destructions),
    }
    return current_app.json.dumps(body)


def stock_report_download(query: StockQuery, fmt: str, page: str) -> Response:
    record("report.stock", entity_type="stock_report", detail={**query.as_detail(), "format": fmt})
    report = read_stock_report(query)
    body: str | bytes
    if fmt == "csv":
        body = csv_text(report)
    elif fmt == "json":
        body = json_text(report)
    else:  # imported here: reportlab is loaded only by the processes that write a PDF
        from mat.stock.report_pdf import pdf_bytes

        body = pdf_bytes(report, page)
    name = f"stock-{query.first.isoformat()}-{query.last.isoformat()}.{fmt}"
    return Response(
        body,
        mimetype=MIMETYPES[fmt],
        headers={
            "Content-Disposition": f"attachment; filename={name}",
            "Cache-Control": "no-store",
        },
    )
