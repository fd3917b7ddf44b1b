"""Reading a dispensing-log PDF back (pypdf) and what it should say, worked out in the test."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from pypdf import PdfReader

from mat.dosing.models import Dose
from mat.extensions import db

HEADING = re.compile(r"^\w{3} (\d{4}-\d\d-\d\d)\s+Dispenser: .* \((\w+)\)( \(continued\))?$")
DAY_TOTALS = re.compile(r"^Day totals of (\w+) on (\d{4}-\d\d-\d\d)$")


def pdf_text(data: bytes) -> tuple[list[str], list[str]]:
    """Each page's text twice: laid out as printed (rows on one line), and plain."""
    reader = PdfReader(io.BytesIO(data))
    layout = [page.extract_text(extraction_mode="layout") for page in reader.pages]
    plain = [page.extract_text() for page in reader.pages]
    return layout, plain


def text_cells(data: bytes) -> list[tuple[float, float, str, float]]:
    """Each text object of the first page as (x, y, text, size): the log draws every cell as
    its own, so a cell's place and size are those of the object pypdf visits."""
    found: list[tuple[float, float, str, float]] = []

    def visit(text: str, _cm: Any, tm: Any, _font: Any, size: Any) -> None:
        if text.strip():
            found.append((tm[4], tm[5], text.strip(), float(size) * tm[0]))

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return found


def read_log_pdf(data: bytes) -> tuple[list[tuple[str, str, list[str]]], dict[Any, list[str]]]:
    """The rows as (day, initials of the block, cells) and the totals lines by block
    ((day, initials), or "summary"), in the order printed."""
    rows: list[tuple[str, str, list[str]]] = []
    totals: dict[Any, list[str]] = defaultdict(list)
    block: tuple[str, str] | None = None
    section: Any = None
    for page in pdf_text(data)[0]:
        block = None  # every page with rows starts them under a (continued) heading
        for raw in page.splitlines():
            line = raw.strip()
            if not line or line.startswith(("Time ", "Confidential patient record")):
                continue
            if heading := HEADING.match(line):
                block, section = (heading.group(1), heading.group(2)), None
            elif day_totals := DAY_TOTALS.match(line):
                section = (day_totals.group(2), day_totals.group(1))
            elif line.startswith("Summary by product"):
                section = "summary"
            elif section is None and block is not None:
                rows.append((*block, re.split(r"\s{2,}", line)))
            elif section is not None and re.match(r"^[A-Z0-9-]+: \d+ ", line):
                totals[section].append(line)
    return rows, dict(totals)


def pdf_cells(row: dict[str, str], corrected: dict[str, str] | None = None) -> list[str]:
    """The cells a CSV row should have in the PDF, with its flag in words; ``corrected`` maps
    dose ids to the kind of the correction that covers them."""
    late = row["late_entry"] == "true"
    kind = (corrected or {}).get(row["dose_id"]) if row["dose_id"] else None
    cells = [] if late and not kind else [row["dispensed_at"][11:16]]
    cells += [row["patient_mrn"], row["patient_name"], row["product"]]
    cells += [row["mode"].replace("_", "-"), row["amount_mg"]]
    quantity = (
        f"{row['volume_ml']} mL" if row["volume_ml"] else f"{row['units']} {row['dosage_form']}"
    )
    cells += [c for c in (quantity, row["lot"], row["dose_id"]) if c]
    if row["correction_kind"]:
        cells.append(f"{row['correction_kind'].upper()} of #{row['correction_of']} wit. AN")
    elif kind:
        cells.append(f"{kind.upper()}ED")
    elif late:
        cells.append(f"LATE entered {row['dispensed_at'][5:10]} {row['dispensed_at'][11:16]}")
    elif row["mode"] == "take_home":
        day = db.session.get(Dose, int(row["dose_id"])).service_date
        cells.append(f"for {day:%a %Y-%m-%d}")
    return cells


def total_lines(rows: list[dict[str, str]], corrected: dict[str, str]) -> list[str]:
    """Totals by product, computed from CSV rows and the corrections (dose id -> kind), as the
    PDF words them: net of voids and spills, the corrected dose rows on their own lines."""
    sums: dict[str, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    form: dict[str, str] = {}
    for row in rows:
        if row["correction_kind"]:
            continue  # the correction row: its dose row is the one counted or not
        kind = corrected.get(row["dose_id"]) or row["mode"]
        sums[row["product"]][kind].append(Decimal(row["amount_mg"]))
        quantity = row["volume_ml"] or row["units"]
        sums[row["product"]][kind + "_qty"].append(Decimal(quantity))
        form[row["product"]] = row["dosage_form"]

    def amounts(code: str, *kinds: str) -> str:
        mg = sum((sum(sums[code][k]) for k in kinds), Decimal(0))
        quantity = sum((sum(sums[code][k + "_qty"]) for k in kinds), Decimal(0))
        unit = "mL" if form[code] == "liquid" else form[code] + ("" if quantity == 1 else "s")
        return f"{mg.normalize():f} mg, {quantity.normalize():f} {unit}"

    lines = []
    for code in sums:
        observed, take_home = len(sums[code]["observed"]), len(sums[code]["take_home"])
        if observed or take_home:
            doses = f"{observed} observed, {take_home} take-home"
            lines.append(f"{code}: {doses}, {amounts(code, 'observed', 'take_home')}")
        for kind, word in (("void", "voided"), ("spill", "spilled")):
            if sums[code][kind]:
                count = len(sums[code][kind])
                lines.append(f"{code}: {count} {word}, {amounts(code, kind)}, not counted")
    return sorted(lines)


def blocks(rows: list[dict[str, str]]) -> dict[tuple[str, str], list[dict[str, str]]]:
    found: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        found[(row["dispensed_on"], row["dispenser_initials"])].append(row)
    return dict(found)


def day(text: str) -> date:
    return date.fromisoformat(text)
