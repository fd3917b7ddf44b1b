"""JSON that keeps amounts exact: numbers are read as ``Decimal`` and written as plain numbers.

The contract wants ``"amount_mg": 37.5``, a number, never a string and never a float rounded
silently. Reading uses ``parse_float=Decimal``. Writing goes through ``float`` only for the
text: Python prints the shortest text that reads back as the same float, so an amount with a
few decimals (all that ``Numeric(10, 3)`` holds) is written digit for digit.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Blueprint
from marshmallow.utils import missing
from webargs.flaskparser import FlaskParser, is_json_request

from mat.errors import BadRequest


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return DefaultJSONProvider.default(value)


class ExactJSONProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", _default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            kwargs.setdefault("parse_float", Decimal)
            return json.loads(s, **kwargs)
        return read_json(s.decode("utf-8") if isinstance(s, bytes) else s)


def read_json(text: str) -> Any:
    """JSON text as ``mat`` reads every body: numbers exactly (``Decimal``), and a clear 400 for
    what the JSON grammar allows but no clinical text holds and the database would turn into a
    500: a NUL character (PostgreSQL refuses it), a lone UTF-16 surrogate (``"\\ud800"``: not
    encodable, so PostgreSQL's driver fails), and nesting deep enough to exhaust the parser's
    recursion (``[[[[...``, a RecursionError)."""
    try:
        data = json.loads(text, parse_float=Decimal, object_pairs_hook=_checked_object)
    except RecursionError:
        raise BadRequest(
            "The JSON body is nested too deeply to read; no call of this API takes more than a "
            "few levels.",
            code="json_too_deep",
        ) from None
    if not isinstance(data, dict):  # objects were checked as they were read
        _check_texts([data])
    return data


def _checked_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    _check_texts([text for pair in pairs for text in pair])
    return dict(pairs)


def _check_texts(values: list[Any]) -> None:
    """Refuse bad text among ``values`` and inside their lists (objects nested in them were
    checked when they were read); iterative, so no depth of lists can exhaust the stack."""
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                raise BadRequest("The JSON body contains a NUL character.", code="nul_character")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise BadRequest(
                    "The JSON body contains a lone UTF-16 surrogate (like \\ud800), which is "
                    "no character: send text as UTF-8 or as complete surrogate pairs.",
                    code="unpaired_surrogate",
                ) from None


class ExactJSONParser(FlaskParser):
    """webargs reads request bodies with the standard ``json.loads`` (floats); this reads them
    like ``ExactJSONProvider``: amounts as ``Decimal``, so 40.0000000000000001 mg stays what the
    client sent and is refused, instead of becoming 40 on the way in."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return missing
        data = req.get_data(cache=True)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The JSON body is not UTF-8 text.", code="not_utf8") from None
        return read_json(text)


class ApiBlueprint(Blueprint):
    """The flask-smorest blueprint of every JSON API module, reading bodies exactly."""

    ARGUMENTS_PARSER = ExactJSONParser()
