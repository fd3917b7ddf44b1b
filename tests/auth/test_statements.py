"""What an authenticated API call costs the database before its own work."""

from __future__ import annotations

from tests.support.statements import statements


def test_bearer_auth_is_one_statement(client, factory, staff) -> None:
    headers = {"Authorization": f"Bearer {factory.token(staff['nurse'])}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with statements() as seen:
        response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["roles"] == ["nurse"]
    assert len(seen) == 1, seen
