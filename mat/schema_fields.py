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
