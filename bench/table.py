"""The README's benchmark table from a results file of bench/run.py.

python -m bench.table bench/results/<date>-<scale>.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _get(results: dict[str, Any], *path: str) -> Any:
    value: Any = results
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _n(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, float):
        value = f"{value:,.{digits}f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return f"{value}{unit}"


def _corrections_text(clinic: dict[str, Any]) -> str:
    """`` with 135 voids and spills``; nothing for a results file from before the generator
    corrected doses."""
    count = clinic.get("corrections")
    return "" if count is None else f" with {_n(count)} voids and spills"


def render(results: dict[str, Any]) -> str:
    runs = _get(results, "load", "runs") or {}
    cli = results.get("cli") or {}

    def run(name: str, key: str, unit: str = "", digits: int = 1) -> str:
        return _n(_get(runs, name, key), unit, digits)

    plan, trivial = "mat_dose_plan", "trivial_query"
    dose = runs.get("mat_record_dose") or {}
    export = results.get("audit_export_json_year") or {}
    verify = cli.get("audit_verify") or {}
    pdf, raw = cli.get("log_pdf_month") or {}, cli.get("raw_reportlab_pdf_month") or {}
    embedded = cli.get("raw_reportlab_pdf_month_embedded") or {}
    csv = cli.get("log_csv_year") or {}
    statements = results.get("statements") or {}
    ratio = _ratio(pdf, raw)
    embedded_ratio = _ratio(pdf, embedded)
    clinic = results.get("clinic") or {}
    rows = [
        (
            "dose plan p99 / throughput / CPU per request",
            f"{run(plan, 'p99_ms', ' ms', 2)}, {run(plan, 'req_per_s', ' req/s')}, "
            f"{run(plan, 'cpu_ms_per_request', ' ms CPU', 2)}; login page p99 "
            f"{run('mat_login_page', 'p99_ms', ' ms', 2)}",
            f"one indexed query: {run(trivial, 'p99_ms', ' ms', 2)}, "
            f"{run(trivial, 'req_per_s', ' req/s')}, "
            f"{run(trivial, 'cpu_ms_per_request', ' ms CPU', 2)}",
        ),
        (
            "statements per dose plan / per dose / per `GET /me`",
            f"{_n(statements.get('dose_plan'))} / {_n(statements.get('record_dose'))} / "
            f"{_n(statements.get('me'))}",
            "1",
        ),
        (
            "record an observed dose",
            f"{_n(dose.get('rows_per_s'), ' doses/s')} ({_n(dose.get('rows'))} doses, "
            f"{_n(dose.get('status_5xx'))} 5xx, {_n(results.get('double_doses'))} double doses)",
            f"bare insert {run('trivial_insert', 'rows_per_s', '/s')}",
        ),
        (
            "sealing the reads the read runs staged (`flask audit seal`, before the doses)",
            f"{_n(_get(results, 'seal_after_reads', 'reads'))} reads in "
            f"{_n(_get(results, 'seal_after_reads', 'seconds'), ' s', 2)}",
            "",
        ),
        (
            "`GET /api/v1/me` CPU per request",
            run("mat_me", "cpu_ms_per_request", " ms", 2),
            f"health {run('trivial_health', 'cpu_ms_per_request', ' ms', 2)}",
        ),
        (
            "audit verify (CLI)",
            f"{_n(verify.get('seconds'), ' s', 2)} for {_n(verify.get('events'))} events = "
            f"{_n(verify.get('seconds_per_million'), ' s')} per million "
            f"({_n(verify.get('seconds_per_million_past_startup'), ' s')} past the CLI's "
            "start-up); "
            f"exit {_n(verify.get('exit'))}",
            "",
        ),
        (
            "audit verify (API)",
            f"status {_n(_get(results, 'audit_verify_api', 'status'))} in "
            f"{_n(_get(results, 'audit_verify_api', 'seconds'), ' s', 2)}",
            "",
        ),
        (
            "audit export, 1 year as JSON (API)",
            f"{_n(export.get('mb'), ' MB')} in {_n(export.get('seconds'), ' s', 2)}, worker grew "
            f"{_n(export.get('worker_growth_mb'), ' MB')}",
            "",
        ),
        (
            "dispensing log PDF, 1 month (CLI)",
            f"{_n(pdf.get('rows'))} rows: {_n(pdf.get('seconds'), ' s', 2)}, "
            f"{_n(pdf.get('peak_rss_mb'), ' MB')}; {_n(embedded_ratio, 'x', 2)} raw in the same "
            f"embedded font, {_n(ratio, 'x', 2)} raw in Helvetica",
            f"raw reportlab, embedded DejaVu Sans: {_n(embedded.get('seconds'), ' s', 2)}, "
            f"{_n(embedded.get('peak_rss_mb'), ' MB')}; Helvetica (Latin-1 only): "
            f"{_n(raw.get('seconds'), ' s', 2)}, {_n(raw.get('peak_rss_mb'), ' MB')}",
        ),
        (
            "dispensing log CSV, 1 year (CLI)",
            f"{_n(csv.get('seconds'), ' s', 2)}, {_n(csv.get('peak_rss_mb'), ' MB')}",
            "",
        ),
        (
            "dose plan p99, this clinic / a clinic of about 10,000 dose rows",
            f"{_n(_get(results, 'history_ratio', 'ratio'), 'x', 2)} "
            f"({_n(_get(results, 'history_ratio', 'main_p99_ms'), ' ms', 2)} / "
            f"{_n(_get(results, 'history_ratio', 'compare_p99_ms'), ' ms', 2)} at "
            f"{_n(_get(results, 'history_ratio', 'compare_dose_rows'))} rows)",
            "",
        ),
        (
            "generating the clinic (import service / dosing services)",
            f"{_n(clinic.get('imported_doses'))} doses imported in "
            f"{_n(clinic.get('import_seconds'), ' s')}; {_n(clinic.get('service_doses'))} "
            f"recorded through the services in {_n(clinic.get('service_seconds'), ' s')}",
            "",
        ),
        (
            "CLI start-up (`flask --app mat --help`)",
            f"{_n(_get(cli, 'cli_startup', 'seconds'), ' s', 2)}, "
            f"{_n(_get(cli, 'cli_startup', 'peak_rss_mb'), ' MB')}",
            "",
        ),
    ]
    head = (
        f"{results.get('date')}, scale `{results.get('scale')}` ({_n(clinic.get('patients'))} "
        f"patients, {_n(clinic.get('imported_doses'))} imported + "
        f"{_n(clinic.get('service_doses'))} recorded doses{_corrections_text(clinic)}, "
        f"{_n(clinic.get('read_events'))} bulk audit events), {results.get('engine')}, "
        f"{_get(results, 'machine', 'cpus')} cores (load average before/after "
        f"{_get(results, 'machine', 'load_before')} / {_get(results, 'machine', 'load_after')}), "
        f"wrk {_load_text(results)}\n\n"
    )
    lines = ["| what | `mat` | trivial app, same run |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return head + "\n".join(lines)


def _load_text(results: dict[str, Any]) -> str:
    load = results.get("load") or {}
    return (
        f"-t{load.get('threads')} -c{load.get('connections')}, {load.get('seconds')} s a read run"
    )


def _ratio(measured: dict[str, Any], baseline: dict[str, Any]) -> float | None:
    if measured.get("seconds") and baseline.get("seconds"):
        return round(measured["seconds"] / baseline["seconds"], 2)
    return None


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text())))
