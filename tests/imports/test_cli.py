"""``flask --app mat import history``: the JSON file and the CSV folder of examples/import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from mat.dosing.models import Dose, DrugScreen
from mat.extensions import db
from mat.imports.models import Import
from mat.orders.models import Order
from mat.patients.models import Patient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "import"
COUNTS = "1 patients, 2 orders, 4 doses, 1 drug_screens"


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["import", "history", *args])


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _doses() -> list[tuple[Any, ...]]:
    rows = db.session.execute(
        select(Patient.mrn, Dose.service_date, Dose.slot, Dose.mode, Dose.amount_mg)
        .join(Patient, Patient.id == Dose.patient_id)
        .order_by(Dose.service_date)
    )
    return [tuple(r) for r in rows]


def test_the_json_example_imports_and_prints_counts_and_warnings(app, staff) -> None:
    result = run(app, str(EXAMPLES / "history.json"), "--by", "boss")
    assert result.exit_code == 0, result.output
    assert f"Import 1: imported {COUNTS}." in result.output
    assert "warning orders[1] " in result.output  # 30 mg to 80 mg in one step
    assert [_count(m) for m in (Import, Patient, Order, Dose, DrugScreen)] == [1, 1, 2, 4, 1]
    assert db.session.scalar(select(Import.by_id)) == staff["admin"].id


def test_the_csv_folder_imports_the_same_rows_as_the_json(app, staff, tmp_path) -> None:
    result = run(app, "--csv", str(EXAMPLES / "csv"), "--source", "Riverside OTP CSV")
    assert result.exit_code == 0, result.output
    from_csv = _doses()
    orders = [(o.start_date, o.first_dose_mg, o.take_home is not None) for o in _orders()]
    assert len(from_csv) == 4 and [o[1] for o in orders] == [30, 80]
    # The JSON example, under other MRNs, gives the same rows.
    body = json.loads((EXAMPLES / "history.json").read_text())
    for section in ("patients", "orders", "doses", "drug_screens"):
        for row in body[section]:
            key = "mrn" if section == "patients" else "patient_mrn"
            row[key] = "JS-1001"
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(body))
    assert run(app, str(path)).exit_code == 0
    from_json = [r[1:] for r in _doses() if r[0] == "JS-1001"]
    assert from_json == [r[1:] for r in from_csv]


def _orders() -> list[Order]:
    return list(db.session.scalars(select(Order).order_by(Order.start_date)))


def test_a_dry_run_prints_the_counts_and_writes_nothing(app, staff) -> None:
    result = run(app, str(EXAMPLES / "history.json"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"Dry run, nothing written: would import {COUNTS}." in result.output
    assert [_count(m) for m in (Import, Patient, Order, Dose, DrugScreen)] == [0, 0, 0, 0, 0]


def test_a_bad_row_prints_every_bad_value_and_writes_nothing(app, staff, tmp_path) -> None:
    body = json.loads((EXAMPLES / "history.json").read_text())
    body["doses"][2]["amount_mg"] = "eighty"
    body["drug_screens"][0]["collected_on"] = "2026-13-01"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(body))
    result = run(app, str(path))
    assert result.exit_code == 1
    assert "doses[2].amount_mg: " in result.output
    assert "drug_screens[0].collected_on: " in result.output
    assert [_count(m) for m in (Import, Patient, Order, Dose, DrugScreen)] == [0, 0, 0, 0, 0]


def test_a_csv_import_needs_a_source(app, staff) -> None:
    result = run(app, "--csv", str(EXAMPLES / "csv"))
    assert result.exit_code == 1 and "source" in result.output
    assert _count(Patient) == 0


def test_the_admin_is_named_when_there_are_several(app, staff, factory) -> None:
    factory.user("admin", username="boss2")
    result = run(app, str(EXAMPLES / "history.json"))
    assert result.exit_code == 1 and "--by USERNAME" in result.output
    result = run(app, str(EXAMPLES / "history.json"), "--by", "nurse1")
    assert result.exit_code == 1 and "nurse1 is not an active admin" in result.output
    assert _count(Patient) == 0


def test_a_file_or_a_folder_not_both(app, staff) -> None:
    result = run(app, str(EXAMPLES / "history.json"), "--csv", str(EXAMPLES / "csv"))
    assert result.exit_code == 2
    assert run(app).exit_code == 2


def test_csv_cells_that_do_not_read_are_refused_by_field(app, staff, tmp_path) -> None:
    for name in ("patients", "orders", "drug_screens"):
        (tmp_path / f"{name}.csv").write_text((EXAMPLES / "csv" / f"{name}.csv").read_text())
    doses = (EXAMPLES / "csv" / "doses.csv").read_text().splitlines()
    doses[1] = doses[1].replace(",30,", ",thirty,")
    (tmp_path / "doses.csv").write_text("\n".join(doses) + "\n")
    screens = (tmp_path / "drug_screens.csv").read_text().replace('{""methadone""', "{methadone")
    (tmp_path / "drug_screens.csv").write_text(screens)
    result = run(app, "--csv", str(tmp_path), "--source", "a broken export")
    assert result.exit_code == 1
    assert "doses[0].amount_mg: " in result.output
    assert "drug_screens[0].results: " in result.output
    assert _count(Patient) == 0


def test_a_csv_file_that_is_not_a_section_is_refused_by_name(app, staff, tmp_path) -> None:
    for name in ("patients", "orders", "drug_screens"):
        (tmp_path / f"{name}.csv").write_text((EXAMPLES / "csv" / f"{name}.csv").read_text())
    (tmp_path / "dose.csv").write_text((EXAMPLES / "csv" / "doses.csv").read_text())
    result = run(app, "--csv", str(tmp_path), "--source", "a misnamed export")
    assert result.exit_code == 1 and "dose.csv: " in result.output
    assert _count(Patient) == 0
