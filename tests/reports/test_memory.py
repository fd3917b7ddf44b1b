"""The dispensing log streams: 100,000 doses go out as CSV in bounded memory."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from mat.clock import clinic_zone
from mat.dosing.models import Dose
from mat.extensions import db
from mat.formulary.models import Medication
from mat.orders.models import Order
from mat.patients.models import Patient
from tests.conftest import TODAY

# Generous: streaming holds one batch of rows (1,000) and one chunk of text; a log built as a
# list would need several hundred MB for 100,000 rows.
PEAK_BOUND = 40 * 1024 * 1024
INSERT_BATCH = 10_000


def insert_doses(dispenser: Any, *, patients: int, days: int, first: date) -> int:
    """``patients`` new patients, each with one observed 60 mg methadone dose a day, inserted
    with core ``insert()`` (the doses table is append-only: INSERT is what it allows)."""
    order_id = db.session.scalar(select(func.min(Order.id)))
    assert order_id is not None, "sign an order first: every dose names one"
    medication_id = db.session.scalar(select(Medication.id).where(Medication.code == "METH-10MGML"))
    base = db.session.scalar(select(func.count()).select_from(Patient))
    db.session.execute(
        insert(Patient),
        [
            {"mrn": f"BULK-{base + n:06d}", "given_name": "Bulk", "family_name": f"P{n:06d}",
             "date_of_birth": date(1980, 1, 1), "admitted_on": first - timedelta(days=60),
             "level_of_care": "maintenance", "status": "active"}
            for n in range(patients)
        ],
    )  # fmt: skip
    ids = db.session.scalars(
        select(Patient.id).where(Patient.mrn.like("BULK-%")).order_by(Patient.id)
    ).all()[-patients:]
    zone = clinic_zone()
    rows = (
        {"patient_id": pid, "order_id": order_id, "medication_id": medication_id,
         "service_date": day, "slot": "daily", "attempt": 1, "mode": "observed",
         "amount_mg": Decimal("60"), "volume_ml": Decimal("6"),
         "dispensed_at": (datetime.combine(day, time(7), tzinfo=zone)
                          + timedelta(seconds=5 * n)).astimezone(UTC),
         "dispenser_id": dispenser.id, "profile_id": "us-federal", "profile_version": "test"}
        for day in (first + timedelta(days=d) for d in range(days))
        for n, pid in enumerate(ids)
    )  # fmt: skip
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == INSERT_BATCH:
            db.session.execute(insert(Dose), batch)
            batch = []
    if batch:
        db.session.execute(insert(Dose), batch)
    db.session.commit()
    return patients * days


@pytest.mark.slow
def test_100000_doses_stream_as_csv_in_bounded_memory(api, staff, patient, sign_order) -> None:
    sign_order(patient)
    first = TODAY - timedelta(days=60)
    inserted = insert_doses(staff["nurse"], patients=2000, days=50, first=first)
    assert inserted == 100_000
    last = first + timedelta(days=49)
    response = api(
        "get",
        f"/api/v1/reports/dispensing-log?from={first}&to={last}&format=csv",
        as_=staff["auditor"],
        buffered=False,
    )
    assert response.status_code == 200 and response.is_streamed
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        lines = size = 0
        for chunk in response.response:
            lines += chunk.count(b"\n")
            size += len(chunk)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
        response.close()
    assert lines == 100_001  # the header and every dose
    assert size > 10 * 1024 * 1024
    assert peak < PEAK_BOUND, f"peak {peak / 2**20:.1f} MB while streaming"
