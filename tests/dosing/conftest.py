"""Dosing-window fixtures: sign an order, read the plan, give a dose, all through the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from tests.orders.test_api import CRITERIA

Call = Callable[..., Any]


@pytest.fixture
def sign_order(api: Call, staff: dict[str, Any], clock: Any) -> Call:
    """``sign_order(patient, dose_mg=40, **body)``: a maintenance methadone order from today."""

    def sign(patient: Any, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "medication": "METH-10MGML",
            "kind": "maintenance",
            "start_date": clock.now.date().isoformat(),
            "dose_mg": 40,
        }
        body.update(overrides)
        body = {k: v for k, v in body.items() if v is not None}
        response = api(
            "post", f"/api/v1/patients/{patient.id}/orders", as_=staff["prescriber"], json=body
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return sign


@pytest.fixture
def plan(api: Call, staff: dict[str, Any]) -> Call:
    def read(patient: Any, day: date | None = None) -> dict[str, Any]:
        query = f"?date={day.isoformat()}" if day else ""
        response = api("get", f"/api/v1/patients/{patient.id}/dose-plan{query}", as_=staff["nurse"])
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return read


@pytest.fixture
def give(api: Call, staff: dict[str, Any]) -> Call:
    """``give(patient, amount_mg, as_=nurse, headers=..., **body)``: POST an observed dose."""

    def post(patient: Any, amount_mg: Any, *, as_: Any = None, headers: Any = None, **body: Any):
        return api(
            "post",
            f"/api/v1/patients/{patient.id}/doses",
            as_=as_ or staff["nurse"],
            json={"amount_mg": amount_mg, **body},
            headers=headers,
        )

    return post


@pytest.fixture
def take_home_criteria() -> dict[str, bool]:
    return dict(CRITERIA)
