"""Domain errors, and the one place that turns them into HTTP answers.

Services raise these; views never build an error body. For ``/api/`` paths the answer is the
contract's shape ``{"error": {"code", "message", "violations", "fields"}}``; for pages it is a
friendly HTML page. Every refusal is also written to the audit trail (clinical-rules.md, Records).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, jsonify, make_response, render_template, request
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


class TooManyRequests(MatError):
    status, code = 429, "too_many_requests"


_HTTP_CODES = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: BadRequest,
    409: Conflict,
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
    cls = _HTTP_CODES.get(status, MatError)
    fields: dict[str, list[str]] = {}
    data: Any = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if isinstance(messages, dict):
        # webargs nests field errors under the location ("json", "query"); the contract does not.
        for location_errors in messages.values():
            if isinstance(location_errors, dict):
                fields.update(flatten_field_errors(location_errors))
    message = {
        400: "The request could not be read (malformed JSON or missing body).",
        401: "Sign in first.",
        403: "Your role does not allow this.",
        404: "No such resource.",
        405: "This method is not allowed here.",
        422: "Some values are invalid.",
        429: "Too many attempts; wait a minute and try again.",
    }.get(status, exc.description or "Request refused.")
    err = cls(message, fields=fields)
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
        return respond(from_http_exception(exc))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        # A 500 is always a bug: log it whole, tell the user nothing internal.
        log.exception("unhandled error on %s %s", request.method, request.path)
        err = MatError("Internal error; it has been logged.", code="internal_error")
        err.status = 500
        return respond(err)
