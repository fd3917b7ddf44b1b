"""The benchmark's generated clinic (bench/generate.py) is what mat itself would have stored.

Its audit bulk is written with mat's own chain functions: the chain verifies, and a bulk event is
field for field the event a real dose-plan read writes. Its history goes through the import and
dosing services: the recent doses are rows of the dispensing log, the imported ones are not, and
every patient has an answer from the dose plan. The import file is the same for the same seed.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bench.generate import PASSWORD, SIZES, generate, write_import
from mat.audit.models import AuditEvent
from mat.audit.verify import verify_chain
from mat.clock import clinic_today
from mat.dosing.models import Dose
from mat.extensions import db
from tests.support.sealing import sealed

pytestmark = pytest.mark.slow
COMPARED = ("user_id", "username", "roles", "client_addr", "action", "entity_type", "entity_id",
            "patient_id", "outcome", "rules", "detail", "records", "scheme")  # fmt: skip


def _bearer(client: FlaskClient, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 201
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def _event(row: AuditEvent) -> dict[str, Any]:
    return {name: getattr(row, name) for name in COMPARED}


def test_generated_clinic_is_what_the_services_store(app: Flask, client: FlaskClient) -> None:
    size = SIZES["tiny"]
    summary = generate(app, size)
    assert summary.read_events == size.read_events
    report = verify_chain()
    assert report.ok, report
    assert report.events == db.session.scalar(select(func.count()).select_from(AuditEvent))

    nurse = _bearer(client, "bench-nurse")
    bulk = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.read").order_by(AuditEvent.id)
    ).first()
    assert bulk is not None
    before = db.session.scalar(select(func.max(AuditEvent.id)))
    plan = client.get(f"/api/v1/patients/{bulk.patient_id}/dose-plan", headers=nurse)
    assert plan.status_code == 200
    assert plan.get_json()["status"] in ("due", "blocked")  # today is left undosed
    assert sealed() == 1  # the read was staged; sealed, it is a chained event like the bulk's
    real = db.session.scalars(
        select(AuditEvent).where(AuditEvent.id > before, AuditEvent.action == "patient.read")
    ).one()
    assert _event(real) == _event(bulk)
    assert verify_chain().ok  # the real event chained after the bulk

    today = clinic_today()
    first = today - timedelta(days=size.recent_days)
    recorded = db.session.scalar(
        select(func.count()).select_from(Dose).where(Dose.import_id.is_(None))
    )
    imported = db.session.scalar(
        select(func.count()).select_from(Dose).where(Dose.import_id.is_not(None))
    )
    assert (recorded, imported) == (summary.service_doses, summary.imported_doses)
    assert recorded > 0
    auditor = _bearer(client, "bench-auditor")
    log = client.get(
        f"/api/v1/reports/dispensing-log?from={first - timedelta(days=size.days)}&to={today}"
        "&format=csv",
        headers=auditor,
    )
    assert log.status_code == 200
    rows = list(csv.DictReader(io.StringIO(log.get_data(as_text=True))))
    # recorded doses and their corrections only: imported doses are not the log's
    assert len(rows) == summary.service_doses + summary.corrections
    # every third observed dose was corrected, voids and spills in turn, and given again
    corrections = [row for row in rows if row["correction_kind"]]
    kinds = [row["correction_kind"] for row in corrections]
    assert kinds == [("void", "spill")[n % 2] for n in range(len(kinds))]
    assert len(corrections) == summary.corrections >= 2
    for correction in corrections:
        corrected = int(correction["correction_of"])
        again = [
            row
            for row in rows
            if row["dose_id"]
            and int(row["dose_id"]) > corrected
            and row["patient_mrn"] == correction["patient_mrn"]
            and row["dispensed_on"] == correction["dispensed_on"]
            and row["mode"] == "observed"
        ]
        assert len(again) == 1  # the dose given again after the correction
    for n in range(1, summary.patients + 1):
        answer = client.get(f"/api/v1/patients/{n}/dose-plan", headers=nurse)
        assert answer.status_code == 200


def test_the_import_file_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    size = SIZES["tiny"]
    today = date(2026, 12, 1)
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    assert write_import(one, size, today, random.Random(1)) > 0
    write_import(two, size, today, random.Random(1))
    assert one.read_bytes() == two.read_bytes()
