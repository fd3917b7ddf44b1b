"""A long answer that is still making progress tells the server's master it is alive.

gunicorn's sync worker proves it is alive between requests only; a worker silent for
``timeout`` seconds (30, ``mat.gunicorn_conf``) is killed, which is what should happen to a stuck
request. A streamed download that is still sending is not stuck, but a year of the audit trail
(about a million events) can take longer than that on a slow server: the download was cut at
30 s (issue 10's full-scale bench). So each streamed export calls ``still_working`` once per
batch it sends: a download that stops making progress is still killed at the timeout, one that
keeps sending is not.

``mat.gunicorn_conf.post_worker_init`` hands the worker's own heartbeat in; outside gunicorn
(``flask run``, the tests' client, a command) there is none and ``still_working`` does nothing.
"""

from __future__ import annotations

from collections.abc import Callable

_heartbeat: Callable[[], None] | None = None


def keep_alive_with(heartbeat: Callable[[], None] | None) -> None:
    global _heartbeat
    _heartbeat = heartbeat


def still_working() -> None:
    if _heartbeat is not None:
        _heartbeat()
