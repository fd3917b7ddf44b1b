"""The baseline: a trivial Flask app on the same database and gunicorn settings as mat.

``GET /health``: no database. ``GET /patients/<id>``: one indexed query (primary key).
``POST /events/<id>``: one bare insert and a commit. Started by bench/run.py beside mat.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, jsonify
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    text,
)

engine = create_engine(os.environ["MAT_DATABASE_URL"], pool_size=2)
metadata = MetaData()
events = Table(
    "bench_trivial_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", Integer),
    Column("note", String(40)),
    Column("at", DateTime(timezone=True)),
)
app = Flask(__name__)


@app.get("/health")
def health() -> object:
    return jsonify(ok=True)


@app.get("/patients/<int:patient_id>")
def patient(patient_id: int) -> object:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, mrn, family_name FROM patients WHERE id = :id"), {"id": patient_id}
        ).one_or_none()
    return jsonify(None if row is None else {"id": row.id, "mrn": row.mrn, "name": row.family_name})


@app.post("/events/<int:patient_id>")
def event(patient_id: int) -> object:
    with engine.begin() as conn:
        conn.execute(
            insert(events), {"patient_id": patient_id, "note": "bench", "at": datetime.now(UTC)}
        )
    return jsonify(ok=True), 201
