"""gunicorn settings for mat, used by the README's production command::

    gunicorn -c python:mat.gunicorn_conf --workers 4 --bind 127.0.0.1:8000 'mat:create_app()'

Options given on the command line override these. What matters here is the access log: it
names the path and never the query string (``GET /api/v1/patients?q=<name>`` is in the
contract), the full request line or the Referer, which can carry one too (``mat.logs``).
"""

from __future__ import annotations

# Access and error logs to standard output/error, for the service manager (systemd, a container
# runtime) to collect.
accesslog = "-"
errorlog = "-"
# Client, time, method, path without the query string, protocol, status, bytes, duration (s),
# user agent. Not %(r)s (the request line), %(q)s (the query) or %(f)s (the Referer).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s "%(a)s"'
# A dose is recorded in well under a second; a PDF of a month takes a few. A worker stuck
# longer is killed and replaced (its request's transaction rolls back in the database).
timeout = 30
graceful_timeout = 20
