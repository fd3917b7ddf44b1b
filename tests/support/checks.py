"""Assertions shared by the API tests: the contract's error shape, and "nothing changed"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from mat.extensions import db


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0
