"""Browser sessions live on the server: the cookie is an opaque id; signing out, deactivation and
a role change end the session for every copy of the cookie; nothing of a patient's is in it."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from mat.auth.models import UserSession
from mat.extensions import db
from tests.auth.test_pages import sign_in
from tests.support.factories import PASSWORD


def session_cookie(client: Any) -> str | None:
    cookie = client.get_cookie("session")
    return None if cookie is None else cookie.value


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def open_sessions(user_id: int) -> list[UserSession]:
    stmt = select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    return list(db.session.scalars(stmt))


def test_the_cookie_is_an_opaque_id_and_the_state_is_on_the_server(client, staff) -> None:
    sign_in(client, "nurse1")
    sid = session_cookie(client)
    assert sid is not None and re.fullmatch(r"[A-Za-z0-9_-]{43}", sid)
    client.get("/")  # a page with a form: its CSRF token is kept in the session
    (row,) = open_sessions(staff["nurse"].id)
    assert sid not in row.sid_hash  # only the id's hash is stored
    assert "_user_id" in row.data and "csrf_token" in row.data


def test_signing_in_starts_a_new_session_id(client, staff) -> None:
    client.get("/login")  # an anonymous session (the form's CSRF token)
    before = session_cookie(client)
    sign_in(client, "nurse1")
    after = session_cookie(client)
    assert before is not None and after is not None and before != after
    stale = db.session.scalar(select(UserSession).where(UserSession.user_id.is_(None)))
    assert stale is None or stale.ended_at is not None


def test_a_copied_cookie_stops_working_at_sign_out(app, client, staff) -> None:
    sign_in(client, "nurse1")
    copy = app.test_client()
    copy.set_cookie("session", session_cookie(client))
    assert copy.get("/").status_code == 200  # the copy works while the session lives
    token = csrf_of(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert copy.get("/").status_code == 302 and "/login" in copy.get("/").headers["Location"]
    assert open_sessions(staff["nurse"].id) == []
    ended = db.session.scalars(select(UserSession.ended_reason)).all()
    assert "signed out" in ended


def test_deactivating_a_user_ends_their_sessions(api, client, staff) -> None:
    sign_in(client, "nurse1")
    assert client.get("/").status_code == 200
    response = api(
        "patch", f"/api/v1/users/{staff['nurse'].id}", as_=staff["admin"], json={"active": False}
    )
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert client.get("/").status_code == 302


def test_changing_roles_ends_sessions_so_pages_follow_the_new_roles(api, client, staff) -> None:
    sign_in(client, "nurse1")
    assert client.get("/window").status_code == 200
    api(
        "patch",
        f"/api/v1/users/{staff['nurse'].id}",
        as_=staff["admin"],
        json={"roles": ["auditor"]},
    )
    assert client.get("/window").status_code == 302  # signed out
    sign_in(client, "nurse1")
    assert client.get("/window").status_code == 403


def test_no_patient_text_travels_in_the_cookie(client, staff, patient, sign_order) -> None:
    sign_in(client, "nurse1")
    page = client.get(f"/window/{patient.id}").get_data(as_text=True)
    response = client.post(
        f"/window/{patient.id}/hold",
        data={"csrf_token": csrf_of(page), "reason": "Appears sedated, smells of alcohol"},
    )
    assert response.status_code == 303
    headers = " ".join(response.headers.getlist("Set-Cookie"))
    assert "sedated" not in headers and "alcohol" not in headers
    shown = client.get(f"/window/{patient.id}").get_data(as_text=True)
    assert "Appears sedated" in shown  # the flash message came from the server's session


def test_an_unknown_or_forged_session_id_is_a_new_anonymous_session(client, staff) -> None:
    client.set_cookie("session", "forged-" + "A" * 36)
    assert client.get("/").status_code == 302
    client.set_cookie("session", "x" * 500)
    assert client.get("/").status_code == 302


def test_a_page_view_does_not_write_the_session_every_time(client, clock, staff) -> None:
    sign_in(client, "nurse1")
    (row,) = open_sessions(staff["nurse"].id)
    seen = row.last_seen_at
    client.get("/")
    db.session.expire_all()
    assert open_sessions(staff["nurse"].id)[0].last_seen_at == seen
    from datetime import timedelta

    clock.now += timedelta(minutes=2)
    client.get("/")
    db.session.expire_all()
    assert open_sessions(staff["nurse"].id)[0].last_seen_at > seen


def test_wrong_password_on_the_page_keeps_no_session_of_the_user(client, staff) -> None:
    response = sign_in(client, "nurse1", "not-" + PASSWORD)
    assert response.status_code == 401
    assert open_sessions(staff["nurse"].id) == []


def test_an_api_call_opens_no_browser_session(api, client, clock, staff) -> None:
    """The API speaks by bearer token only: a browser's session cookie sent along is neither
    read nor written (no Set-Cookie, no activity), and alone it is no credential."""
    from datetime import timedelta

    sign_in(client, "nurse1")
    (row,) = open_sessions(staff["nurse"].id)
    seen = row.last_seen_at
    clock.now += timedelta(minutes=2)  # a page view now would move last_seen_at
    with_token = api("GET", "/api/v1/me", as_=staff["nurse"])
    assert with_token.status_code == 200 and with_token.get_json()["username"] == "nurse1"
    cookie_only = client.get("/api/v1/me")
    assert cookie_only.status_code == 401
    for answer in (with_token, cookie_only):
        assert "Set-Cookie" not in answer.headers
    db.session.expire_all()
    assert open_sessions(staff["nurse"].id)[0].last_seen_at == seen
    assert client.get("/").status_code == 200  # the browser's session is still there
