"""The ``admin`` blueprint, what every admin page shares: reading a form through the API's
schema in plain words, one-time form tokens, and showing a refused form on its own page.

A refusal of a write (409, 422) is shown on the page of the form that was sent, above the form,
with the values the admin typed; anything else (403, 404, ...) goes to ``mat.errors.respond``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, request
from marshmallow import Schema, ValidationError

from mat.errors import (
    Conflict,
    InvalidInput,
    MatError,
    flatten_field_errors,
    refused_form,
)
from mat.idempotency import form_token_key, spent_form_token
from mat.plain_words import plain_message

bp = Blueprint("admin", __name__, url_prefix="/admin")

# endpoint -> what shows a refusal of that endpoint's form (the page, status err.status).
REFUSAL_PAGES: dict[str, Callable[[MatError], Any]] = {}
# One-time form tokens are IdempotentRequest keys with this prefix: never a client's API key.
FORM_KEY_PREFIX = "admin-form:"


@bp.errorhandler(MatError)
def refused(err: MatError) -> Any:
    """Roll back, audit the refusal once, and show it on the form's page."""
    page = REFUSAL_PAGES.get(request.endpoint or "")
    return refused_form(err, None if page is None else lambda: page(err))


def shows_refusals(render: Callable[[MatError], Any]) -> Callable[[Callable[..., Any]], Any]:
    """Decorator (under the route's): a refusal of this view is shown by ``render``."""

    def mark(view: Callable[..., Any]) -> Any:
        REFUSAL_PAGES[f"{bp.name}.{view.__name__}"] = render
        return view

    return mark


# ---- reading forms ------------------------------------------------------------------------


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
            merged.setdefault(name.split(".")[0], []).extend(plain_message(t) for t in texts)
        raise InvalidInput(message, fields=merged) from err


# ---- one-time form tokens (a double click does the work once) --------------------------------


def use_form_token(what: str) -> str:
    """Refuse a form whose token was already used (a double click, a reload of the answer);
    return the key to store with the work (``spend_form_token``)."""
    key = form_token_key(FORM_KEY_PREFIX)
    if spent_form_token(key) is not None:
        raise Conflict(
            f"This form was already sent and {what}; nothing was done a second time.",
            code="form_already_sent",
        )
    return key
