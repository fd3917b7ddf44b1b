"""Idle sign-out: a page's own background requests (``X-Mat-Background: 1``, the nurse queue's
refresh, the idle notice asking how long is left) are not activity; a person's request and the
notice's "Stay signed in" are."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.auth.test_pages import sign_in
from tests.auth.test_sessions import open_sessions

BACKGROUND = {"X-Mat-Background": "1"}


def csrf_meta(client) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match, page
    return match.group(1)


def test_a_background_request_after_14_minutes_does_not_keep_the_session(
    client, clock, staff
) -> None:
    sign_in(client, "nurse1")
    clock.now += timedelta(minutes=14)
    assert client.get("/", headers=BACKGROUND).status_code == 200  # still signed in
    clock.now += timedelta(minutes=1, seconds=1)  # 15 min after the last real activity
    response = client.get("/", headers=BACKGROUND)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_normal_request_after_14_minutes_keeps_the_session(client, clock, staff) -> None:
    sign_in(client, "nurse1")
    clock.now += timedelta(minutes=14)
    assert client.get("/").status_code == 200
    clock.now += timedelta(minutes=14)
    assert client.get("/").status_code == 200


def test_a_background_request_that_changes_the_session_keeps_last_seen(
    client, clock, staff
) -> None:
    sign_in(client, "nurse1")
    (row,) = open_sessions(staff["nurse"].id)
    seen = row.last_seen_at
    clock.now += timedelta(minutes=5)
    client.get("/?x=1", headers=BACKGROUND)  # a page with forms (its CSRF token in the session)
    (row,) = open_sessions(staff["nurse"].id)
    assert row.last_seen_at == seen


def test_remaining_says_how_long_without_counting_as_activity(client, clock, staff) -> None:
    sign_in(client, "nurse1")
    clock.now += timedelta(minutes=14)
    answer = client.get("/session/remaining", headers=BACKGROUND).get_json()
    assert answer == {"seconds_left": 60}
    clock.now += timedelta(minutes=1)
    answer = client.get("/session/remaining", headers=BACKGROUND).get_json()
    assert answer == {"seconds_left": 0}
    assert client.get("/").status_code == 302


def test_remaining_for_a_visitor_is_zero(client) -> None:
    response = client.get("/session/remaining", headers=BACKGROUND)
    assert response.status_code == 200 and response.get_json() == {"seconds_left": 0}


def test_stay_signed_in_keeps_the_session(client, clock, staff) -> None:
    sign_in(client, "nurse1")
    token = csrf_meta(client)
    clock.now += timedelta(minutes=14, seconds=30)
    response = client.post("/session/keepalive", headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json() == {"seconds_left": 900}
    clock.now += timedelta(minutes=14)
    assert client.get("/session/remaining", headers=BACKGROUND).get_json() == {"seconds_left": 60}
    assert client.get("/").status_code == 200


def test_keepalive_needs_the_csrf_token(client, clock, staff) -> None:
    sign_in(client, "nurse1")
    clock.now += timedelta(minutes=14, seconds=30)
    response = client.post("/session/keepalive")
    assert response.status_code == 400 and response.content_type.startswith("text/html")


def test_keepalive_after_the_end_signs_nobody_back_in(client, clock, staff) -> None:
    sign_in(client, "nurse1")
    token = csrf_meta(client)
    clock.now += timedelta(minutes=15)
    response = client.post("/session/keepalive", headers={"X-CSRFToken": token})
    assert response.status_code in (302, 400)
    assert client.get("/").status_code == 302


def test_the_browser_fetching_the_favicon_or_a_stylesheet_is_not_activity(
    client, clock, staff
) -> None:
    sign_in(client, "nurse1")
    clock.now += timedelta(minutes=14)
    assert client.get("/favicon.ico").status_code == 204
    stylesheet = client.get("/static/mat.css")
    assert stylesheet.status_code == 200
    stylesheet.close()
    clock.now += timedelta(minutes=1)
    assert client.get("/").status_code == 302
