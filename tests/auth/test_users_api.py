from __future__ import annotations

import pytest

from mat.auth.models import User
from tests.support.checks import assert_error, count

NEW_USER = {
    "username": "nurse.kim",
    "password": "a-long-enough-password",
    "full_name": "Nurse Kim",
    "initials": "nk",
    "roles": ["nurse"],
}


def test_admin_creates_a_user_who_can_sign_in(api, client, staff) -> None:
    response = api("post", "/api/v1/users", as_=staff["admin"], json=NEW_USER)
    assert response.status_code == 201
    body = response.get_json()
    assert body["username"] == "nurse.kim" and body["roles"] == ["nurse"]
    assert body["initials"] == "NK" and "password" not in body
    token = client.post(
        "/api/v1/tokens", json={"username": "nurse.kim", "password": NEW_USER["password"]}
    )
    assert token.status_code == 201


def test_a_user_may_hold_several_roles(api, staff) -> None:
    response = api(
        "post",
        "/api/v1/users",
        as_=staff["admin"],
        json={**NEW_USER, "roles": ["prescriber", "nurse"]},
    )
    assert response.get_json()["roles"] == ["nurse", "prescriber"]


def test_duplicate_username_is_409_and_changes_nothing(api, staff) -> None:
    before = count(User)
    response = api(
        "post", "/api/v1/users", as_=staff["admin"], json={**NEW_USER, "username": "nurse1"}
    )
    assert_error(response, 409, "duplicate_username")
    assert count(User) == before


@pytest.mark.parametrize("role", ["nurse", "prescriber", "auditor"])
def test_only_admins_create_users(api, staff, role) -> None:
    before = count(User)
    assert_error(api("post", "/api/v1/users", as_=staff[role], json=NEW_USER), 403, "forbidden")
    assert count(User) == before


def test_unauthenticated_is_401_even_with_a_bad_body(api) -> None:
    assert_error(api("post", "/api/v1/users", json={"nonsense": 1}), 401)


@pytest.mark.parametrize(
    "field, value",
    [
        ("roles", ["janitor"]),
        ("roles", []),
        ("password", "short"),
        ("initials", "A"),
        ("initials", "A1"),
        ("username", "Has Spaces"),
        ("full_name", ""),
    ],
)
def test_invalid_user_fields_are_422(api, staff, field, value) -> None:
    before = count(User)
    error = assert_error(
        api("post", "/api/v1/users", as_=staff["admin"], json={**NEW_USER, field: value}), 422
    )
    assert field in error["fields"] or any(k.startswith(field) for k in error["fields"])
    assert count(User) == before


def test_unknown_fields_are_refused(api, staff) -> None:
    error = assert_error(
        api("post", "/api/v1/users", as_=staff["admin"], json={**NEW_USER, "is_superuser": True}),
        422,
    )
    assert "is_superuser" in error["fields"]
