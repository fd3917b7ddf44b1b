"""Refusals in a nurse's words: what is wrong and what to do, never a schema's message.

The pages read their forms with the API's schemas (so they accept and refuse exactly the same),
and marshmallow words its refusals for programmers: "Length must be between 3 and 2000.",
"Missing data for required field.", field names like ``late_entry_reason``. A page shows the
sentences of ``plain_fields`` instead. A message that is already a sentence of ours (the
services' "Use a date from ... on.") is kept as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Form field names as the forms label them.
FIELD_LABELS = {
    "amount_mg": "Amount",
    "slot": "Dose slot",
    "date": "Date",
    "dates": "Take-home dates",
    "reason": "Reason",
    "late_entry_reason": "Reason for the late entry",
    "collected_on": "Date collected",
    "results": "Results",
    "kind": "What happened",
    "witness": "Witness",
    "witness.username": "Witness's username",
    "witness.password": "Witness's password",
    "token": "Form",
    "station": "Station",
    "q": "Search",
    "_schema": "Form",
}

Rewrite = Callable[[re.Match[str]], str]

# marshmallow's own messages (and those of mat.schema_fields that speak of "sending") -> what
# the person at the form does about it. The one table for every page (window, charts, admin).
_MESSAGES: list[tuple[re.Pattern[str], Rewrite]] = [
    (
        re.compile(r"^(Missing data for required field|Field may not be null)\.$"),
        lambda m: "Fill this in.",
    ),
    (
        re.compile(r"^Length must be between 1 and (\d+)\.$"),
        lambda m: f"Fill this in, in at most {m[1]} characters.",
    ),
    (
        re.compile(r"^Length must be between (\d+) and (\d+)\.$"),
        lambda m: f"Write at least {m[1]} characters (at most {m[2]}).",
    ),
    (re.compile(r"^Shorter than minimum length 1\.$"), lambda m: "Choose at least one."),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), lambda m: f"Give at least {m[1]}."),
    (
        re.compile(r"^Longer than maximum length (\d+)\.$"),
        lambda m: f"Use at most {m[1]} characters.",
    ),
    (re.compile(r"^Not a valid date\.$"), lambda m: "Enter a date, like 2026-03-14."),
    (
        re.compile(r"^(Not a valid (number|decimal|integer)\.|Send a (whole )?number.*)$"),
        lambda m: "Enter a number, like 40 or 37.5.",
    ),
    (re.compile(r"^Must be one of: .*$"), lambda m: "Choose one of the listed options."),
    (
        re.compile(r"^Must be (greater|less) than .*$"),
        lambda m: "This number is out of range: check it.",
    ),
    (
        re.compile(r"^Unknown field\.$"),
        lambda m: "This form sent something unexpected: reload the page.",
    ),
    (
        re.compile(r"^Not a valid (string|mapping type|list)\.$"),
        lambda m: "Reload the page and fill the form again.",
    ),
    (re.compile(r"^Not a valid .*$"), lambda m: "This value cannot be read; check it."),
    (re.compile(r"^Missing\.$"), lambda m: "The form is incomplete: reload the page."),
]


def plain_message(message: str) -> str:
    """One field message in plain words (a sentence of ours is kept)."""
    for pattern, rewrite in _MESSAGES:
        match = pattern.match(message.strip())
        if match:
            return rewrite(match)
    return message


def field_label(name: str) -> str:
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    # results.cocaine, dates.0: the field the form shows, then which part of it
    head, _, rest = name.partition(".")
    if head in FIELD_LABELS:
        return (
            f"{FIELD_LABELS[head]} ({rest.replace('_', ' ')})"
            if not rest.isdigit()
            else FIELD_LABELS[head]
        )
    return name.replace("_", " ").capitalize()


def plain_fields(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """``{"late_entry_reason": ["Length must be between 3 and 2000."]}`` ->
    ``{"Reason for the late entry": ["write at least 3 characters (at most 2000)."]}``."""
    plain: dict[str, list[str]] = {}
    for name, messages in fields.items():
        label = field_label(name)
        for message in messages:
            text = plain_message(message)
            if text not in plain.setdefault(label, []):
                plain[label].append(text)
    return plain
