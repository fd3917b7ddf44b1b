"""The nurse's day in a browser: the queue at /window, a scanned MRN, a refresh without reload."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import screenshot, sign_in, submit
from tests.support.factories import PASSWORD


def _queue_day(factory: Any, sign_order: Any, api: Any, staff: dict[str, Any]) -> dict[str, Any]:
    people = {
        "due": factory.patient(given_name="Avery", family_name="Ashdown", mrn="DEMO-2001"),
        "other": factory.patient(
            given_name="Jordan", family_name="Birchwood-Calloway-Fairbank", mrn="DEMO-2002"
        ),
        "held": factory.patient(given_name="Casey", family_name="Dunmore", mrn="DEMO-2003"),
    }
    for person in people.values():
        sign_order(person)
    api("post", f"/api/v1/patients/{people['held'].id}/holds", as_=staff["nurse"],
        json={"reason": "Appeared sedated at intake; prescriber to see."})  # fmt: skip
    return people


def _axe_serious(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page (none allowed)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = results.response["violations"]
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


def test_a_nurse_works_the_queue_and_scans_a_card(page, api, staff, factory, sign_order) -> None:
    people = _queue_day(factory, sign_order, api, staff)
    sign_in(page, "nurse1", PASSWORD)
    submit(page, page.get_by_role("link", name="Dosing window").click)
    screenshot(page, "queue-1200")
    due = " ".join(page.locator("#group-due").inner_text().split())
    assert "Ashdown" in due and "40 mg (4 mL)" in due
    assert "Appeared sedated" in page.locator("#group-hold").inner_text()
    assert page.locator("li.count.status-due .n").inner_text() == "2"
    # The search box has the focus: a scanner types the MRN and Enter.
    assert page.evaluate("document.activeElement.id") == "q"
    screenshot(page, "queue-1366")
    serious = _axe_serious(page)
    assert serious == [], serious
    page.set_viewport_size({"width": 1366, "height": 768})
    screenshot(page, "queue-1366x768")
    page.set_viewport_size({"width": 800, "height": 1280})
    screenshot(page, "queue-800x1280")
    page.keyboard.type(people["due"].mrn)
    submit(page, lambda: page.keyboard.press("Enter"))
    assert page.url.endswith(f"/window/{people['due'].id}")
    assert people["due"].mrn in page.get_by_label("Patient", exact=True).inner_text()


def test_the_queue_refreshes_without_a_reload(page, api, staff, factory, sign_order, give):
    people = _queue_day(factory, sign_order, api, staff)
    sign_in(page, "nurse1", PASSWORD)
    page.goto("/window")
    page.get_by_label("Scan the patient's card, or type a name or MRN").fill("Ash")
    marker = page.evaluate("window.performance.timeOrigin")
    # Another window gives Ashdown's dose.
    assert give(people["due"], 40).status_code == 201
    page.evaluate("window.matQueueRefresh()")
    page.wait_for_function(
        "() => document.querySelector('#group-given') !== null"
        " && document.querySelector('#group-given').innerText.includes('Ashdown')"
    )
    assert "Ashdown" not in page.locator("#group-due").inner_text()
    # The same page: nothing reloaded, what the nurse typed is still there.
    assert page.evaluate("window.performance.timeOrigin") == marker
    assert (
        page.get_by_label("Scan the patient's card, or type a name or MRN").input_value() == "Ash"
    )
    screenshot(page, "queue-refreshed")


def test_the_refresh_runs_on_its_own_and_says_when_signed_out(page, staff, factory, sign_order):
    sign_in(page, "nurse1", PASSWORD)
    page.goto("/window")
    requests: list[Any] = []
    page.on("request", lambda r: requests.append(r) if r.url.endswith("/window/queue") else None)
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # back to the window: refresh
    page.wait_for_function("() => true")
    page.wait_for_timeout(500)
    assert requests and requests[0].headers.get("x-mat-background") == "1"
    # Signed out elsewhere: the page keeps what it shows and says it is not up to date.
    page.context.clear_cookies()
    page.evaluate("window.matQueueRefresh()")
    page.wait_for_selector("#queue[data-stale]")
    assert "not up to date" in page.evaluate(
        "getComputedStyle(document.querySelector('.updated'), '::after').content"
    )
