"""What an administrator does in a browser: add a nurse and hand over her one-time code; the
nurse sets her own password with it, signs in and reaches the dosing window."""

from __future__ import annotations

import re

from mat.auth.models import User
from tests.e2e.conftest import screenshot, sign_in, submit
from tests.support.checks import count
from tests.support.factories import PASSWORD

CODE = re.compile(r"[A-Z2-9]{5}(-[A-Z2-9]{5}){3}")
LAPTOP = {"width": 1366, "height": 768}
SERIOUS = ("serious", "critical")
TABLET = {"width": 800, "height": 1280}


def serious_violations(page) -> list[str]:
    """What axe-core finds serious or critical on the page (none may be)."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in SERIOUS]


def test_an_admin_creates_a_nurse_who_then_signs_in(page, staff) -> None:
    page.set_viewport_size(LAPTOP)
    sign_in(page, "boss", PASSWORD)
    page.goto("/admin/users")
    assert serious_violations(page) == []
    screenshot(page, "admin-users-1366")
    # Keyboard only: the fields in order, Space on the role, Enter on the button.
    page.get_by_label("Username").focus()
    page.keyboard.type("m.okoye")
    for text in ("Mary Okoye", "MO"):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "nurse"
    page.keyboard.press("Space")
    assert page.get_by_label("Nurse: doses at the window").is_checked()
    for _ in range(4):  # past the other roles, to the button
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").startswith("Add the user")
    submit(page, lambda: page.keyboard.press("Enter"))
    card = page.get_by_role("region", name="m.okoye is created: their one-time code")
    assert serious_violations(page) == []
    code = CODE.search(card.inner_text()).group(0)
    assert "Mary Okoye" in card.inner_text() and "Valid until" in card.inner_text()
    assert count(User) == len(staff) + 1
    screenshot(page, "admin-user-created-1366")
    page.set_viewport_size(TABLET)
    screenshot(page, "admin-user-created-800")
    # The code is shown once: the list again does not show it.
    page.goto("/admin/users")
    assert code not in page.content()
    row = page.get_by_role("row", name=re.compile("m.okoye"))
    assert "nurse" in row.inner_text().lower() and "active" in row.inner_text()
    submit(page, page.get_by_role("button", name="Sign out").click)

    # The nurse, on her own device: the code and a password of her own.
    page.goto("/password-reset")
    page.get_by_label("Username").fill("m.okoye")
    page.get_by_label("Reset code from your administrator").fill(code)
    page.get_by_label("New password (at least 12 characters)").fill("okoye's own password")
    page.get_by_label("New password again").fill("okoye's own password")
    submit(page, page.get_by_role("button", name="Set the password").click)
    assert page.url.endswith("/login")
    sign_in(page, "m.okoye", "okoye's own password")
    page.goto("/window")
    assert page.get_by_role("heading", name="Dosing window").is_visible()
    assert "Mary Okoye" in page.content()


def test_the_admin_pages_at_laptop_and_tablet_width(page, staff, factory) -> None:
    factory.patient(mrn="A-100", family_name="Lindqvist", given_name="Erik")
    sign_in(page, "boss", PASSWORD)
    for size, suffix in ((LAPTOP, "1366"), (TABLET, "800")):
        page.set_viewport_size(size)
        for path, name in (
            ("/admin/patients", "patients"),
            ("/admin/closures", "closures"),
            ("/admin/settings", "settings"),
            (f"/admin/users/{staff['nurse'].id}", "user"),
        ):
            page.goto(path)
            # Nothing wider than the window: no sideways scrolling on a tablet.
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (path, size)
            assert serious_violations(page) == [], path
            screenshot(page, f"admin-{name}-{suffix}")
    # A refused closure in a browser: plain words next to the form, what was typed kept.
    page.goto("/admin/closures")
    page.get_by_label("Date the clinic is closed").fill("2026-12-25")
    page.get_by_label("Reason (nurses and the logs show it)").fill("x")
    submit(page, page.get_by_role("button", name="Declare the closure").click)
    alert = page.get_by_role("alert")
    assert "Write at least 3 characters" in alert.inner_text()
    assert serious_violations(page) == []
    screenshot(page, "admin-closure-refused-800")
    page.get_by_label("Reason (nurses and the logs show it)").fill("Christmas Day")
    submit(page, page.get_by_role("button", name="Declare the closure").click)
    december = page.get_by_role("table", name="December 2026")
    assert "closed" in december.get_by_role("cell", name=re.compile("^25")).inner_text()
    coming = page.get_by_role("table", name="Coming closures, by date")
    assert "Christmas Day" in coming.inner_text()
    page.set_viewport_size(LAPTOP)
    screenshot(page, "admin-closures-declared-1366")
