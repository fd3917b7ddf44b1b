"""Requests released together from threads, each with its own client and connection (as two
app servers would send them): for tests of what two windows do at the same moment."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

Request = tuple[str, str, dict[str, Any]]  # (bearer token, path, JSON body) of a POST


def race(app: Flask, requests: list[Request]) -> list[tuple[int, Any]]:
    """POST every request at once; each answer's (status, JSON body), in the requests' order."""
    start = threading.Barrier(len(requests))
    answers: list[tuple[int, Any] | None] = [None] * len(requests)
    errors: list[BaseException] = []

    def window(n: int, token: str, path: str, body: dict[str, Any]) -> None:
        try:
            client = FlaskClient(app, app.response_class, use_cookies=False)
            start.wait()
            response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
            answers[n] = (response.status_code, response.get_json())
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [
        threading.Thread(target=window, args=(n, *request)) for n, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert all(answer is not None for answer in answers)
    return answers  # type: ignore[return-value]
