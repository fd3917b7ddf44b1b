"""Logs without patient data: request lines are logged without their query strings.

The JSON API's ``GET /api/v1/patients?q=`` (api-contract.md) carries a name or an MRN in its
query string, and so may any address someone types. Access logs are read and kept outside the
record's access controls (42 CFR Part 2, HIPAA), so neither server writes query strings:

- gunicorn, with ``mat/gunicorn_conf.py`` (the README's command): its access log format has the
  path (``%(U)s``) and no query string, no full request line, no Referer;
- Werkzeug's development server (``flask run``, the demo, the browser tests): the filter below
  cuts the query string out of each request line it logs.

Server errors are logged by ``mat.errors.log_server_error`` (the route rule, never the path
with its ids, never an exception's message).
"""

from __future__ import annotations

import logging
import re

# "GET /window?q=Smith HTTP/1.1" -> "GET /window HTTP/1.1"; stops at whitespace or a quote.
_QUERY = re.compile(r"\?[^\s\"']*")


def without_query(text: str) -> str:
    return _QUERY.sub("", text)


class NoQueryStrings(logging.Filter):
    """Removes query strings from a record's message and its string arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = without_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                without_query(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def keep_query_strings_out_of_logs() -> None:
    """Install the filter on Werkzeug's logger, once per process."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, NoQueryStrings) for f in logger.filters):
        logger.addFilter(NoQueryStrings())
