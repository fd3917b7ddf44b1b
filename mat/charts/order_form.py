"""The order form of the chart: its fields, read into the body the JSON API takes.

The page and the API accept exactly the same orders: the form's flat fields are put together
into the API's order body (``mat.orders.schemas.OrderIn``) and loaded by that schema; nothing
here judges a dose. A number the form cannot read stays text, and the schema refuses it.
What the schema says is then put in plain words for the prescriber (``plain_errors``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from mat.errors import InvalidInput, flatten_field_errors
from mat.orders.schemas import CRITERIA, WEEKDAYS, OrderIn
from mat.plain_words import plain_message

# The form's fields, one list: the page draws them, the preview token carries them.
SCALAR_FIELDS = (
    "medication",
    "kind",
    "start_date",
    "end_date",
    "dose_mg",
    "steps",
    "titration_start_mg",
    "titration_step_mg",
    "titration_every_days",
    "titration_target_mg",
    "taper_start_mg",
    "taper_step_percent",
    "taper_every_days",
    "taper_end_mg",
    *(f"split_slot_{n}" for n in range(1, 5)),
    *(f"split_fraction_{n}" for n in range(1, 5)),
    "take_home",
    "th_dates",
    "th_rationale",
    "th_split_slots",
    *(f"criterion_{c}" for c in CRITERIA),
)
LIST_FIELDS = ("th_weekdays",)

CRITERIA_TEXT = {
    "no_active_use_or_risk": "No active substance use or other risk that take-homes would raise",
    "regular_attendance": "Regular clinic attendance",
    "no_behavioral_problems": "No serious behavioural problems at the clinic",
    "no_diversion": "No known diversion of medication",
    "safe_transport_and_storage": "Can transport and store take-homes safely (lock box)",
}
WEEKDAY_TEXT = dict(zip(WEEKDAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))

# Field paths of the API's body, as the prescriber reads them on the form.
LABELS = {
    "medication": "Medication",
    "kind": "Kind of order",
    "start_date": "Start date",
    "end_date": "End date",
    "dose_mg": "Daily dose",
    "steps": "Steps",
    "titration": "Titration",
    "titration.start_mg": "Titration: start dose",
    "titration.step_mg": "Titration: step",
    "titration.every_days": "Titration: every … days",
    "titration.target_mg": "Titration: target dose",
    "taper": "Taper",
    "taper.start_mg": "Taper: start dose",
    "taper.step_percent": "Taper: step (%)",
    "taper.every_days": "Taper: every … days",
    "taper.end_mg": "Taper: end dose",
    "split": "Split doses",
    "take_home": "Take-homes",
    "take_home.weekdays": "Take-home weekdays",
    "take_home.dates": "Take-home dates",
    "take_home.split_slots": "Take-home split slots",
    "take_home.rationale": "Take-home rationale",
    "take_home.criteria": "Take-home criteria",
    "justification": "Justification",
    "_schema": "Order",
}
# Schema sentences written for API clients, said again for the form.
PLAIN = {
    "Send a number, like 40 or 37.5, not text.": "Write a number, like 40 or 37.5.",
    "Send a whole number, like 3, not text.": "Write a whole number, like 3.",
    "Not a valid integer.": "Write a whole number, like 3.",
    "Missing data for required field.": "Fill this in.",
    # Only a step line that is not "date mg" leaves a dose empty (``_steps``).
    "Field may not be null.": "Write a line as a date and the dose in mg, like 2026-12-01 40.",
    "Give exactly one of dose_mg, steps, titration or taper.": (
        "Say the dose one way only: a daily dose, steps, a titration or a taper."
    ),
    "Steps must start on start_date and go forward one date at a time.": (
        "The first step is on the start date, and each next step on a later date."
    ),
    "Titration parameters belong to a titration order.": (
        "Titration fields are for a titration order: choose that kind, or clear them."
    ),
    "Taper parameters belong to a taper order.": (
        "Taper fields are for a taper order: choose that kind, or clear them."
    ),
    "Must be one of: induction, titration, maintenance, taper.": "Choose a kind of order.",
    "Shorter than minimum length 1.": "Choose one.",
    "Length must be between 1 and 24.": "Choose one.",
    "Answer true or false.": "Answer yes or no for each criterion.",
    "Length must be between 2 and 4.": "Give 2 to 4 split parts.",
    "Length must be between 1 and 400.": "Give 1 to 400 steps.",
    "Longer than maximum length 4000.": "Write at most 4000 characters.",
}


def _text(form: MultiDict[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _number(text: str) -> Any:
    """The form's text as the JSON number the API's schema takes; unreadable text stays text
    (the schema says it is not a number)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    return value if value.is_finite() else text


def _whole(text: str) -> Any:
    value = _number(text)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


def _group(form: MultiDict[str, str], prefix: str, names: dict[str, Any]) -> dict[str, Any] | None:
    """A nested part of the body, or None when every one of its fields is empty."""
    values = {k: _text(form, f"{prefix}_{k}") for k in names}
    if not any(values.values()):
        return None
    return {k: names[k](v) for k, v in values.items() if v != ""}


def _steps(text: str) -> Any:
    """One step a line: ``2026-12-01 40`` (a date and mg); a line that is not read so is kept
    whole for the schema to refuse."""
    steps = []
    for line in text.splitlines():
        parts = line.replace(",", " ").replace("mg", " ").split()
        if not parts:
            continue
        if len(parts) != 2:
            steps.append({"date": line.strip(), "dose_mg": None})
            continue
        steps.append({"date": parts[0], "dose_mg": _number(parts[1])})
    return steps


