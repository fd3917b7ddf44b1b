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

from flask.json.provider import DefaultJSONProvider


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
        return json.loads(s, **kwargs)
