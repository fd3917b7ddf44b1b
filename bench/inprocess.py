"""The in-process part of a bench run: the generated clinic, tokens, statement counts per
request (an engine event, as the tests count them) and the EXPLAIN of the hot queries."""

from __future__ import annotations

import re
import time
from typing import Any

from bench.processes import BENCH


def in_process(
    size_name: str | Any, engine: str, explain: bool, only_tokens: bool = False
) -> dict[str, Any]:
    """Generate the clinic, mint tokens, count statements, list today's due doses (not with
    ``only_tokens``)."""
    from flask_migrate import upgrade
    from sqlalchemy import event

    from bench.generate import PASSWORD, SIZES, generate
    from mat import create_app
    from mat.db_cli import bind_migrations
    from mat.extensions import db

    app = create_app({"RATELIMIT_STORAGE_URI": "memory://"})
    bind_migrations(app)
    with app.app_context():
        upgrade()
    started = time.perf_counter()
    summary = generate(app, SIZES[size_name] if isinstance(size_name, str) else size_name)
    out: dict[str, Any] = {
        "generate_seconds": round(time.perf_counter() - started, 1),
        "clinic": summary.__dict__,
    }
    client = app.test_client()

    def token(username: str) -> str:
        answer = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 201, answer.get_json()
        return str(answer.get_json()["token"])

    tokens = {name: token(f"bench-{name}") for name in ("nurse", "auditor", "admin")}
    if only_tokens:
        with app.app_context():
            db.engine.dispose()
        return {**out, "tokens": tokens}
    nurse = {"Authorization": f"Bearer {tokens['nurse']}"}
    due = due_today(client, tokens["nurse"], summary.patients)
    probe_id, probe_amount = due.pop()  # dosed here, in-process; the rest by wrk
    # The plans just read are staged; a clinic's seal timer chains them (bench.run's
    # seal_backlog says why), so the probe dose is counted as a dose, not as a seal of them all.
    with app.app_context():
        from mat.audit.service import seal_staged_reads

        out["sealed_before_probe"] = seal_staged_reads()

    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    with app.app_context():
        db_engine = db.engine
    counts: dict[str, int] = {}
    captured: dict[str, list[tuple[str, Any]]] = {}
    calls = {
        "dose_plan": lambda: client.get(f"/api/v1/patients/{probe_id}/dose-plan", headers=nurse),
        "me": lambda: client.get("/api/v1/me", headers=nurse),
        "record_dose": lambda: client.post(
            f"/api/v1/patients/{probe_id}/doses",
            data=f'{{"amount_mg": {probe_amount}}}',
            headers={**nurse, "Idempotency-Key": "bench-probe", "Content-Type": "application/json"},
        ),
    }
    for name, call in calls.items():
        seen.clear()
        event.listen(db_engine, "before_cursor_execute", note)
        try:
            answer = call()
        finally:
            event.remove(db_engine, "before_cursor_execute", note)
        assert answer.status_code in (200, 201), (name, answer.get_json())
        counts[name] = len(seen)
        captured[name] = list(seen)
    out["statements"] = counts
    if explain:
        with app.app_context():
            write_explains(db_engine, captured)
    out["tokens"] = tokens
    out["due"] = due
    return out


def due_today(client: Any, token: str, patients: int) -> list[tuple[int, str]]:
    """The patients 1..``patients`` due a dose today, with the amount their plan gives."""
    due = []
    for patient in range(1, patients + 1):
        plan = client.get(
            f"/api/v1/patients/{patient}/dose-plan", headers={"Authorization": f"Bearer {token}"}
        ).get_json()
        if plan["status"] == "due" and plan["slot"] is not None:
            due.append((patient, str(plan["dose_mg"])))
    return due


SCRUB = re.compile(r"[A-Za-z0-9_\-]{32,}")


def write_explains(engine: Any, captured: dict[str, list[tuple[str, Any]]]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT of the hot requests, in a transaction rolled
    back; long token-like strings scrubbed."""
    folder = BENCH / "explain"
    folder.mkdir(exist_ok=True)
    for name in ("dose_plan", "record_dose"):
        parts = []
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            for n, (statement, parameters) in enumerate(captured[name], 1):
                first = statement.lstrip().split(None, 1)[0].upper()
                parts.append(f"-- statement {n}\n{statement.strip()}\n")
                if first != "SELECT":
                    parts.append("(not a SELECT: not explained)\n")
                    continue
                with raw.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                parts.append(plan + "\n")
            raw.rollback()
        text = SCRUB.sub("<scrubbed>", "\n".join(parts))
        (folder / f"{name}.txt").write_text(text)
