"""The ``admin`` blueprint, what every admin page shares: reading a form through the API's
schema in plain words, one-time form tokens, and showing a refused form on its own page.

A refusal of a write (409, 422) is shown on the page of the form that was sent, above the form,
with the values the admin typed; anything else (403, 404, ...) goes to ``mat.errors.respond``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, request
from flask_login import current_user
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from mat.audit.service import record_refusal
from mat.errors import Conflict, InvalidInput, MatError, flatten_field_errors, respond
from mat.extensions import db
from mat.idempotency import IdempotentRequest

bp = Blueprint("admin", __name__, url_prefix="/admin")

# endpoint -> what shows a refusal of that endpoint's form (the page, status err.status).
REFUSAL_PAGES: dict[str, Callable[[MatError], Any]] = {}
# One-time form tokens are IdempotentRequest keys with this prefix: never a client's API key.
FORM_KEY_PREFIX = "admin-form:"


@bp.errorhandler(MatError)
def refused(err: MatError) -> Any:
    """Roll back, audit the refusal once, and show it on the form's page."""
    page = REFUSAL_PAGES.get(request.endpoint or "")
    if request.method != "POST" or page is None or err.status not in (409, 422):
        return respond(err)
    record_refusal(err)
    g.refusal_recorded = True
    return page(err)


def shows_refusals(render: Callable[[MatError], Any]) -> Callable[[Callable[..., Any]], Any]:
    """Decorator (under the route's): a refusal of this view is shown by ``render``."""

    def mark(view: Callable[..., Any]) -> Any:
        REFUSAL_PAGES[f"{bp.name}.{view.__name__}"] = render
        return view

    return mark


# ---- reading forms ------------------------------------------------------------------------

# marshmallow's own messages, as a person would say them (the schemas' own messages are
# already plain and pass through unchanged).
_PLAIN: tuple[tuple[str, str], ...] = (
    (r"^Missing data for required field\.$", "Fill this in."),
    (r"^Field may not be null\.$", "Fill this in."),
    (r"^Length must be between 1 and (\d+)\.$", "Fill this in, in at most {0} characters."),
    (r"^Length must be between (\d+) and (\d+)\.$", "Write at least {0} characters (at most {1})."),
    (r"^Longer than maximum length (\d+)\.$", "Use at most {0} characters."),
    (r"^Shorter than minimum length 1\.$", "Choose at least one."),
    (r"^Must be one of: .*$", "Choose one of the listed options."),
    (r"^Not a valid .*$", "This value cannot be read; check it."),
    (r"^Unknown field\.$", "This field is not part of the form; reload the page."),
)


def plain(message: str) -> str:
    for pattern, words in _PLAIN:
        match = re.match(pattern, message)
        if match:
            return words.format(*match.groups())
    return message


def load_form(schema: Schema, data: dict[str, Any], message: str) -> dict[str, Any]:
    """The form's values through the API's schema; a refusal is a 422 in plain words. An
    empty box is a missing value ("Fill this in."), not a value the schema misreads."""
    data = {name: value for name, value in data.items() if value != ""}
    try:
        return schema.load(data)  # type: ignore[no-any-return]
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        fields = flatten_field_errors(messages)
        # A list's item errors ("roles.0") belong to the list's field on the page.
        merged: dict[str, list[str]] = {}
        for name, texts in fields.items():
            merged.setdefault(name.split(".")[0], []).extend(plain(t) for t in texts)
        raise InvalidInput(message, fields=merged) from err


# ---- one-time form tokens (a double click does the work once) --------------------------------


def new_form_token() -> str:
    return secrets.token_urlsafe(16)


def use_form_token(what: str) -> str:
    """Refuse a form whose token was already used (a double click, a reload of the answer);
    return the key to store with the work (``spend_form_token``)."""
    token = request.form.get("token", "")
    if not token or len(token) > 64:
        raise InvalidInput("The form is incomplete; reload the page.", fields={})
    key = FORM_KEY_PREFIX + token
    used = db.session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.user_id == current_user.id, IdempotentRequest.key == key
        )
    )
    if used is not None:
        raise Conflict(
            f"This form was already sent and {what}; nothing was done a second time.",
            code="form_already_sent",
        )
    return key


def spend_form_token(key: str, answer: dict[str, Any]) -> None:
    """Store the token with the work, in the same transaction: both are kept or neither."""
    db.session.add(
        IdempotentRequest(
            user_id=current_user.id,
            key=key,
            fingerprint=hashlib.sha256(request.path.encode()).hexdigest(),
            status=200,
            body=json.dumps(answer),
        )
    )
    db.session.flush()
