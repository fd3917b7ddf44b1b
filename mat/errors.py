"""Domain errors, and the one place that turns them into HTTP answers.

Services raise these; views never build an error body. For ``/api/`` paths the answer is the
contract's shape ``{"error": {"code", "message", "violations", "fields"}}``; for pages it is a
friendly HTML page. Every refusal is also written to the audit trail (clinical-rules.md, Records).
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from flask import (
    Flask,
    Response,
    has_request_context,
    jsonify,
    make_response,
    render_template,
    request,
)
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
        patient_id: int | None = None,
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
        # The patient the refused request concerned, for the audit event (an auditor lists a
        # patient's refusals too): set where the patient is known (``concerning_patient``).
        self.patient_id = patient_id

    def concerning(self, patient_id: int | None) -> MatError:
        """Name the patient, unless a more precise place (nearer the raise) already did."""
        if self.patient_id is None:
            self.patient_id = patient_id
        return self


@contextmanager
def concerning_patient(patient_id: int | None) -> Iterator[None]:
    """A refusal raised inside concerns this patient: its audit event names them.

    Services wrap the work they do for one patient in it, from where they know the patient's id
    (``mat.patients.service.get_patient``'s 404 names the id it did not find). The innermost
    one wins: the place nearest the raise knows best."""
    try:
        yield
    except MatError as err:
        err.concerning(patient_id)
        raise


P = ParamSpec("P")
R = TypeVar("R")


def names_the_patient(
    service: Callable[Concatenate[int, P], R],
) -> Callable[Concatenate[int, P], R]:
    """Decorator of a service whose first argument is the patient's id: the whole service runs
    ``concerning_patient`` that patient, so each of its refusals names them."""

    @functools.wraps(service)
    def for_the_patient(patient_id: int, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with concerning_patient(patient_id):
            return service(patient_id, *args, **kwargs)

    return for_the_patient


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
    from flask_wtf.csrf import CSRFError  # here: a command imports this module, not Flask-WTF

    status = exc.code or 500
    if isinstance(exc, CSRFError):
        return BadRequest(
            f"The form could not be accepted ({exc.description}) Reload the page and try again.",
            code="csrf_failed",
        )
    if status >= 500:
        # Flask hands an exception raised outside a view (an after_request commit) to the
        # handlers as InternalServerError: still a server error, never a refusal.
        return server_error()
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
    return answer_refusal(err, lambda: _error_answer(err))


def _error_answer(err: MatError) -> Response:
    if wants_json():
        response = jsonify(error_body(err))
        if err.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="mat"'
        return response
    return make_response(render_template("error.html", error=err))


class MatResponse(Response):
    """The app's answers (``create_app`` makes it Flask's ``response_class``).

    ``recorded_refusal``: the refusal this answer shows, already in the audit trail
    (``answer_refusal``). It travels on the answer itself, the one thing every handler returns,
    so the commit hook (``mat._commit``) sees that a 4xx was audited and does not record a
    second, anonymous refusal; a rate limit's ``deduct_when`` reads its code."""

    recorded_refusal: MatError | None = None


def answer_refusal(err: MatError, page: Callable[[], Any]) -> Response:
    """The one way to answer a refusal: roll the request's work back and audit the refusal once
    (``record_refusal``), then answer with ``page()`` at the refusal's status, marked as recorded.
    ``page`` is called after the rollback, so it shows what is true now; it returns anything a
    view may (a page, a (page, status) pair, a response)."""
    from mat.audit.service import record_refusal  # the audit package imports this module

    record_refusal(err)
    # The app's response class already; force_type also makes a page's own Response one.
    response = MatResponse.force_type(make_response(page()))
    response.status_code = err.status
    response.recorded_refusal = err
    return response


# A refused form is shown on its own page again with these statuses: the input or a rule said no
# (422), or the record changed under it (409). Anything else has nothing to show on the form.
FORM_REFUSALS = (409, 422)


def refused_form(
    err: MatError, page: Callable[[], Any] | None, *, patient_id: int | None = None
) -> Response:
    """The one shape of a page blueprint's ``MatError`` handler: a POSTed form refused with 409
    or 422 is answered with ``page()`` showing the refusal (``answer_refusal``: rolled back,
    audited once, the page read again); anything else (a 403, a 404, a GET, a view with no page
    of its own: ``page`` None) is ``respond``'s. ``patient_id``: the patient whose page shows
    the refusal, so it concerns them (a form refused before any service read them too)."""
    if page is None or request.method != "POST" or err.status not in FORM_REFUSALS:
        return respond(err)
    return answer_refusal(err.concerning(patient_id), page)


def recorded_refusal(response: Response) -> MatError | None:
    """The refusal ``response`` answers if it is already audited (``answer_refusal``), else None."""
    return response.recorded_refusal if isinstance(response, MatResponse) else None


def address_patient() -> int | None:
    """The patient the request's address names (``/patients/<patient_id>/...``), if any: what a
    refusal raised outside every service (a commit that lost a race, a server error) concerns."""
    if not has_request_context():
        return None
    patient_id = (request.view_args or {}).get("patient_id")
    return patient_id if isinstance(patient_id, int) else None


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
        return respond(server_error())


def server_error() -> ServerError:
    """A 500's refusal. Raised by no service, it names the patient of the request's address: the
    request may have read that patient's record, and its read event was rolled back with the rest,
    so this event is the only trace an auditor listing the patient's events finds (before issue
    10 it named whichever patient the request had read, which for the patient routes is the
    same one)."""
    return ServerError(SERVER_ERROR_MESSAGE, patient_id=address_patient())


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
