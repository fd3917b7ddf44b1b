"""Start-up loads neither reportlab nor alembic: every process (each gunicorn worker, each CLI
command) paid ~0.3 s and ~27 MB for them. A CSV export still runs without reportlab; a PDF
export and a ``db`` command load what they need when they run. Checked in a fresh interpreter,
since this test process has loaded everything already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
from mat import create_app

LAZY = ("reportlab", "alembic", "mako", "flask_migrate")
url, folder = sys.argv[1], sys.argv[2]


def loaded():
    return sorted(name for name in LAZY if name in sys.modules)


def flask(*args):
    done = app.test_cli_runner().invoke(args=list(args))
    assert done.exit_code == 0, done.output


app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
steps = {"create_app": loaded()}
log = ["report", "dispensing-log", "--from", "2026-11-16", "--to", "2026-11-16"]
flask(*log, "--format", "csv", "--output", folder + "/log.csv")
steps["csv export"] = loaded()
flask(*log, "--format", "pdf", "--output", folder + "/log.pdf")
steps["pdf export"] = loaded()
flask("db", "current")
steps["db current"] = loaded()
print(json.dumps(steps))
"""


def test_heavy_libraries_are_imported_by_the_commands_that_use_them(
    database_url: str, tmp_path: Path
) -> None:
    done = subprocess.run(  # noqa: S603 (our own interpreter and fixed probe)
        [sys.executable, "-c", PROBE, database_url, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "create_app": [],
        "csv export": [],
        "pdf export": ["reportlab"],
        "db current": ["alembic", "flask_migrate", "mako", "reportlab"],
    }
