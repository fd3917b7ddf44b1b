"""``flask --app mat COMMAND`` builds the app without its web part (``mat.create_app``): a command
of mat's, and ``--help``, import neither the blueprints nor the web's extensions, and a group's
module is imported only when one of its commands is looked up (``mat.cli``). Each case runs the
real ``flask`` command line in a fresh interpreter, since this test process has loaded
everything already; it reports which of the modules below the command loaded, and how much of
its start-up it froze out of the garbage collector's sight (``mat.cli.freeze_start_up``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask
from flask_smorest.spec import openapi_cli

from mat.cli import GROUPS, OpenAPICommands

ROOT = Path(__file__).resolve().parent.parent

# What only the web part imports; and the models, which a command looks up with its group.
WATCHED = (
    "mat.web",
    "mat.web_extensions",
    "mat.dosing.api",
    "mat.auth.views",
    "flask_smorest",
    "flask_wtf",
    "flask_login",
    "webargs",
    "mat.models",
    "mat.reports.cli",
    "mat.auth.cli",
)
WEB = [name for name in WATCHED if name not in ("mat.models", "mat.reports.cli", "mat.auth.cli")]

PROBE = """
import gc, json, sys
from flask.cli import main

watched = json.loads(sys.argv[1])
sys.argv = ["flask", "--app", "mat", *sys.argv[2:]]
try:
    main()
except SystemExit as done:
    code = done.code
loaded = [name for name in watched if name in sys.modules]
print(json.dumps({"exit": code, "loaded": loaded, "frozen": gc.get_freeze_count()}))
"""


frozen: list[int] = []


def flask(database_url: str, *args: str) -> tuple[int, list[str], str]:
    """``flask --app mat ARGS`` in a fresh interpreter: its exit code, which ``WATCHED``
    modules it loaded, and its output (standard output, then standard error). How many objects
    it froze (``mat.cli.freeze_start_up``) is appended to ``frozen``."""
    env = {**os.environ, "MAT_DATABASE_URL": database_url}
    done = subprocess.run(  # noqa: S603 (our own interpreter and fixed probe)
        [sys.executable, "-c", PROBE, json.dumps(WATCHED), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    *output, last = done.stdout.splitlines()
    found = json.loads(last)
    frozen.append(found["frozen"])
    return found["exit"], found["loaded"], "\n".join([*output, done.stderr])


def test_help_lists_every_command_and_imports_neither_the_web_nor_the_models(
    database_url: str,
) -> None:
    code, loaded, output = flask(database_url, "--help")
    assert code == 0
    assert loaded == []
    assert frozen[-1] > 10_000  # Flask, SQLAlchemy and the core app
    listed = {line.split()[0] for line in output.split("Commands:")[1].splitlines() if line}
    assert {"audit", "db", "demo", "import", "openapi", "report", "user"} <= listed
    assert {"routes", "run", "shell"} <= listed


def test_a_command_imports_its_group_and_the_models_and_nothing_of_the_web(
    database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "log.csv"
    code, loaded, output = flask(
        database_url,
        *("report", "dispensing-log", "--from", "2026-11-16", "--to", "2026-11-16"),
        *("--format", "csv", "--output", str(out)),
    )
    assert code == 0, output
    assert out.read_text(encoding="utf-8").startswith("dispensed_on,")
    assert loaded == ["mat.models", "mat.reports.cli"]
    flask(database_url, "--help")
    report_froze, help_froze = frozen[-2:]
    assert report_froze > help_froze  # the models and their mappings too


def test_the_user_commands_import_nothing_of_the_web(database_url: str) -> None:
    code, loaded, output = flask(database_url, "user", "list")
    assert code == 0, output
    assert loaded == ["mat.models", "mat.auth.cli"]


def test_the_db_commands_see_every_table(database_url: str) -> None:
    """Alembic compares the database with ``db.metadata``: a model not imported would be a table
    to drop (``db migrate`` would write that migration). ``db check`` fails on any difference."""
    code, loaded, output = flask(database_url, "db", "check")
    assert code == 0, output
    assert "No new upgrade operations detected." in output
    assert "mat.models" in loaded


def test_a_refused_command_still_answers_in_one_sentence(database_url: str, tmp_path: Path) -> None:
    code, loaded, output = flask(
        database_url,
        *("report", "dispensing-log", "--from", "2026-11-16", "--to", "2025-11-16"),
        *("--format", "csv", "--output", str(tmp_path / "log.csv")),
    )
    assert code == 1
    assert output.strip().splitlines()[-1].startswith("Error: --")
    assert not (tmp_path / "log.csv").exists()
    assert [name for name in loaded if name in WEB] == []


def test_the_openapi_commands_complete_the_app(database_url: str, app: Flask) -> None:
    code, loaded, output = flask(database_url, "openapi", "print")
    assert code == 0
    assert set(WEB) <= set(loaded)
    whole = app.test_cli_runner().invoke(args=["openapi", "print"])  # the app the tests build
    assert whole.exit_code == 0
    assert json.loads(output) == json.loads(whole.output)


def test_flask_routes_builds_the_whole_app(database_url: str) -> None:
    code, loaded, output = flask(database_url, "routes")
    assert code == 0
    assert frozen[-1] == 0  # a built-in command's app is the whole app, as gunicorn's
    assert set(WEB) <= set(loaded)
    assert "/api/v1/patients/<int:patient_id>/doses" in output
    assert "/login" in output


def test_each_stand_in_has_the_name_and_help_of_its_group(app: Flask) -> None:
    """``flask --help`` shows the stand-in's help; the real group must take nothing the stand-in
    would not pass on (options, a callback of its own)."""
    for stand_in in GROUPS:
        real = stand_in.real_group()
        assert (stand_in.name, stand_in.help) == (real.name, real.help)
        assert real.params == [] and real.callback is None
        assert isinstance(app.cli.commands[stand_in.name], type(stand_in))
    stand_in = OpenAPICommands(app)
    assert (stand_in.name, stand_in.help) == (openapi_cli.name, openapi_cli.help)
    assert openapi_cli.params == [] and openapi_cli.callback is None
    assert isinstance(openapi_cli, click.Group)


def test_an_app_built_outside_the_flask_command_freezes_nothing(app: Flask, tmp_path: Path) -> None:
    """Only a command's own process freezes what it loaded: the tests (like gunicorn, which
    freezes in each worker itself) build many apps in one process and run commands in it."""
    import gc

    before = gc.get_freeze_count()
    done = app.test_cli_runner().invoke(
        args=[
            *("report", "dispensing-log", "--from", "2026-11-16", "--to", "2026-11-16"),
            *("--format", "csv", "--output", str(tmp_path / "log.csv")),
        ]
    )
    assert done.exit_code == 0, done.output
    assert gc.get_freeze_count() == before
