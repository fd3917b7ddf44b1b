"""A pooled PostgreSQL connection the server ended (a restart, ``pg_terminate_backend``) is
replaced when a request takes it, without the ``SELECT 1`` round trip of ``pool_pre_ping``
(``mat.db_liveness``): the request that comes next is answered, not a 500."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.pool import Pool

from mat import db_liveness
from tests.conftest import ENGINE
from tests.support import pg


def _end_backends(database: str) -> int:
    """End every server process connected to ``database``; wait until each is gone."""
    with psycopg.connect(f"{pg.BASE}/postgres", autocommit=True) as admin:
        pids = [
            pid
            for (pid,) in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
            )
        ]
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
    return len(pids)


def _until_hung_up(dbapi_connection: Any) -> bool:
    """The server's goodbye reaches the socket a moment after its process is gone."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if db_liveness.server_hung_up(dbapi_connection):
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def scratch_database() -> Iterator[str]:
    pg.require()
    name = pg.create_database(f"mat_live{os.getpid()}")
    yield name
    pg.drop_database(name)


def test_a_live_idle_connection_is_not_taken_for_dead(scratch_database: str) -> None:
    with psycopg.connect(f"{pg.BASE}/{scratch_database}") as conn:
        conn.execute("SELECT 1").fetchall()
        conn.rollback()
        assert not db_liveness.server_hung_up(conn)


def test_an_ended_connection_is_seen_dead_without_asking_the_server(scratch_database: str) -> None:
    with psycopg.connect(f"{pg.BASE}/{scratch_database}") as conn:
        conn.execute("SELECT 1").fetchall()
        conn.rollback()
        assert _end_backends(scratch_database) == 1
        assert _until_hung_up(conn)
    assert db_liveness.server_hung_up(conn)  # closed


def test_the_pool_replaces_connections_the_server_ended(scratch_database: str) -> None:
    engine = create_engine(pg.url(scratch_database), pool_size=2)  # no pool_pre_ping
    try:
        with engine.connect() as first, engine.connect() as second:
            pids = {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in (first, second)}
            raw = first.connection.dbapi_connection
        assert len(pids) == 2
        assert _end_backends(scratch_database) == 2
        assert _until_hung_up(raw)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() not in pids
        # Both were dropped at the first sign (InvalidatePoolError): the next is new as well.
        with engine.connect() as a, engine.connect() as b:
            for conn in (a, b):
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar() not in pids
    finally:
        engine.dispose()


def test_without_the_check_the_ended_connection_fails_the_request(scratch_database: str) -> None:
    """What the check is for: SQLAlchemy alone would hand the dead connection out."""
    engine = create_engine(pg.url(scratch_database), pool_size=1)
    event.remove(Pool, "checkout", db_liveness._refuse_a_dead_connection)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            raw = conn.connection.dbapi_connection
        _end_backends(scratch_database)
        assert _until_hung_up(raw)
        with pytest.raises(exc.OperationalError), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        event.listen(Pool, "checkout", db_liveness._refuse_a_dead_connection)
        engine.dispose()


@pytest.mark.skipif(ENGINE != "postgresql", reason="SQLite has no server to end a connection")
def test_the_api_answers_after_the_server_ended_its_connections(
    app: Any, api: Any, staff: dict[str, Any]
) -> None:
    assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert api("GET", "/api/v1/me", as_=staff["nurse"]).status_code == 200
    from mat.extensions import db

    database = db.engine.url.database
    assert _end_backends(database) >= 1
    time.sleep(0.2)  # the goodbye reaches the pooled sockets
    answer = api("GET", "/api/v1/me", as_=staff["nurse"])
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["username"] == staff["nurse"].username
