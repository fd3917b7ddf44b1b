"""gunicorn settings for mat, used by the README's production command::

    gunicorn -c python:mat.gunicorn_conf --workers 4 --bind 127.0.0.1:8000 'mat:create_app()'

Options given on the command line override these. What matters here is the access log: it
names the path and never the query string (``GET /api/v1/patients?q=<name>`` is in the
contract), the full request line or the Referer, which can carry one too (``mat.logs``).
"""

from __future__ import annotations

from typing import Any

# Access and error logs to standard output/error, for the service manager (systemd, a container
# runtime) to collect.
accesslog = "-"
errorlog = "-"
# Client, time, method, path without the query string, protocol, status, bytes, duration (s),
# user agent. Not %(r)s (the request line), %(q)s (the query) or %(f)s (the Referer).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s "%(a)s"'
# A dose is recorded in well under a second; a PDF of a month takes a few. A worker stuck
# longer is killed and replaced (its request's transaction rolls back in the database). A
# streamed export that is still sending is not stuck: it says so batch by batch (mat.progress).
timeout = 30
graceful_timeout = 20


def post_worker_init(worker: Any) -> None:
    """Move everything the worker loaded (modules, the app, SQLAlchemy's metadata, the schemas)
    out of the garbage collector's sight.

    Without it the oldest generation's collection walks those ~200,000 long-lived objects every
    few hundred requests: 55-80 ms added to one request in ~300, which was most of the dose
    plan's p99 (issue 10; measured in-process on the small bench clinic: gen-2 collections went
    from ~70 ms to ~4 ms). Nothing frozen is ever freed, and it is all kept for the worker's life
    anyway. gunicorn calls this once per worker, after the app is loaded.
    """
    import gc

    from mat import progress

    # A streamed export that keeps sending tells the master it is alive (mat.progress).
    progress.keep_alive_with(worker.notify)
    gc.collect()
    gc.freeze()
    worker.log.info("worker %s froze %d long-lived objects", worker.pid, gc.get_freeze_count())
