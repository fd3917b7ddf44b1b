"""axe-core on every page each role reaches from the navigation, and a few more: no serious or
critical violation. Also: no horizontal scroll at 1366x768 and on a 10-inch tablet (800x1280).

``PAGES`` is the one list to extend when a screen lands (charts, admin, the nurse's queue): a
``{patient}`` in a URL is the test patient's id. An entry whose endpoint is not registered in this
build is skipped (its blueprint has not landed), so the list can name pages ahead of them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import screenshot, sign_in, submit
from tests.support.factories import PASSWORD

# (who signs in or None, url, endpoint that must be registered or None)
PAGES: list[tuple[str | None, str, str | None]] = [
    (None, "/login", None),
    (None, "/password-reset", None),
    (None, "/no-such-page", None),  # 404 for a visitor
    ("nurse1", "/", None),
    ("nurse1", "/window", "dosing.window"),
    ("nurse1", "/window/{patient}", "dosing.patient_window"),
    ("nurse1", "/stock", "stock.index"),
    ("nurse1", "/stock/count", "stock_records.count_form"),
    ("nurse1", "/stock/variances", "stock_records.variances"),
    ("nurse1", "/stock/inventories", "stock_records.inventories"),
    ("nurse1", "/stock/records", "stock_records.records"),
    ("nurse1", "/reports", "reports.index"),
    ("nurse1", "/audit", None),  # 403 page
    ("nurse1", "/no-such-page", None),  # 404 page
    ("doc", "/", None),
    ("doc", "/charts", "charts.search"),
    ("doc", "/stock/variances", "stock_records.variances"),
    ("audit", "/", None),
    ("audit", "/audit", "audit.events"),
    ("audit", "/audit?from=2000-01-01&to=2099-12-31", "audit.events"),
    ("audit", "/audit?mrn=NOPE", "audit.events"),  # the form refused (422)
    ("audit", "/reports", "reports.index"),
    ("audit", "/stock", "stock.index"),
    ("audit", "/stock/recall", "stock.recall"),
    ("boss", "/", None),
    ("boss", "/stock", "stock.index"),
    ("boss", "/reports", "reports.index"),
    ("boss", "/admin/users", "admin.users"),
    ("boss", "/admin/patients", "admin.patients"),
    ("boss", "/admin/closures", "admin.closures"),
    ("boss", "/admin/settings", "admin.settings"),
]
SERIOUS = {"serious", "critical"}
# Violations known in templates this test's author does not own: (url, rule id) -> why. Empty
# is the goal; an entry here is a bug report to that page's owner, not an exemption forever.
KNOWN: dict[tuple[str, str], str] = {}


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in SERIOUS:
            targets = [", ".join(node["target"]) for node in violation["nodes"]][:3]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


def visit(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state()


@pytest.fixture
def clinic(staff, patient, sign_order) -> Any:
    sign_order(patient)
    return patient


@pytest.mark.parametrize("who", [None, "nurse1", "doc", "audit", "boss"])
def test_no_serious_or_critical_violation(app, page, clinic, who) -> None:
    if who is not None:
        sign_in(page, who, PASSWORD)
    problems: dict[str, list[str]] = {}
    visited = 0
    for role, url, endpoint in PAGES:
        if role != who or (endpoint is not None and endpoint not in app.view_functions):
            continue
        url = url.format(patient=clinic.id)
        visit(page, url)
        visited += 1
        found = [v for v in serious_violations(page) if (url, v.split(" ")[0]) not in KNOWN]
        if found:
            problems[url] = found
    assert visited >= 2
    assert problems == {}, problems


def test_the_navigation_pages_are_in_the_list(app, page, clinic) -> None:
    """Every link of every role's navigation is a page the list above checks."""
    listed = {(role, url.split("?")[0]) for role, url, _ in PAGES}
    for who in ("nurse1", "doc", "audit", "boss"):
        sign_in(page, who, PASSWORD)
        hrefs = page.locator("nav.main a").evaluate_all("links => links.map(a => a.pathname)")
        assert hrefs, who
        missing = [href for href in hrefs if (who, href) not in listed]
        assert missing == [], (who, missing)
        submit(page, page.get_by_role("button", name="Sign out").click)


@pytest.mark.parametrize("width, height", [(1366, 768), (800, 1280)])
def test_no_horizontal_scroll(app, page, clinic, width, height) -> None:
    page.set_viewport_size({"width": width, "height": height})
    checks = [
        ("nurse1", ["/", f"/window/{clinic.id}", "/stock", "/no-such-page"]),
        ("audit", ["/audit?from=2000-01-01&to=2099-12-31", "/reports"]),
    ]
    wide: dict[str, int] = {}
    for who, urls in checks:
        sign_in(page, who, PASSWORD)
        for url in urls:
            visit(page, url)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                wide[url] = overflow
            name = url.strip("/").split("?")[0].replace("/", "-") or "home"
            screenshot(page, f"a11y-{width}x{height}-{who}-{name}")
        submit(page, page.get_by_role("button", name="Sign out").click)
    assert wide == {}, wide


def test_the_check_finds_what_it_looks_for(page) -> None:
    """A field without a label and an image without text: the check above can fail."""
    page.set_content("<html lang='en'><body><main><input type='text'><img src='x.png'></main>")
    found = " ".join(serious_violations(page))
    assert "label" in found and "image-alt" in found