def order_body(form: MultiDict[str, str]) -> dict[str, Any]:
    """The API's order body from the form's fields (before the schema reads it)."""
    body: dict[str, Any] = {
        "medication": _text(form, "medication"),
        "kind": _text(form, "kind"),
        "start_date": _text(form, "start_date"),
    }
    if _text(form, "end_date"):
        body["end_date"] = _text(form, "end_date")
    if _text(form, "dose_mg"):
        body["dose_mg"] = _number(_text(form, "dose_mg"))
    if _text(form, "steps"):
        body["steps"] = _steps(form.get("steps") or "")
    titration = _group(
        form,
        "titration",
        {"start_mg": _number, "step_mg": _number, "every_days": _whole, "target_mg": _number},
    )
    if titration is not None:
        body["titration"] = titration
    taper = _group(
        form,
        "taper",
        {"start_mg": _number, "step_percent": _number, "every_days": _whole, "end_mg": _number},
    )
    if taper is not None:
        body["taper"] = taper
    split = []
    for n in range(1, 5):
        slot, fraction = _text(form, f"split_slot_{n}"), _text(form, f"split_fraction_{n}")
        if slot or fraction:
            split.append({"slot": slot, "fraction": _number(fraction)})
    if split:
        body["split"] = split
    if form.get("take_home") == "yes":
        criteria: dict[str, Any] = {}
        for name in CRITERIA:
            answer = form.get(f"criterion_{name}")
            if answer in ("yes", "no"):
                criteria[name] = answer == "yes"
        body["take_home"] = {
            "weekdays": form.getlist("th_weekdays"),
            "dates": [d for d in _text(form, "th_dates").replace(",", " ").split() if d],
            "split_slots": _text(form, "th_split_slots").replace(",", " ").split(),
            "criteria": criteria,
            "rationale": form.get("th_rationale") or "",
        }
    justification = (form.get("justification") or "").strip()
    if justification:
        body["justification"] = justification
    return body


def _plain(message: str) -> str:
    """One schema sentence for a person: the form's own words first; a length refusal here is
    about text or about a list of parts (the split), which the shared words cannot tell apart."""
    if message in PLAIN:
        return PLAIN[message]
    if message.startswith(("Length must be", "Shorter than", "Longer than")):
        return (
            "Too long or too short: text here is at most 4000 characters; give 2 to 4 split parts."
        )
    return plain_message(message)


def plain_errors(messages: dict[str, Any]) -> dict[str, list[str]]:
    """The schema's messages, keyed by what the form calls the field, in plain words."""
    flat = flatten_field_errors(messages)
    shown: dict[str, list[str]] = {}
    for path, texts in flat.items():
        parts = path.split(".")
        # steps.0.dose_mg -> "Steps, line 1"; split.1.fraction -> "Split doses, part 2"
        if parts[0] in ("steps", "split") and len(parts) > 1 and parts[1].isdigit():
            where = "line" if parts[0] == "steps" else "part"
            label = f"{LABELS[parts[0]]}, {where} {int(parts[1]) + 1}"
        elif parts[0] == "take_home" and len(parts) > 2 and parts[1] == "criteria":
            label = f"Take-home criterion: {CRITERIA_TEXT.get(parts[2], parts[2])}"
        else:
            key = ".".join(p for p in parts if not p.isdigit())
            label = LABELS.get(key) or LABELS.get(parts[0]) or parts[0].replace("_", " ")
        shown.setdefault(label, []).extend(_plain(t) for t in texts)
    return shown


def form_names(messages: dict[str, Any]) -> set[str]:
    """The form fields the schema's messages are about (marked invalid on the page)."""
    names = set()
    for path in flatten_field_errors(messages):
        parts = path.split(".")
        head = parts[0]
        if head in ("titration", "taper") and len(parts) > 1:
            names.add(f"{head}_{parts[1]}")
        elif head == "split" and len(parts) > 2 and parts[1].isdigit():
            names.add(f"split_{'slot' if parts[2] == 'slot' else 'fraction'}_{int(parts[1]) + 1}")
        elif head == "take_home" and len(parts) > 2 and parts[1] == "criteria":
            names.add(f"criterion_{parts[2]}")
        elif head == "take_home" and len(parts) > 1:
            names.add(f"th_{parts[1]}")
        else:
            names.add(head)
    return names


def load_order(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's order, read by the API's schema; 422 with plain-words field messages."""
    try:
        return OrderIn().load(order_body(form))  # type: ignore[no-any-return]
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        refusal = InvalidInput("Check the order.", fields=plain_errors(messages))
        refusal.form_names = form_names(messages)  # type: ignore[attr-defined]
        raise refusal from err


def form_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's fields as a plain dict (lists for the checkboxes): what the preview token
    carries and the page fills back in."""
    values: dict[str, Any] = {name: form.get(name, "") for name in SCALAR_FIELDS}
    values.update({name: form.getlist(name) for name in LIST_FIELDS})
    return values


def as_multidict(values: dict[str, Any]) -> MultiDict[str, str]:
    items: list[tuple[str, str]] = []
    for name, value in values.items():
        if isinstance(value, list):
            items += [(name, str(v)) for v in value]
        elif value not in (None, ""):
            items.append((name, str(value)))
    return MultiDict(items)
