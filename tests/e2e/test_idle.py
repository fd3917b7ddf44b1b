"""The idle sign-out announced a minute before: the notice, "Stay signed in", and the end.

The browser's clock (Playwright's page.clock) and the server's (the test clock) are moved
together, as real time would move both."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.conftest import screenshot, sign_in
from tests.support.factories import PASSWORD


def test_the_idle_notice_warns_a_minute_before_and_stay_keeps_the_session(
    page, staff, clock
) -> None:
    page.clock.install()
    sign_in(page, "nurse1", PASSWORD)
    assert page.locator("body").get_attribute("data-idle-seconds") == "900"
    notice = page.get_by_role("alert")
    assert page.locator("#idle-notice").is_hidden()

    clock.now += timedelta(minutes=13)
    page.clock.run_for("13:00")
    assert page.locator("#idle-notice").is_hidden()  # not yet: two minutes left

    clock.now += timedelta(minutes=1, seconds=1)
    page.clock.run_for("01:01")
    notice.wait_for()
    assert "You will be signed out in" in notice.inner_text()
    stay = page.get_by_role("button", name="Stay signed in")
    assert stay.is_visible()
    assert page.evaluate("document.activeElement.id") == "idle-stay"  # focus moves to it
    page.set_viewport_size({"width": 1366, "height": 768})
    screenshot(page, "idle-notice")

    page.keyboard.press("Enter")  # keyboard only
    page.locator("#idle-notice").wait_for(state="hidden")
    clock.now += timedelta(minutes=10)
    page.reload()  # still signed in after the 15 minutes since sign-in
    assert page.url.endswith("/") and page.get_by_role("button", name="Sign out").is_visible()


def test_at_the_end_the_page_goes_to_sign_in_with_a_message(page, staff, clock) -> None:
    page.clock.install()
    sign_in(page, "nurse1", PASSWORD)
    clock.now += timedelta(minutes=14, seconds=1)
    page.clock.run_for("14:01")
    page.get_by_role("alert").wait_for()
    clock.now += timedelta(minutes=1)
    with page.expect_navigation(url="**/login?idle=1"):
        page.clock.run_for("01:00")
    page.wait_for_load_state()
    assert "signed out after 15 minutes without activity" in page.get_by_role("status").inner_text()
    screenshot(page, "idle-signed-out")
