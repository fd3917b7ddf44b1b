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
        kwargs.setdefault("parse_float", Decimal)
        kwargs.setdefault("object_pairs_hook", _refuse_nul)
        return json.loads(s, **kwargs)


def _refuse_nul(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A NUL character is never valid clinical text and PostgreSQL refuses it (a 500). A
    # JSONDecodeError here is answered 400, as for any JSON that cannot be read.
    for key, value in pairs:
        texts = [key, *(value if isinstance(value, list) else [value])]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise json.JSONDecodeError("NUL character in JSON text", key, 0)
    return dict(pairs)


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
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError("The body is not UTF-8", "", 0) from exc
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_refuse_nul)


class ApiBlueprint(Blueprint):
    """The flask-smorest blueprint of every JSON API module, reading bodies exactly."""

    ARGUMENTS_PARSER = ExactJSONParser()
