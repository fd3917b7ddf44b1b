"""The navigation bar of every page: who sees which entry, and which entry is the current page.

One list, in the order the bar shows it. An entry appears when the signed-in user has one of its
roles AND its endpoint is registered in this app: a blueprint that has not landed (or was left
out of a build) simply leaves its entry out, never a broken link or a 500 from ``url_for``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str
    roles: tuple[str, ...]
    home_label: str  # the longer words of the home page's role cards
    # Other blueprints whose pages belong to this entry (marked as the current section).
    sections: tuple[str, ...] = ()
    in_bar: bool = True  # False: only on the home page's role card (a daily task's shortcut)

    @property
    def blueprint(self) -> str:
        return self.endpoint.partition(".")[0]


ENTRIES: tuple[NavEntry, ...] = (
    NavEntry("Window", "dosing.window", ("nurse",), "Dosing window", ("dosing", "stock_window")),
    NavEntry("Charts", "charts.search", ("prescriber",), "Find a patient's chart", ("charts",)),
    NavEntry(
        "Stock",
        "stock.index",
        ("nurse", "auditor", "admin"),
        "Stock and receipts",
        ("stock", "stock_records"),
    ),
    NavEntry(
        "Daily count",
        "stock_records.count_form",
        ("nurse",),
        "Daily count",
        ("stock_records",),
        in_bar=False,
    ),
    # A prescriber's part of stock is resolving the variances the daily count found.
    NavEntry(
        "Stock",
        "stock_records.variances",
        ("prescriber",),
        "Stock variances to resolve",
        ("stock", "stock_records"),
    ),
    NavEntry(
        "Reports",
        "reports.index",
        ("nurse", "auditor", "admin"),
        "Dispensing logs and histories",
        ("reports",),
    ),
    NavEntry("Audit", "audit.events", ("auditor",), "Audit trail", ("audit",)),
    NavEntry("Users", "admin.users", ("admin",), "Users and roles"),
    NavEntry("Patients", "admin.patients", ("admin",), "Patient registration"),
    NavEntry("Closures", "admin.closures", ("admin",), "Clinic closures"),
    NavEntry("Clinic", "admin.settings", ("admin",), "Clinic name and time zone"),
)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: str | None  # the aria-current value: "page", "true" (same section) or None


def entries_for(roles: set[str], registered: set[str] | dict[str, object]) -> list[NavEntry]:
    """The entries a user with ``roles`` sees, given the app's registered endpoints; one entry
    per label (a nurse who also prescribes sees one "Stock", the first that applies)."""
    seen: set[str] = set()
    shown: list[NavEntry] = []
    for entry in ENTRIES:
        if entry.label in seen or entry.endpoint not in registered:
            continue
        if roles.intersection(entry.roles):
            seen.add(entry.label)
            shown.append(entry)
    return shown


def _current(entry: NavEntry, endpoint: str | None, blueprint: str | None) -> str | None:
    if endpoint == entry.endpoint:
        return "page"
    if blueprint is not None and blueprint in (entry.sections or (entry.blueprint,)):
        return "true"
    return None


def nav_links() -> list[NavLink]:
    """The signed-in user's links for this request (none for a visitor)."""
    if not current_user.is_authenticated:
        return []
    roles = set(current_user.role_names)
    endpoint, blueprint = request.endpoint, request.blueprint
    return [
        NavLink(entry.label, url_for(entry.endpoint), _current(entry, endpoint, blueprint))
        for entry in entries_for(roles, current_app.view_functions)
        if entry.in_bar
    ]
