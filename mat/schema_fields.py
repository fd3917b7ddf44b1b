"""marshmallow fields shared by every input schema: dates, text, and numbers; and ``Computed``,
the output schemas' field computed from the object.

- ``clinic_date``: a clinic-local date in a range any clinic can mean.
- ``clinic_text``: every piece of free text that ``mat`` stores (names, reasons, notes,
  justifications). Read as NFC (one way to write "é"), and refused with 422 and a field message
  when it holds what a person cannot see or the records cannot print:
  control characters (names never hold a line break; reasons, notes and justifications may hold
  line breaks and tabs, and a browser's CRLF is stored as LF), Unicode direction overrides and
  isolates (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C: "Trojan Source", text that
  reads differently on screen than it is stored), line and paragraph separators, and any
  character the PDFs cannot print (``mat.pdf_fonts.unprintable``).
- ``amount`` and ``whole_number``: numbers must be JSON numbers. ``"amount_mg": "40"`` is
  refused, not read as 40: a client that sends text has a bug somewhere, and a dose is no place
  to guess. ``true`` is not a number either (Python would read it as 1).
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate

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


# ---- text ---------------------------------------------------------------------------------

# Invisible characters that change the direction text is shown in.
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]  # LRE RLE PDF LRO RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI RLI FSI PDI
    + ["\u200e", "\u200f", "\u061c"]  # LRM RLM ALM
)
LINE_SEPARATORS = frozenset(["\u2028", "\u2029"])
MULTILINE_ALLOWED = frozenset(["\n", "\t"])


def describe(char: str) -> str:
    """``U+0639 ARABIC LETTER AIN``: how an error message names a character."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def text_problem(text: str, *, multiline: bool, printed: bool) -> str | None:
    """Why ``text`` cannot be stored, in a sentence; None when it can. Pure: no request."""
    for char in text:
        if char in BIDI_CONTROLS:
            return (
                f"Remove the invisible direction control {describe(char)}: it makes the text "
                "read differently on screen than it is stored."
            )
        if char in LINE_SEPARATORS or (
            unicodedata.category(char) == "Cc" and not (multiline and char in MULTILINE_ALLOWED)
        ):
            if char in "\n\r" and not multiline:
                return "Write this on one line: it cannot hold a line break."
            return f"Remove the control character {describe(char)}: it is invisible."
    if printed:
        # Imported here, not at the top: the fonts module loads reportlab and reads the font
        # files, which a process that never checks printed text (a CLI export) does not need.
        from mat.pdf_fonts import unprintable

        bad = unprintable(text)
        if bad:
            shown = ", ".join(f"{char} ({describe(char)})" for char in bad[:5])
            return (
                f"The reports cannot print {shown}: they print Latin, Greek, Cyrillic, "
                "Chinese, Japanese and Korean letters, and no right-to-left or shaped script. "
                "Write it as it should appear on the dispensing log (for a name: as on the "
                "patient's ID, in one of those scripts)."
            )
    return None


class ClinicText(fields.String):
    def __init__(self, *, multiline: bool = False, printed: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiline = multiline
        self.printed = printed

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs))
        if self.multiline:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        problem = text_problem(text, multiline=self.multiline, printed=self.printed)
        if problem:
            raise ValidationError(problem)
        return text


def clinic_text(*, multiline: bool = False, printed: bool = True, **kwargs: Any) -> ClinicText:
    """Free text ``mat`` stores: a name (``multiline=False``) or a reason, note or
    justification (``multiline=True``). ``printed=False`` for text that no report prints
    (a search term, kept only in the audit trail)."""
    return ClinicText(multiline=multiline, printed=printed, **kwargs)


# ---- numbers ------------------------------------------------------------------------------


class JsonAmount(fields.Decimal):
    """A decimal amount sent as a JSON number (read exactly, as ``Decimal``: ``mat.jsonio``)."""

    default_error_messages = {"not_a_number": "Send a number, like 40 or 37.5, not text."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise self.make_error("not_a_number")
        return super()._deserialize(value, attr, data, **kwargs)


class JsonWholeNumber(fields.Integer):
    default_error_messages = {"not_a_number": "Send a whole number, like 3, not text."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.make_error("not_a_number")
        if isinstance(value, Decimal):  # 3.0 is read as Decimal("3.0"): a whole number
            if value != value.to_integral_value():
                raise self.make_error("invalid")
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


def amount(**kwargs: Any) -> JsonAmount:
    """mg, mL, a fraction or a percentage: a JSON number, never NaN or Infinity."""
    kwargs.setdefault("places", None)
    return JsonAmount(allow_nan=False, as_string=False, **kwargs)


def whole_number(**kwargs: Any) -> JsonWholeNumber:
    return JsonWholeNumber(**kwargs)


class Answer(fields.Boolean):
    """A yes/no answer as the JSON ``true`` or ``false`` and nothing else: ``1``, ``"yes"`` or
    ``null`` is not an answer a prescriber gave."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Computed(fields.Function):
    """An answer's field computed from the object alone (``Computed(lambda dose: ...)``), for
    the output schemas. ``fields.Function`` reads its function's signature on every value it
    writes (``marshmallow.utils.get_func_args``, to pass the schema's context to a function of
    two arguments, which ``mat`` never uses): a recorded dose's answer has seven, which cost
    0.47 M of its 12.24 M instructions (``bench.plan_instructions --what dose``). Documented in
    the OpenAPI document as ``fields.Function`` is."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return self.serialize_func(obj)
