"""A pooled PostgreSQL connection is checked for life when a request takes it, without a round
trip to the server.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` on every checkout: one more round trip on
every request (the largest item of ``GET /api/v1/me`` that was not mat's own code, issue 10).
What it guards against is a connection the server has ended while it sat in the pool: a
restart, a failover, ``pg_terminate_backend``, an idle timeout. In each case the server writes
a last message (``FATAL: terminating connection``) and closes the socket, so the socket of an
idle connection turns readable. An idle connection in mat's pool has nothing to read otherwise
(mat does not ``LISTEN``), so a readable socket at checkout means a dead connection: it is
thrown away, the pool's other connections with it (a restart ended them all), and the pool
opens a new one. A false alarm (an asynchronous notice, which mat does not ask for) costs one
reconnect, never an error. ``poll`` with a zero timeout costs a system call, not a round trip.

What this cannot see, neither could the ping see in time: a peer that vanished without closing
(a cable pulled between the app and a remote database). TCP keepalives are the answer there
(``?keepalives_idle=...`` in ``MAT_DATABASE_URL``, README: production).
"""

from __future__ import annotations

import select
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.pool import Pool

_ANY_NEWS = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL


def server_hung_up(dbapi_connection: Any) -> bool:
    """Whether an idle psycopg connection was closed, or has been written to by the server."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    try:
        fd = dbapi_connection.fileno()
    except Exception:  # psycopg's OperationalError: no socket any more
        return True
    poller = select.poll()
    poller.register(fd, _ANY_NEWS)
    return bool(poller.poll(0))


@event.listens_for(Pool, "checkout")
def _refuse_a_dead_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # Only psycopg's connections: SQLite has no server to lose.
    if type(dbapi_connection).__module__.startswith("psycopg") and server_hung_up(dbapi_connection):
        # The pool retries with a new connection, after dropping every connection older than
        # now: what ended this one (a restart) ended them too.
        raise exc.InvalidatePoolError("the database server closed this pooled connection")
