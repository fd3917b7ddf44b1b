"""Migration tests: an app on a database of its own, and an empty database on each engine to
upgrade step by step (records written between two revisions, as the code of the time did)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from tests.support import pg


def app_on(url: str) -> Flask:
    """An app on ``url``, migrations not run (the test runs them to the revision it needs);
    bound to Flask-Migrate so that in-process ``upgrade()`` / ``downgrade()`` work."""
    from mat import create_app
    from mat.db_cli import bind_migrations

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    bind_migrations(app)
    return app


def empty_database_fixture(prefix: str) -> Callable[..., Any]:
    """A fixture: the URL of an empty SQLite file and, when reachable, of an empty PostgreSQL
    database named ``<prefix>_<pid>`` (dropped afterwards)."""

    @pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
    def empty_database(request: Any, tmp_path: Any) -> Iterator[str]:
        if request.param == "sqlite":
            yield f"sqlite:///{tmp_path / 'm.sqlite3'}"
            return
        pg.require()
        name = pg.create_database(f"{prefix}_{os.getpid()}")
        try:
            yield pg.url(name)
        finally:
            pg.drop_database(name)

    return empty_database
