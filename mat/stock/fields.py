"""The station field of every input that names a station (the dosing API's too)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

STATION_CODE = validate.Regexp(
    r"^[a-z0-9][a-z0-9-]{0,23}$", error="Use 1-24 lower-case letters, digits and dashes."
)


def station_field(**kwargs: Any) -> fields.String:
    """A station code; when not required, default ``window-1`` (the built-in station)."""
    if not kwargs.get("required"):
        kwargs.setdefault("load_default", None)
    return fields.String(
        validate=STATION_CODE,
        metadata={"description": "Station code; default `window-1`."},
        **kwargs,
    )
