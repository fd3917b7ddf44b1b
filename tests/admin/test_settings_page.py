"""The clinic's settings as shown to the admin: read-only, with the settings' names."""

from __future__ import annotations

from tests.admin.conftest import text_of
from tests.conftest import TODAY, ZONE


def test_the_settings_show_name_zone_clock_and_profile(admin, app) -> None:
    page = text_of(admin.get("/admin/settings"))
    assert app.config["MAT_CLINIC_NAME"] in page and "MAT_CLINIC_NAME" in page
    assert ZONE in page and "MAT_CLINIC_TZ" in page
    assert TODAY.strftime("%A %d %B %Y") + ", 09:00" in page  # the clinic's clock
    assert "us-federal" in page and "MAT_RULE_PROFILE" in page
    assert "restart mat" in page


def test_the_settings_cannot_be_changed_here(admin) -> None:
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'action="/admin/settings"' not in page
    assert admin.post("/admin/settings").status_code in (400, 405)
