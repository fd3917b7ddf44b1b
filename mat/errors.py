"""Domain errors, and the one place that turns them into HTTP answers.

Services raise these; views never build an error body. For ``/api/`` paths the answer is the
contract's shape ``{"error": {"code", "message", "violations", "fields"}}``; for pages it is a
friendly HTML page. Every refusal is also written to the audit trail (clinical-rules.md, Records).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

from flask import (
    Flask,
    Response,
    g,
    has_request_context,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from mat.violations import Violation

log = logging.getLogger(__name__)


class MatError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        violations: list[Violation] | None = None,
        fields: dict[str, list[str]] | None = None,
        audit_detail: dict[str, Any] | None = None,
        on_refusal: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.violations = list(violations or [])
        self.fields = dict(fields or {})
        # What the refusal's audit event says besides the answer (the username a failed sign-in
        # tried, the witness a failed confirmation named): never shown to the caller.
        self.audit_detail = dict(audit_detail or {})
        # Work that belongs to the refusal itself and must outlive its rollback (counting a
        # failed password towards the account's lockout): run by ``record_refusal`` after the
        # request's work is rolled back, committed with the refusal's audit event.
        self.on_refusal = on_refusal


class BadRequest(MatError):
    status, code = 400, "bad_request"


class Unauthorized(MatError):
    status, code = 401, "unauthorized"


class Forbidden(MatError):
    status, code = 403, "forbidden"


class NotFound(MatError):
    status, code = 404, "not_found"


class Conflict(MatError):
    status, code = 409, "conflict"


class InvalidInput(MatError):
    status, code = 422, "invalid_input"


class RuleViolation(MatError):
    """A clinical rule refused the action; ``violations`` says which, all at once."""

    status, code = 422, "rule_violation"


class PayloadTooLarge(MatError):
    status, code = 413, "payload_too_large"


class TooManyRequests(MatError):
    status, code = 429, "too_many_requests"


class ServerError(MatError):
    """A bug or an outage (the database refused a commit, a worker ran out of something): always
    500, whatever raised it, so clients, monitoring and the fuzz test see it (api-contract.md)."""

    status, code = 500, "internal_error"


SERVER_ERROR_MESSAGE = "Internal error; it has been logged. Nothing was recorded."

# The contract's messages for errors raised by Werkzeug/webargs rather than by a service. Pages
# show their own plain words instead (mat.frame.error_words).
HTTP_MESSAGES = {
    400: "The request could not be read (malformed JSON or missing body).",
    401: "Sign in first.",
    403: "Your role does not allow this.",
    404: "No such resource.",
    405: "This method is not allowed here.",
    413: "The request body is too large for this call.",
    422: "Some values are invalid.",
    429: "Too many attempts; wait a minute and try again.",
}

_HTTP_CODES = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: BadRequest,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidInput,
    429: TooManyRequests,
}


def from_http_exception(exc: HTTPException) -> MatError:
    """Werkzeug/webargs/Flask-Limiter errors in the contract's terms."""
    status = exc.code or 500
    if isinstance(exc, CSRFError):
        return BadRequest(
            f"The form could not be accepted ({exc.description}) Reload the page and try again.",
            code="csrf_failed",
        )
    if status >= 500:
        # Flask hands an exception raised outside a view (an after_request commit) to the
        # handlers as InternalServerError: still a server error, never a refusal.
        return ServerError(SERVER_ERROR_MESSAGE)
    cls = _HTTP_CODES.get(status, MatError)
    fields: dict[str, list[str]] = {}
    data: Any = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if isinstance(messages, dict):
        # webargs nests field errors under the location ("json", "query"); the contract does not.
        for location_errors in messages.values():
            if isinstance(location_errors, dict):
                fields.update(flatten_field_errors(location_errors))
    message = HTTP_MESSAGES.get(status, exc.description or "Request refused.")
    err = cls(message, fields=fields)
    if cls is MatError:  # a 4xx the contract does not list (415, ...) keeps its status
        err.status, err.code = status, f"http_{status}"
    if status == 405:
        err.status = 405
        err.code = "method_not_allowed"
    return err


