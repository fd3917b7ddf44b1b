"""Accounts through the API: token revocation, deactivation and role changes that end every
token and session at once, the last administrator, listing, and password resets by code."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.auth.models import PasswordReset, User
from mat.extensions import db
from tests.auth.test_pages import csrf_token
from tests.support.checks import assert_error, audited_refusals
from tests.support.factories import PASSWORD


def token_of(client, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def me(client, token: str):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# ---- tokens ---------------------------------------------------------------------------------


def test_a_revoked_token_stops_working_at_once_and_others_do_not(client, staff) -> None:
    first, second = token_of(client, "nurse1"), token_of(client, "nurse1")
    response = client.delete("/api/v1/tokens/current", headers={"Authorization": f"Bearer {first}"})
    assert response.status_code == 204 and response.get_data() == b""
    assert_error(me(client, first), 401, "unauthorized")
    assert me(client, second).status_code == 200
    assert [e.username for e in events("auth.token_revoked")] == ["nurse1"]


def test_revoking_needs_a_token(client) -> None:
    assert_error(client.delete("/api/v1/tokens/current"), 401)


# ---- deactivation and roles -------------------------------------------------------------------


def test_deactivation_ends_every_token_and_the_user_cannot_sign_in(api, client, staff) -> None:
    tokens = [token_of(client, "nurse1") for _ in range(2)]
    response = api(
        "patch", f"/api/v1/users/{staff['nurse'].id}", as_=staff["admin"], json={"active": False}
    )
    assert response.status_code == 200
    for token in tokens:
        assert_error(me(client, token), 401)
    assert_error(
        client.post("/api/v1/tokens", json={"username": "nurse1", "password": PASSWORD}), 401
    )
    (event,) = events("user.update")
    detail = json.loads(event.detail)
    assert detail["before"]["active"] is True and detail["after"]["active"] is False
    assert detail["tokens_revoked"] == 2
    reactivated = api(
        "patch", f"/api/v1/users/{staff['nurse'].id}", as_=staff["admin"], json={"active": True}
    )
    assert reactivated.get_json()["active"] is True
    assert me(client, token_of(client, "nurse1")).status_code == 200


def test_a_role_change_ends_tokens_and_the_new_roles_apply(api, client, staff) -> None:
    token = token_of(client, "nurse1")
    response = api(
        "patch",
        f"/api/v1/users/{staff['nurse'].id}",
        as_=staff["admin"],
        json={"roles": ["nurse", "prescriber"]},
    )
    assert response.get_json()["roles"] == ["nurse", "prescriber"]
    assert_error(me(client, token), 401)
    assert me(client, token_of(client, "nurse1")).get_json()["roles"] == ["nurse", "prescriber"]


def test_the_same_roles_again_end_nothing(api, client, staff) -> None:
    token = token_of(client, "nurse1")
    api(
        "patch", f"/api/v1/users/{staff['nurse'].id}", as_=staff["admin"], json={"roles": ["nurse"]}
    )
    assert me(client, token).status_code == 200


@pytest.mark.parametrize("change", [{"active": False}, {"roles": ["auditor"]}])
def test_the_last_active_admin_stays_an_admin(api, staff, change) -> None:
    response = api("patch", f"/api/v1/users/{staff['admin'].id}", as_=staff["admin"], json=change)
    assert_error(response, 409, "last_admin")
    db.session.expire_all()
    admin = db.session.get(User, staff["admin"].id)
    assert admin.active and admin.role_names == {"admin"}


def test_with_a_second_admin_the_first_may_step_down(api, factory, staff) -> None:
    factory.user("admin", username="boss2")
    response = api(
        "patch", f"/api/v1/users/{staff['admin'].id}", as_=staff["admin"], json={"active": False}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body", [{}, {"roles": []}, {"roles": ["janitor"]}, {"active": "no"}, {"password": "x" * 20}]
)
def test_bad_user_changes_are_422_and_change_nothing(api, staff, body) -> None:
    assert_error(
        api("patch", f"/api/v1/users/{staff['nurse'].id}", as_=staff["admin"], json=body), 422
    )
    db.session.expire_all()
    assert db.session.get(User, staff["nurse"].id).role_names == {"nurse"}


@pytest.mark.parametrize("role", ["nurse", "prescriber", "auditor"])
def test_only_admins_change_users(api, staff, role) -> None:
    response = api(
        "patch", f"/api/v1/users/{staff['nurse2'].id}", as_=staff[role], json={"active": False}
    )
    assert_error(response, 403)
    assert_error(api("get", "/api/v1/users", as_=staff[role]), 403)
    assert_error(
        api("post", f"/api/v1/users/{staff['nurse2'].id}/password-reset", as_=staff[role]), 403
    )


def test_an_unknown_user_is_404(api, staff) -> None:
    assert_error(
        api("patch", "/api/v1/users/4242", as_=staff["admin"], json={"active": False}), 404
    )


def test_admins_list_users_without_any_password(api, staff) -> None:
    body = api("get", "/api/v1/users", as_=staff["admin"]).get_json()
    assert [u["username"] for u in body] == sorted(u.username for u in staff.values())
    assert all(set(u) == {"id", "username", "full_name", "initials", "roles", "active",
                          "locked_until"} for u in body)  # fmt: skip


# ---- password reset by one-time code -----------------------------------------------------------


def issue(api, staff, user: str = "nurse") -> str:
    response = api("post", f"/api/v1/users/{staff[user].id}/password-reset", as_=staff["admin"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"code", "expires_at", "user"}
    return body["code"]


def test_a_reset_code_lets_the_user_choose_a_password_and_ends_old_access(
    api, client, staff
) -> None:
    old_token = token_of(client, "nurse1")
    code = issue(api, staff)
    stored = db.session.scalars(select(PasswordReset)).one()
    assert code not in stored.code_hash and stored.used_at is None
    new = "my own new password"
    response = client.post(
        "/api/v1/password-resets/redeem",
        json={"username": "nurse1", "code": code.lower(), "new_password": new},
    )
    assert response.status_code == 204
    assert_error(me(client, old_token), 401)
    assert me(client, token_of(client, "nurse1", new)).status_code == 200
    assert_error(
        client.post("/api/v1/tokens", json={"username": "nurse1", "password": PASSWORD}), 401
    )
    again = client.post(
        "/api/v1/password-resets/redeem",
        json={"username": "nurse1", "code": code, "new_password": "yet another password"},
    )
    assert_error(again, 401, "bad_reset_code")  # used once
    # The trail says who issued and who used it; the code itself is nowhere in it.
    trail = " ".join(e.detail for e in db.session.scalars(select(AuditEvent)))
    assert code not in trail and new not in trail
    assert events("user.password_reset_issued") and events("user.password_reset")


@pytest.mark.parametrize(
    "username, code_of, password, status, code",
    [
        (
            "nurse1",
            lambda c: "AAAAA-AAAAA-AAAAA-AAAAA",
            "a fine new password",
            401,
            "bad_reset_code",
        ),
        ("nurse2", lambda c: c, "a fine new password", 401, "bad_reset_code"),  # another user's
        ("nurse1", lambda c: c, "short", 422, "invalid_input"),
    ],
)
def test_bad_redemptions_are_refused_and_change_nothing(
    api, client, staff, username, code_of, password, status, code
) -> None:
    issued = issue(api, staff)
    response = client.post(
        "/api/v1/password-resets/redeem",
        json={"username": username, "code": code_of(issued), "new_password": password},
    )
    assert_error(response, status, code)
    assert token_of(client, "nurse1")  # the old password still works
    assert db.session.scalars(select(PasswordReset)).one().used_at is None


def test_a_reset_code_expires_after_24_hours(api, client, clock, staff) -> None:
    code = issue(api, staff)
    clock.now += timedelta(hours=24)
    response = client.post(
        "/api/v1/password-resets/redeem",
        json={"username": "nurse1", "code": code, "new_password": "a fine new password"},
    )
    assert_error(response, 401, "bad_reset_code")


def test_a_new_code_cancels_the_previous_one(api, client, staff) -> None:
    first, second = issue(api, staff), issue(api, staff)
    body = {"username": "nurse1", "new_password": "a fine new password"}
    assert_error(client.post("/api/v1/password-resets/redeem", json={**body, "code": first}), 401)
    assert (
        client.post("/api/v1/password-resets/redeem", json={**body, "code": second}).status_code
        == 204
    )


def test_the_reset_page_sets_the_password(api, client, staff) -> None:
    code = issue(api, staff)
    form = {
        "username": "nurse1",
        "code": code,
        "new_password": "chosen on the page",
        "repeat": "chosen on the page",
        "csrf_token": csrf_token(client),
    }
    response = client.post("/password-reset", data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "new password is set" in client.get("/login").get_data(as_text=True)
    assert token_of(client, "nurse1", "chosen on the page")


def test_the_reset_page_refuses_a_mismatch_and_a_wrong_code(api, client, staff) -> None:
    code = issue(api, staff)
    base = {"username": "nurse1", "new_password": "chosen on the page", "code": code}
    mismatch = client.post(
        "/password-reset",
        data={**base, "repeat": "something else", "csrf_token": csrf_token(client)},
    )
    assert mismatch.status_code == 422 and "differ" in mismatch.get_data(as_text=True)
    # No service refused it: the commit hook records the page's 4xx, once.
    assert audited_refusals() == [(422, "http_422", None)]
    wrong = client.post(
        "/password-reset",
        data={
            **base,
            "code": "WRONG",
            "repeat": base["new_password"],
            "csrf_token": csrf_token(client),
        },
    )
    assert wrong.status_code == 401 and "reset code is wrong" in wrong.get_data(as_text=True)
    assert token_of(client, "nurse1")
    assert audited_refusals()[1:] == [(401, "bad_reset_code", None)]  # audited once, by the page
