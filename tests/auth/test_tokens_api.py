from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mat.auth.models import ApiToken
from mat.database import utcnow
from mat.extensions import db
from tests.support.checks import assert_error
from tests.support.factories import PASSWORD


def test_token_for_good_credentials(client, staff) -> None:
    response = client.post("/api/v1/tokens", json={"username": "nurse1", "password": PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"] == {
        "id": staff["nurse"].id,
        "username": "nurse1",
        "full_name": staff["nurse"].full_name,
        "initials": "TU",
        "roles": ["nurse"],
    }
    assert body["expires_at"].endswith("+00:00")
    stored = db.session.scalars(select(ApiToken)).all()
    assert len(stored) == 1 and stored[0].token_hash != body["token"]  # stored hashed only
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.get_json()["username"] == "nurse1"


def test_wrong_password_and_unknown_user_answer_the_same_401(client, staff) -> None:
    wrong = client.post("/api/v1/tokens", json={"username": "nurse1", "password": "nope" * 4})
    unknown = client.post("/api/v1/tokens", json={"username": "ghost", "password": PASSWORD})
    assert assert_error(wrong, 401, "bad_credentials") == assert_error(
        unknown, 401, "bad_credentials"
    )


def test_repeated_failures_from_one_address_are_rate_limited(client, staff) -> None:
    # Ten names, one wrong try each: no account locks, the address does.
    for n in range(10):
        response = client.post("/api/v1/tokens", json={"username": f"name{n}", "password": "x"})
        assert response.status_code == 401
    limited = client.post("/api/v1/tokens", json={"username": "nurse1", "password": PASSWORD})
    assert_error(limited, 429, "too_many_requests")


def test_successful_sign_ins_are_not_counted_against_the_limit(client, staff) -> None:
    for _ in range(12):
        response = client.post("/api/v1/tokens", json={"username": "nurse1", "password": PASSWORD})
        assert response.status_code == 201


def test_malformed_json_is_400(client) -> None:
    response = client.post("/api/v1/tokens", data="{not json", content_type="application/json")
    assert_error(response, 400)


def test_missing_fields_are_422_with_fields(client) -> None:
    error = assert_error(client.post("/api/v1/tokens", json={"username": "x"}), 422)
    assert "password" in error["fields"]


def test_me_without_token_is_401(client) -> None:
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}), 401)
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401)


def test_expired_token_is_refused(api, factory, staff) -> None:
    token = factory.token(staff["nurse"])
    row = db.session.scalars(select(ApiToken)).one()
    # Tokens are not append-only records; expiring one by hand is how a test travels in time.
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = api("get", "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401)


def test_inactive_user_cannot_sign_in_or_use_a_token(client, api, factory, staff) -> None:
    token = factory.token(staff["nurse"])
    staff["nurse"].active = False
    db.session.commit()
    assert_error(
        client.post("/api/v1/tokens", json={"username": "nurse1", "password": PASSWORD}), 401
    )
    assert_error(api("get", "/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401)
