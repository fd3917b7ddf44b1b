"""Audit events in words for the auditor's screen: what was done ("record a dose"), and for a
refusal, what was tried and why it was refused ("wrong role"), instead of the stored action
("POST /api/v1/patients/3/doses") and status numbers. The stored event is unchanged: this is only
how the screen says it (the route stays visible in the row's details)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map

# Actions that services record by name (the "done" rows).
ACTION_WORDS: dict[str, str] = {
    "auth.login": "signed in",
    "auth.logout": "signed out",
    "auth.locked": "account locked after failed sign-ins",
    "auth.token": "API token issued",
    "auth.token_revoked": "API token revoked",
    "audit.view": "read the audit trail",
    "audit.export": "exported the audit trail",
    "audit.verify": "verified the audit chain",
    "audit.checkpoints": "audit checkpoints",
    "patient.create": "registered a patient",
    "patient.read": "opened a patient's record",
    "patient.search": "searched for patients",
    "patient.update": "changed a patient's details",
    "patient.discharge": "discharged a patient",
    "patient.readmit": "readmitted a patient",
    "order.preview": "previewed an order",
    "order.sign": "signed an order",
    "order.discontinue": "discontinued an order",
    "dose.observed": "gave an observed dose",
    "dose.take_home": "dispensed take-home doses",
    "dose.split_take_home": "dispensed a split dose to take home",
    "dose.withheld": "withheld a dose",
    "dose.label": "printed a dose label",
    "dose.loss_report": "reported a lost or spilled dose",
    "dose.loss_review": "reviewed a dose loss report",
    "dose.correction": "corrected a dose",
    "hold.place": "placed a hold",
    "hold.release": "released a hold",
    "screen.record": "recorded a drug screen",
    "clinic.closure": "declared a clinic closure",
    "take_home_exception.record": "recorded a take-home exception",
    "report.dispensing_log": "downloaded a dispensing log",
    "report.history": "downloaded a patient history",
    "report.stock": "downloaded the stock report",
    "stock.station": "chose a station",
    "stock.add_station": "added a station",
    "stock.receive": "received stock",
    "stock.receipt": "received stock",
    "stock.transfer": "moved stock between stations",
    "stock.count": "recorded the daily count",
    "stock.inventory": "recorded an inventory",
    "stock.recall": "looked up a lot recall",
    "stock.bottle_return": "took back an empty bottle",
    "stock.variance_resolved": "resolved a stock variance",
    "user.create": "created a user",
    "user.update": "changed a user",
    "user.unlock": "unlocked a user",
    "user.password_reset": "reset a password with a code",
    "user.password_reset_issued": "issued a password reset code",
    "import": "imported records",
    "import.dry_run": "tried an import without storing it",
}

# What a refused request tried, by the name of the view its route leads to (API and pages).
VIEW_WORDS: dict[str, str] = {
    "record_dose": "record a dose",
    "give": "give a dose",
    "take_homes": "dispense take-home doses",
    "withhold": "withhold a dose",
    "hold": "place a hold",
    "place_hold": "place a hold",
    "release_hold": "release a hold",
    "record_screen": "record a drug screen",
    "correct": "correct a dose",
    "report": "report a lost dose",
    "review": "review a dose loss report",
    "sign": "sign an order",
    "preview": "preview an order",
    "discontinue": "discontinue an order",
    "record_exception": "record a take-home exception",
    "close_clinic": "declare a clinic closure",
    "create": "create a record",
    "read": "open a patient's record",
    "update": "change a patient's details",
    "readmit": "readmit a patient",
    "search": "search for patients",
    "dose_plan": "read a dose plan",
    "dose_history": "read a dose history",
    "patient_history": "read a patient history",
    "patient_window": "open a patient at the window",
    "window": "open the dosing window",
    "events": "read the audit trail",
    "export_csv": "export the audit trail",
    "verify": "verify the audit chain",
    "login": "sign in",
    "logout": "sign out",
    "password_reset": "reset a password",
    "redeem_password_reset": "reset a password",
    "create_token": "get an API token",
    "revoke_token": "revoke an API token",
    "create_user": "create a user",
    "update_user": "change a user",
    "issue_password_reset": "issue a password reset code",
    "unlock_user": "unlock a user",
    "dispensing_log": "download a dispensing log",
    "history": "download a patient history",
    "receive": "receive stock",
    "transfer": "move stock",
    "count": "record the daily count",
    "resolve": "resolve a stock variance",
    "record_inventory": "record an inventory",
    "record_destruction": "record a destruction (DEA Form 41)",
    "destruction": "record a destruction (DEA Form 41)",
    "record_theft_loss": "report a theft or loss (DEA Form 106)",
    "theft_loss": "report a theft or loss (DEA Form 106)",
    "bottle_return": "take back an empty bottle",
    "bottle_returned": "take back an empty bottle",
    "add_station": "add a station",
    "station": "choose a station",
    "keepalive": "stay signed in",
}
# Views whose name alone is ambiguous across blueprints ("create" of patients vs imports).
ENDPOINT_WORDS: dict[str, str] = {
    "patients_api.create": "register a patient",
    "imports_api.create": "import records",
    "dosing_loss_api.report": "report a lost dose",
    "dosing_loss_api.review": "review a dose loss report",
}

# Why a refusal happened, by the error's code first, then by its status.
CODE_WORDS: dict[str, str] = {
    "csrf_failed": "the form had expired",
    "rule_violation": "a clinical rule refused it",
    "invalid_input": "some values were invalid",
    "method_not_allowed": "not possible at this address",
    "payload_too_large": "too much sent at once",
    "too_many_requests": "too many attempts",
    "internal_error": "a server error (nothing was recorded)",
}
STATUS_WORDS: dict[int, str] = {
    400: "the request could not be read",
    401: "not signed in or wrong credentials",
    403: "wrong role",
    404: "no such page or record",
    405: "not possible at this address",
    409: "someone changed it first",
    413: "too much sent at once",
    422: "some values were invalid",
    429: "too many attempts",
}


@dataclass(frozen=True)
class Described:
    what: str  # "record a dose" / "gave an observed dose"
    why: str | None  # a refusal's reason in words; None for a done event
    route: str | None  # "POST /api/v1/patients/3/doses" for a refused request, to show aside


def _humanize(name: str) -> str:
    return name.replace("_", " ").replace(".", ": ")


def _view_words(method: str, path: str, url_map: Map) -> str:
    try:
        endpoint, _ = url_map.bind("localhost").match(path, method=method)
    except HTTPException:
        return "open an address that does not exist" if method == "GET" else "send to " + path
    if endpoint in ENDPOINT_WORDS:
        return ENDPOINT_WORDS[endpoint]
    view = endpoint.rpartition(".")[2]
    return VIEW_WORDS.get(view, _humanize(view))


def reason(detail: dict[str, Any]) -> str:
    code, status = detail.get("code"), detail.get("status")
    if isinstance(code, str) and code in CODE_WORDS:
        return CODE_WORDS[code]
    if isinstance(status, int):
        if status >= 500:
            return CODE_WORDS["internal_error"]
        if status in STATUS_WORDS:
            return STATUS_WORDS[status]
    return "refused"


def describe(action: str, outcome: str, detail: dict[str, Any], url_map: Map) -> Described:
    """The event's action in words; a refused request's route is matched against the app's
    routes (``url_map``) to name what it tried."""
    method, _, path = action.partition(" ")
    if path.startswith("/") and method.isupper():
        what = _view_words(method, path, url_map)
        route: str | None = action
    else:
        what = ACTION_WORDS.get(action, action)  # an unknown name stays as stored
        route = None
    return Described(what, reason(detail) if outcome == "refused" else None, route)


def detail_lines(detail_json: str) -> list[tuple[str, str]]:
    """The stored JSON detail as (key, value) lines: nested values flattened with dots, lists
    joined, so an auditor reads it without parsing JSON in a narrow column."""
    try:
        detail = json.loads(detail_json or "{}")
    except ValueError:
        return [("detail", detail_json)]
    lines: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key in value:
                walk(f"{prefix}.{key}" if prefix else str(key), value[key])
        elif isinstance(value, list):
            simple = all(not isinstance(item, (dict, list)) for item in value)
            if simple:
                lines.append((prefix, ", ".join(_text(item) for item in value) or "(none)"))
            else:
                for index, item in enumerate(value, 1):
                    walk(f"{prefix}[{index}]", item)
        else:
            lines.append((prefix or "detail", _text(value)))

    if isinstance(detail, dict):
        for key in detail:
            walk(str(key), detail[key])
    else:
        walk("detail", detail)
    return lines


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "(none)"
    return str(value)
