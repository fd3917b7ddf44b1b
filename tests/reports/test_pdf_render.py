"""Report PDFs rendered to PNG (pypdfium2) into test-artifacts/, for a person to look at:
the first and last page of a dispensing log and the first page of a history, on Letter and A4."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest

from tests.reports.conftest import DAY1, DAY2
from tests.reports.test_memory import insert_doses

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SIZES = {"letter": (612, 792), "a4": (595, 842)}


def render(data: bytes, name: str, page: int = 0) -> tuple[Path, tuple[int, ...], int]:
    """Page ``page`` as a PNG at 2x: its path, the page size in points and the page count."""
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = pdfium.PdfDocument(data)
    try:
        pages = len(pdf)
        chosen = pdf[page if page >= 0 else pages + page]
        size = tuple(round(v) for v in chosen.get_size())
        image = chosen.render(scale=2).to_pil()
    finally:
        pdf.close()
    path = ARTIFACTS / f"{name}.png"
    image.save(path)
    assert path.exists() and path.stat().st_size > 0
    histogram = image.convert("L").histogram()
    dark = sum(histogram[:128])
    assert dark > 0.002 * image.width * image.height, "the page is (almost) blank"
    return path, size, pages


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_log_pdf_renders_on_both_papers(api, clinic, paper) -> None:
    insert_doses(clinic.staff["nurse"], patients=80, days=1, first=DAY1)
    response = api(
        "get",
        f"/api/v1/reports/dispensing-log?from={DAY1}&to={DAY2}&format=pdf&page={paper}",
        as_=clinic.staff["auditor"],
    )
    assert response.status_code == 200
    data = response.get_data()
    _, size, pages = render(data, f"dispensing-log-{paper}-first")
    assert size == SIZES[paper] and pages >= 2
    render(data, f"dispensing-log-{paper}-last", page=-1)


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_history_pdf_renders(api, clinic, paper) -> None:
    patient = clinic.patients["cruz"]
    response = api(
        "get",
        f"/api/v1/patients/{patient.id}/history?from=2026-10-19&to={DAY2}&page={paper}",
        as_=clinic.staff["prescriber"],
    )
    assert response.status_code == 200
    _, size, _ = render(response.get_data(), f"history-{paper}-first")
    assert size == SIZES[paper]
