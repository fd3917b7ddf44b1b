"""A PostgreSQL server for tests: reachable at MAT_TEST_PG (default 127.0.0.1:5432, user postgres).

Outside CI a missing server skips the PostgreSQL tests with a visible reason; in CI (CI=true)
it fails them, because both engines must stay green.
"""

from __future__ import annotations

import os

import psycopg
import pytest
from psycopg import sql

BASE = os.environ.get("MAT_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def url(name: str) -> str:
    return f"{BASE.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def _admin() -> psycopg.Connection:
    return psycopg.connect(f"{BASE}/postgres", autocommit=True, connect_timeout=3)


def available() -> str | None:
    """None when a server answers, else the reason it does not."""
    try:
        with _admin():
            return None
    except psycopg.OperationalError as exc:
        return f"no PostgreSQL server at {BASE}: {str(exc).strip().splitlines()[0]}"


def require() -> None:
    reason = available()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the PostgreSQL tests, but {reason}")
    pytest.skip(reason)


def create_database(name: str, template: str | None = None) -> str:
    with _admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if template:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