def flatten_field_errors(errors: dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_field_errors(value, f"{name}."))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat[name] = list(value)
        else:
            flat[name] = [str(value)]
    return flat


def error_body(err: MatError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": err.code, "message": err.message}
    if err.violations:
        body["violations"] = [v.as_dict() for v in err.violations]
    if err.fields:
        body["fields"] = err.fields
    return {"error": body}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def respond(err: MatError) -> Response:
    """Roll back the request's work, audit the refusal, and answer in the caller's language."""
    from mat.audit.service import record_refusal  # the audit package imports this module

    record_refusal(err)
    g.refusal_recorded = True
    if wants_json():
        response = jsonify(error_body(err))
        response.status_code = err.status
        if err.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="mat"'
        return response
    return make_response(render_template("error.html", error=err), err.status)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(MatError, respond)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code and exc.code < 400:  # redirects raised as exceptions pass through
            return exc
        if (exc.code or 500) >= 500 and getattr(exc, "original_exception", None) is None:
            log_server_error(exc, exc.__traceback__)  # abort(500); Flask logged the others
        return respond(from_http_exception(exc))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        # A 500 is always a bug: log where and what, tell the user nothing internal.
        log_server_error(exc, exc.__traceback__)
        return respond(ServerError(SERVER_ERROR_MESSAGE))


# ---- logging a server error without patient data ------------------------------------------


def log_server_error(exc: BaseException | None, tb: TracebackType | None) -> None:
    """Log a server error so an operator can find the bug, and nothing a patient could be found
    by (42 CFR Part 2, HIPAA: logs are kept and read outside the record's access controls).

    The line names the route *rule* and endpoint (``/api/v1/patients/<int:patient_id>``), not
    the path with its ids; the exceptions by type, with the database's error code, constraint,
    table and SQL text (placeholders only); and the traceback's frames. Never an exception's
    message: a database error quotes the row it refused (``Key (mrn)=(...)``, bound parameters,
    a trigger's text) and other messages may quote input.
    """
    where = "outside a request"
    if has_request_context():
        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        where = f"{request.method} {rule} (endpoint {request.endpoint})"
    frames = "".join(traceback.format_tb(tb)) if tb is not None else ""
    log.error("server error on %s: %s\n%s", where, describe_exception(exc), frames.rstrip())


def describe_exception(exc: BaseException | None) -> str:
    """``exc`` and what caused it, outermost first, without any message text."""
    parts: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(parts) < 5:
        seen.add(id(exc))
        parts.append(_exception_facts(exc))
        exc = exc.__cause__ or exc.__context__
    return " <- ".join(parts) or "(no exception)"


def _exception_facts(exc: BaseException) -> str:
    facts = [f"{type(exc).__module__}.{type(exc).__qualname__}"]
    statement = getattr(exc, "statement", None)  # SQLAlchemy: the SQL, with placeholders
    driver_error = getattr(exc, "orig", None)
    if driver_error is not None:
        facts.append(f"driver {type(driver_error).__module__}.{type(driver_error).__qualname__}")
        sqlstate = getattr(driver_error, "sqlstate", None)  # psycopg
        if sqlstate:
            facts.append(f"sqlstate {sqlstate}")
        diag = getattr(driver_error, "diag", None)
        for name in ("schema_name", "table_name", "column_name", "constraint_name"):
            value = getattr(diag, name, None) if diag is not None else None
            if value:
                facts.append(f"{name} {value}")
        sqlite_name = getattr(driver_error, "sqlite_errorname", None)
        if sqlite_name:
            facts.append(f"sqlite {sqlite_name}")
    if isinstance(statement, str):
        facts.append(f"sql {' '.join(statement.split())[:300]}")
    return ", ".join(facts)
