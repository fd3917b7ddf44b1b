"""Windows pressing "give" at the same moment: exactly one dose, on SQLite and on PostgreSQL.

Each thread is its own client with its own database connection, as two gunicorn workers are;
a barrier releases them together.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from mat.audit.verify import verify_chain
from mat.dosing.models import Dose
from tests.support.checks import count

WINDOWS = 4


def _race(
    app: Flask, tokens: list[str], path: str, body: dict[str, Any], key: str | None
) -> list[int]:
    start = threading.Barrier(len(tokens))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def window(token: str) -> None:
        try:
            client = FlaskClient(app, app.response_class, use_cookies=False)
            headers = {"Authorization": f"Bearer {token}"}
            if key:
                headers["Idempotency-Key"] = key
            start.wait()
            statuses.append(client.post(path, json=body, headers=headers).status_code)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=window, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return sorted(statuses)


def test_simultaneous_doses_store_exactly_one(app, factory, patient, sign_order) -> None:
    sign_order(patient)
    nurses = [factory.user("nurse", username=f"window{n}") for n in range(WINDOWS)]
    tokens = [factory.token(n) for n in nurses]
    statuses = _race(app, tokens, f"/api/v1/patients/{patient.id}/doses", {"amount_mg": 40}, None)
    assert statuses == [201] + [409] * (WINDOWS - 1)
    assert count(Dose) == 1
    assert verify_chain().ok


def test_simultaneous_retries_of_one_request_answer_the_same_dose(
    app, factory, staff, patient, sign_order
) -> None:
    sign_order(patient)
    token = factory.token(staff["nurse"])
    statuses = _race(
        app, [token] * WINDOWS, f"/api/v1/patients/{patient.id}/doses", {"amount_mg": 40}, "tap-1"
    )
    assert statuses == [200] * (WINDOWS - 1) + [201]
    assert count(Dose) == 1


def test_simultaneous_take_homes_are_handed_out_once(
    app, api, factory, staff, patient, sign_order, take_home_criteria
) -> None:
    from tests.dosing.test_take_homes_api import SATURDAY, SUNDAY

    sign_order(patient, take_home={"weekdays": ["sat", "sun"], "criteria": take_home_criteria})
    api(
        "post",
        f"/api/v1/patients/{patient.id}/drug-screens",
        as_=staff["nurse"],
        json={"collected_on": "2026-11-16", "results": {"fentanyl": "negative"}},
    )
    nurses = [factory.user("nurse", username=f"th{n}") for n in range(WINDOWS)]
    tokens = [factory.token(n) for n in nurses]
    body = {"dates": [SATURDAY.isoformat(), SUNDAY.isoformat()]}
    statuses = _race(app, tokens, f"/api/v1/patients/{patient.id}/take-homes", body, None)
    assert statuses == [201] + [409] * (WINDOWS - 1)
    assert count(Dose) == 2
