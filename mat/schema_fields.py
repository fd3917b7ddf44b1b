"""marshmallow fields shared by every input schema."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import fields, validate

# Dates a clinic can mean. Beyond them date arithmetic (a year's range, a week back) could leave
# what Python and the databases store, so they are refused as input (422), never reach a query.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def clinic_date(**kwargs: Any) -> fields.Date:
    """A clinic-local date as ``YYYY-MM-DD`` between ``EARLIEST_DAY`` and ``LATEST_DAY``."""
    kwargs.setdefault("error_messages", {"invalid": "Use a date as YYYY-MM-DD."})
    return fields.Date(
        validate=validate.Range(
            min=EARLIEST_DAY,
            max=LATEST_DAY,
            error=f"Use a date between {EARLIEST_DAY} and {LATEST_DAY}.",
        ),
        **kwargs,
    )


class Answer(fields.Boolean):
    """A yes/no answer as the JSON ``true`` or ``false`` and nothing else: ``1``, ``"yes"`` or
    ``null`` is not an answer a prescriber gave."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value
