"""What the stock pages share: reading a form through the API's schema, the witness fields, and
showing a refused form again with its reasons.

Every decision is the JSON API's: the pages call the same services with the same schemas, so a
page and the API accept and refuse exactly the same. A refused write (409, 422) is shown on the
page that holds its form, with every rule that fired and the values typed (passwords excepted);
anything else goes to the central handler (``mat.errors.respond``).
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
from mat.idempotency import form_token_key, spend_form_token, spent_form_token
from mat.reports.log_rows import amount_text

Page = Callable[..., Any]  # page(error=..., status=...) -> response


def load(schema: Schema, data: dict[str, Any], message: str) -> dict[str, Any]:
    """The form's values through the API's schema; a refusal is a 422 shown on the page."""
    try:
        return schema.load(data)  # type: ignore[no-any-return]
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        raise InvalidInput(message, fields=flatten_field_errors(messages)) from err


def witness_of(prefix: str = "witness") -> dict[str, str] | None:
    """The witness who signs on the same screen: ``<prefix>_username`` and ``_password``."""
    username = (request.form.get(f"{prefix}_username") or "").strip()
    password = request.form.get(f"{prefix}_password") or ""
    if not username and not password:
        return None
    return {"username": username, "password": password}


def text(name: str) -> str | None:
    value = (request.form.get(name) or "").strip()
    return value or None


def show_refusals(bp: Blueprint, pages: dict[str, Page]) -> None:
    """Answer a refused form of ``bp`` with its page again (``pages``: endpoint -> page)."""

    @bp.errorhandler(MatError)
    def refused(err: MatError) -> Any:
        page = pages.get(request.endpoint or "")
        if page is None:
            return refused_form(err, None)
        return refused_form(err, lambda: page(error=err, status=err.status))


def amount(value: Any) -> str:
    """Jinja filter ``amount``: ``Decimal("1000.000")`` -> ``1000`` (never ``1E+3``)."""
    return amount_text(value)


# A form that moves stock carries a one-time token, stored as an ``IdempotentRequest`` of the
# user with this prefix when the form succeeds (the dosing window's Give does the same): a second
# press of the same form, or the browser sending it again, records nothing twice.
FORM_KEY_PREFIX = "stock-form:"


def spend_stock_form_token(what: str) -> None:
    """Refuse a form already sent once (409), else mark its token used, in this transaction."""
    key = form_token_key(FORM_KEY_PREFIX, "form_token")
    if spent_form_token(key) is not None:
        raise Conflict(
            f"This form was already sent: the {what} is recorded once.", code="form_reused"
        )
    spend_form_token(key)


def form_values() -> dict[str, str]:
    """What was typed, to fill the form again (never a password)."""
    hidden = ("csrf_token", "form_token")
    return {k: v for k, v in request.form.items() if "password" not in k and k not in hidden}
