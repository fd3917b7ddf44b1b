"""The frame of every page: role-aware navigation, the skip link, flash messages shown once,
and the error pages (403/404/405/500 ...) in the same look with a way back and plain words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from mat.auth.access import public, roles_required
from mat.navigation import ENTRIES, entries_for
from tests.auth.test_pages import sign_in


def nav(page: str) -> list[tuple[str, str, str | None]]:
    """(label, href, aria-current) of the main navigation's links."""
    match = re.search(r'<nav class="main" aria-label="Main">(.*?)</nav>', page, re.S)
    if match is None:
        return []
    return [
        (label, href, current or None)
        for href, current, label in re.findall(
            r'<a href="([^"]+)"(?: aria-current="([^"]+)")?>([^<]+)</a>', match.group(1)
        )
    ]


def labels(page: str) -> list[str]:
    return [label for label, _, _ in nav(page)]


@pytest.mark.parametrize(
    "username, endpoints",
    [
        ("nurse1", ["dosing.window", "stock.index", "reports.index"]),
        ("doc", ["charts.search", "stock_records.variances"]),
        ("audit", ["stock.index", "reports.index", "audit.events"]),
        (
            "boss",
            [
                "stock.index",
                "reports.index",
                "admin.users",
                "admin.patients",
                "admin.closures",
                "admin.settings",
            ],
        ),
    ],
)
def test_each_role_sees_its_own_entries(app, client, staff, username, endpoints) -> None:
    sign_in(client, username)
    page = client.get("/").get_data(as_text=True)
    # The charts and admin entries join by themselves once those blueprints are registered.
    label = {entry.endpoint: entry.label for entry in ENTRIES}
    expected = [label[e] for e in endpoints if e in app.view_functions]
    assert labels(page) == expected
    assert "Window" in expected or username != "nurse1"


def test_an_entry_appears_only_when_its_endpoint_is_registered() -> None:
    nurse_and_prescriber = {"nurse", "prescriber"}
    without_charts = {"dosing.window": 1, "stock.index": 1, "stock_records.variances": 1}
    shown = [e.label for e in entries_for(nurse_and_prescriber, without_charts)]
    assert shown == ["Window", "Stock"]  # one Stock, no Charts
    with_charts = {**without_charts, "charts.search": 1}
    shown = [e.label for e in entries_for(nurse_and_prescriber, with_charts)]
    assert shown == ["Window", "Charts", "Stock"]
    everything = {e.endpoint: 1 for e in ENTRIES}
    admin = [e.label for e in entries_for({"admin"}, everything)]
    assert admin == ["Stock", "Reports", "Users", "Patients", "Closures", "Clinic"]


def test_the_current_page_is_marked(client, staff) -> None:
    sign_in(client, "audit")
    page = client.get("/audit").get_data(as_text=True)
    assert ("Audit", "/audit", "page") in nav(page)
    assert all(current is None for label, _, current in nav(page) if label != "Audit")
    page = client.get("/stock/records").get_data(as_text=True)  # a page of the Stock section
    assert ("Stock", "/stock", "true") in nav(page)
    home = client.get("/").get_data(as_text=True)
    assert all(current is None for _, _, current in nav(home))


def test_a_visitor_sees_no_navigation_but_a_skip_link(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert nav(page) == []
    assert '<a class="skip" href="#content">Skip to content</a>' in page
    assert '<main id="content"' in page
    assert "data-idle-seconds" not in page and "idle.js" not in page


def test_signed_in_pages_carry_the_idle_notice_and_the_csrf_meta(client, staff) -> None:
    sign_in(client, "nurse1")
    page = client.get("/").get_data(as_text=True)
    assert 'data-idle-seconds="900"' in page
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', page)
    assert 'id="idle-notice" role="alert" hidden' in page and "Stay signed in" in page
    assert '<script src="/static/idle.js" defer></script>' in page


def test_a_flash_message_is_shown_once_in_the_frame(client, staff, patient) -> None:
    sign_in(client, "nurse1")
    page = client.get("/stock").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    code = re.search(r'<option value="([^"]+)"', page)
    assert code, "the stock page offers a station"
    response = client.post(
        "/stock/station",
        data={"csrf_token": token, "station": code.group(1)},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert page.count("You are working at") == 1
    assert re.search(r'<div class="flash success" role="status">You are working at', page)


def test_a_flash_is_shown_on_the_sign_in_page_once(client, staff) -> None:
    page = client.get("/login?idle=1").get_data(as_text=True)
    assert page.count("signed out after 15 minutes") == 1
    assert '<div class="flash info" role="status">' in page


# ---- error pages --------------------------------------------------------------------------


def assert_error_page(response: Any, status: int, heading: str) -> str:
    assert response.status_code == status
    assert response.content_type.startswith("text/html")
    page = response.get_data(as_text=True)
    assert f'<h1 id="error-title">{heading}</h1>' in page
    assert '<a href="/">Back to the home page</a>' in page
    assert '<main id="content"' in page  # the same frame as every page
    # Plain words: no codes or status numbers for a nurse to decode.
    assert "status " not in page and "Code " not in page and "forbidden" not in page
    return page


def test_404_page(client, staff) -> None:
    sign_in(client, "nurse1")
    page = assert_error_page(client.get("/no-such-page"), 404, "Page not found")
    assert labels(page) == ["Window", "Stock", "Reports"]  # the navigation is there too


def test_404_page_for_a_visitor(client) -> None:
    page = assert_error_page(client.get("/no-such-page"), 404, "Page not found")
    assert nav(page) == []


def test_403_page_a_nurse_on_the_audit_screen(client, staff) -> None:
    sign_in(client, "nurse1")
    page = assert_error_page(client.get("/audit"), 403, "This page is not part of your work")
    assert "This needs the role auditor." in page


def test_405_page(client, staff) -> None:
    sign_in(client, "nurse1")
    assert_error_page(client.get("/logout"), 405, "This page cannot do that")


def test_400_page_for_an_expired_form(client, staff) -> None:
    sign_in(client, "nurse1")
    page = assert_error_page(
        client.post("/logout", data={"csrf_token": "stale"}), 400, "This form had expired"
    )
    assert "CSRF" not in page and "Nothing was recorded" in page


@pytest.fixture
def broken(app: Flask) -> Flask:
    """A test-only page that fails as a bug would, answered as production answers it."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @public
    def explode() -> Any:
        raise RuntimeError("secret-detail-from-a-bug")

    @roles_required("nurse")
    def explode_signed_in() -> Any:
        raise KeyError("another-secret")

    app.add_url_rule("/test-only/explode", "explode", explode)
    app.add_url_rule("/test-only/explode-signed-in", "explode_signed_in", explode_signed_in)
    return app


def test_500_page_leaks_nothing(broken, client, staff) -> None:
    page = assert_error_page(
        client.get("/test-only/explode"), 500, "Something went wrong on our side"
    )
    assert "secret-detail" not in page and "Traceback" not in page and "RuntimeError" not in page
    sign_in(client, "nurse1")
    page = assert_error_page(
        client.get("/test-only/explode-signed-in"), 500, "Something went wrong on our side"
    )
    assert "another-secret" not in page and "KeyError" not in page
    assert labels(page) == ["Window", "Stock", "Reports"]


def test_the_api_still_answers_errors_in_json(client) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
