"""The admin's user screens: list, create with a one-time code, roles, deactivate/activate,
unlock and password reset, through the same services as the API and the CLI."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.auth.models import PasswordReset, User
from mat.extensions import db
from tests.admin.conftest import form_post, hidden, text_of
from tests.auth.test_pages import sign_in
from tests.support.checks import count

CODE = re.compile(r"[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}")
NEW_NURSE = {
    "username": "j.rivera",
    "full_name": "Jo Rivera",
    "initials": "jr",
    "roles": ["nurse"],
}
# Every admin page and form, and what a non-admin may not do there.
ADMIN_GETS = ["/admin/users", "/admin/patients", "/admin/closures", "/admin/settings"]


def create(admin: Any, **overrides: Any) -> Any:
    return form_post(admin, "/admin/users", "/admin/users", {**NEW_NURSE, **overrides})


def user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def actions(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == name)))


def redeem(client: Any, username: str, code: str, password: str) -> Any:
    page = client.get("/password-reset").get_data(as_text=True)
    return client.post(
        "/password-reset",
        data={
            "csrf_token": hidden(page, "csrf_token"),
            "username": username,
            "code": code,
            "new_password": password,
            "repeat": password,
        },
    )


# ---- who may ---------------------------------------------------------------------------


def test_a_signed_out_visitor_is_sent_to_sign_in(client) -> None:
    for path in ADMIN_GETS:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["nurse", "prescriber", "auditor"])
def test_every_other_role_is_refused_every_page_and_form(client, staff, role) -> None:
    target = staff["admin"]
    sign_in(client, staff[role].username)
    for path in [*ADMIN_GETS, f"/admin/users/{target.id}"]:
        assert client.get(path).status_code == 403, path
    csrf = hidden(client.get("/").get_data(as_text=True), "csrf_token")
    posts = {
        "/admin/users": {**NEW_NURSE, "token": "t1"},
        f"/admin/users/{target.id}/roles": {"roles": ["nurse"]},
        f"/admin/users/{target.id}/active": {"action": "deactivate"},
        f"/admin/users/{target.id}/unlock": {},
        f"/admin/users/{target.id}/password-reset": {"token": "t2"},
        "/admin/patients": {"mrn": "X-1", "token": "t3"},
        "/admin/patients/search": {"q": "a"},
        "/admin/closures": {"date": "2026-12-25", "reason": "Holiday", "token": "t4"},
    }
    users_before, resets_before = count(User), count(PasswordReset)
    for path, data in posts.items():
        assert client.post(path, data={"csrf_token": csrf, **data}).status_code == 403, path
    assert count(User) == users_before and count(PasswordReset) == resets_before
    db.session.refresh(target)
    assert target.active and target.role_names == {"admin"}


# ---- the list --------------------------------------------------------------------------


def test_the_list_shows_each_user_with_roles_and_state(admin, staff, factory, clock) -> None:
    locked = factory.user("nurse", username="locked.out")
    locked.locked_until = clock.now + timedelta(minutes=10)
    gone = factory.user("auditor", username="gone")
    gone.active = False
    db.session.commit()
    page = text_of(admin.get("/admin/users"))
    for u in staff.values():
        assert u.username in page and u.full_name in page
    row = re.search(r"locked\.out</a></th>.*?</tr>", page, re.S).group(0)
    assert "locked until" in row
    row = re.search(r"gone</a></th>.*?</tr>", page, re.S).group(0)
    assert "deactivated" in row and "auditor" in row


# ---- create ----------------------------------------------------------------------------


def test_creating_a_user_shows_the_one_time_code_once(admin, client, staff) -> None:
    response = create(admin)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = text_of(response)
    code = CODE.search(page).group(0)
    assert "j.rivera is created" in page and "Valid until" in page
    created = user("j.rivera")
    assert created.full_name == "Jo Rivera" and created.initials == "JR"
    assert created.role_names == {"nurse"} and created.active
    assert [json.loads(e.detail)["username"] for e in actions("user.create")] == ["j.rivera"]
    assert len(actions("user.password_reset_issued")) == 1
    # The code is nowhere to be read again: not on the list, not on the user's page, not stored.
    assert code not in admin.get("/admin/users").get_data(as_text=True)
    assert code not in admin.get(f"/admin/users/{created.id}").get_data(as_text=True)
    stored = db.session.scalar(select(PasswordReset).where(PasswordReset.user_id == created.id))
    assert code not in stored.code_hash
    # Nobody knows the new user's password until they set it with the code.
    client.post("/logout", data={"csrf_token": hidden(page, "csrf_token")})
    assert sign_in(client, "j.rivera", "anything-at-all").status_code == 401
    assert redeem(client, "j.rivera", code, "my own long password").status_code == 302
    assert sign_in(client, "j.rivera", "my own long password").status_code == 302
    assert client.get("/window").status_code == 200


def test_a_double_click_creates_one_user(admin) -> None:
    page = admin.get("/admin/users").get_data(as_text=True)
    data = {"csrf_token": hidden(page, "csrf_token"), "token": hidden(page, "token"), **NEW_NURSE}
    assert admin.post("/admin/users", data=data).status_code == 200
    second = admin.post("/admin/users", data=data)
    assert second.status_code == 409
    text = text_of(second)
    assert "already sent" in text and "nothing was done a second time" in text
    assert CODE.search(text) is None
    assert len(actions("user.create")) == 1 and len(actions("user.password_reset_issued")) == 1


def test_a_form_without_its_token_is_refused(admin) -> None:
    page = admin.get("/admin/users").get_data(as_text=True)
    response = admin.post(
        "/admin/users", data={"csrf_token": hidden(page, "csrf_token"), **NEW_NURSE}
    )
    assert response.status_code == 422 and user("j.rivera") is None
    assert "reload the page" in text_of(response)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("username", "Jo Rivera", "Use 2-80 lower-case letters"),
        ("username", "", "Fill this in."),
        ("full_name", "", "Fill this in."),
        ("full_name", "Jo\u202eRivera", "invisible direction control"),
        ("initials", "J1", "Use 2-4 letters."),
        ("roles", [], "Choose at least one."),
        ("roles", ["superuser"], "Choose one of the listed options."),
    ],
)
def test_a_bad_new_user_is_refused_in_plain_words(admin, field, value, words) -> None:
    before = count(User)
    response = create(admin, **{field: value})
    assert response.status_code == 422
    text = text_of(response)
    assert words in text and "The new user is not valid" in text and "Nothing was changed" in text
    for schema_talk in ("Missing data", "Length must", "invalid_input", "status 422", "Must be"):
        assert schema_talk not in text
    assert count(User) == before and count(PasswordReset) == 0
    # What the admin typed is still in the form.
    if field != "full_name":
        assert 'value="Jo Rivera"' in text


def test_a_taken_username_is_refused(admin, staff) -> None:
    response = create(admin, username="nurse1")
    assert response.status_code == 409
    text = text_of(response)
    assert "The username 'nurse1' is taken; each person has their own login." in text
    assert "duplicate_username" not in text
    assert count(User) == len(staff) and count(PasswordReset) == 0


# ---- one user: roles, deactivate, unlock, reset --------------------------------------------


def test_roles_are_changed_and_the_user_signed_out(admin, client, staff) -> None:
    nurse = staff["nurse"]
    response = form_post(
        admin, f"/admin/users/{nurse.id}", f"/admin/users/{nurse.id}/roles",
        {"roles": ["nurse", "prescriber"]},
    )  # fmt: skip
    assert response.status_code == 303
    db.session.refresh(nurse)
    assert nurse.role_names == {"nurse", "prescriber"}
    after = json.loads(actions("user.update")[-1].detail)["after"]
    assert after["roles"] == ["nurse", "prescriber"]


def test_no_roles_is_refused_and_nothing_changes(admin, staff) -> None:
    nurse = staff["nurse"]
    response = form_post(admin, f"/admin/users/{nurse.id}", f"/admin/users/{nurse.id}/roles", {})
    assert response.status_code == 422
    assert "Choose at least one." in text_of(response)
    db.session.refresh(nurse)
    assert nurse.role_names == {"nurse"} and actions("user.update") == []


def test_a_deactivated_user_cannot_sign_in_until_activated(admin, client, staff) -> None:
    nurse = staff["nurse"]
    path = f"/admin/users/{nurse.id}"
    response = form_post(admin, path, f"{path}/active", {"action": "deactivate"})
    assert response.status_code == 303
    db.session.refresh(nurse)
    assert nurse.active is False
    assert "deactivated" in text_of(admin.get(path))
    other = client.application.test_client()
    assert sign_in(other, "nurse1").status_code == 401
    assert form_post(admin, path, f"{path}/active", {"action": "activate"}).status_code == 303
    assert sign_in(other, "nurse1").status_code == 302


def test_an_unknown_action_changes_nothing(admin, staff) -> None:
    nurse = staff["nurse"]
    path = f"/admin/users/{nurse.id}"
    assert form_post(admin, path, f"{path}/active", {"action": "no"}).status_code == 422
    db.session.refresh(nurse)
    assert nurse.active is True


def test_the_last_administrator_stays(admin, staff) -> None:
    boss = staff["admin"]
    path = f"/admin/users/{boss.id}"
    response = form_post(admin, path, f"{path}/active", {"action": "deactivate"})
    assert response.status_code == 409
    text = text_of(response)
    assert "This is the last active administrator" in text and "last_admin" not in text
    assert 'name="roles" value="admin" checked' in text  # the roles as they stand
    response = form_post(admin, path, f"{path}/roles", {"roles": ["nurse"]})
    assert response.status_code == 409
    db.session.refresh(boss)
    assert boss.active and boss.role_names == {"admin"}


def test_a_locked_user_is_unlocked(admin, staff, clock) -> None:
    nurse = staff["nurse"]
    nurse.failed_logins, nurse.locked_until = 0, clock.now + timedelta(minutes=10)
    db.session.commit()
    path = f"/admin/users/{nurse.id}"
    assert "Unlock now" in text_of(admin.get(path))
    assert form_post(admin, path, f"{path}/unlock", {}).status_code == 303
    db.session.refresh(nurse)
    assert nurse.locked_until is None
    assert "Unlock now" not in text_of(admin.get(path))
    assert len(actions("user.unlock")) == 1


def test_a_reset_code_is_shown_once_and_replaces_the_last(admin, client, staff) -> None:
    nurse = staff["nurse"]
    path = f"/admin/users/{nurse.id}"
    first = CODE.search(text_of(form_post(admin, path, f"{path}/password-reset", {}))).group(0)
    page = admin.get(path)
    assert first not in page.get_data(as_text=True)
    response = form_post(admin, path, f"{path}/password-reset", {})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    second = CODE.search(text_of(response)).group(0)
    assert second != first
    other = client.application.test_client()
    assert redeem(other, "nurse1", first, "a brand new password").status_code == 401
    assert redeem(other, "nurse1", second, "a brand new password").status_code == 302
    assert sign_in(other, "nurse1", "a brand new password").status_code == 302


def test_an_unknown_user_is_a_404(admin) -> None:
    assert admin.get("/admin/users/999").status_code == 404
