from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from mat.auth.access import roles_required
from tests.support.checks import audited_refusals
from tests.support.factories import PASSWORD


def csrf_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def sign_in(client, username: str, password: str = PASSWORD, next_: str | None = None):
    url = "/login" + (f"?next={next_}" if next_ else "")
    return client.post(
        url, data={"username": username, "password": password, "csrf_token": csrf_token(client)}
    )


def test_home_needs_a_signed_in_user(client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sign_in_shows_the_home_page_of_each_role(client, factory) -> None:
    factory.user("nurse", "prescriber", username="both")
    response = sign_in(client, "both")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Dosing window" in page and "Charts and orders" in page and "Audit" not in page


@pytest.mark.parametrize(
    "role, title",
    [
        ("nurse", "Dosing window"),
        ("prescriber", "Charts and orders"),
        ("auditor", "Audit"),
        ("admin", "Administration"),
    ],
)
def test_each_role_has_a_home(client, factory, role, title) -> None:
    factory.user(role, username="someone")
    sign_in(client, "someone")
    assert title in client.get("/").get_data(as_text=True)


def test_wrong_password_shows_the_form_again_with_401(client, staff) -> None:
    response = sign_in(client, "nurse1", "wrong-password")
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)
    assert audited_refusals() == [
        (401, "bad_credentials", None)
    ]  # audited once, by the sign-in page
    assert client.get("/").status_code == 302


def test_sign_in_without_csrf_token_is_refused(client, staff) -> None:
    response = client.post("/login", data={"username": "nurse1", "password": PASSWORD})
    assert response.status_code in (400, 200)
    assert client.get("/").status_code == 302


def test_next_only_goes_to_this_site(client, staff) -> None:
    response = sign_in(client, "nurse1", next_="https://evil.example/")
    assert response.headers["Location"] == "/"


def test_sign_out(client, staff) -> None:
    sign_in(client, "nurse1")
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)
    ).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("idle, signed_in", [(timedelta(minutes=14, seconds=59), True),
                                             (timedelta(minutes=15), False)])  # fmt: skip
def test_the_server_ends_a_session_idle_for_15_minutes(client, clock, staff, idle, signed_in):
    sign_in(client, "nurse1")
    assert client.get("/").status_code == 200
    clock.now += idle
    assert client.get("/").status_code == (200 if signed_in else 302)


def test_a_view_that_declares_no_roles_is_closed(app: Flask, client, staff) -> None:
    @app.route("/forgotten")
    def forgotten() -> str:
        return "open door"

    @app.route("/nurses-only")
    @roles_required("nurse")
    def nurses_only() -> str:
        return "ok"

    sign_in(client, "nurse1")
    assert client.get("/forgotten").status_code == 403
    assert client.get("/nurses-only").get_data(as_text=True) == "ok"


def test_every_registered_view_declares_its_roles(app: Flask) -> None:
    from mat.auth.access import PUBLIC_ENDPOINTS

    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in PUBLIC_ENDPOINTS and getattr(view, "mat_roles", None) is None
    ]
    assert undeclared == []


def test_html_errors_are_pages(client, staff) -> None:
    sign_in(client, "nurse1")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")
    assert "Page not found" in response.get_data(as_text=True)


def test_the_favicon_answers_without_a_refusal_in_the_trail(client) -> None:
    from mat.audit.models import AuditEvent
    from tests.support.checks import count

    assert client.get("/favicon.ico").status_code == 204
    assert count(AuditEvent) == 0


def test_the_auditor_home_links_the_trail_and_the_reports(client, staff) -> None:
    sign_in(client, "audit")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/audit"' in page and 'href="/reports"' in page
