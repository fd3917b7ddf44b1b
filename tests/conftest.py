"""Fixtures: a migrated database per test (SQLite by default, PostgreSQL with
MAT_TEST_DATABASE=postgresql), the app, an HTTP client, and factories for users and patients.

Each test gets its own database copied from a template that the real migrations built once, so
tests see the real schema (triggers included) and commit for real, as requests do.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

os.environ.setdefault("MAT_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.pop("MAT_DATABASE_URL", None)

from flask import Flask
from flask.testing import FlaskClient

from mat import create_app
from mat.db_cli import bind_migrations
from mat.extensions import db
from tests.support import pg
from tests.support.column_lengths import enforce_lengths
from tests.support.factories import CRITERIA, RATIONALE, Factory

Call = Callable[..., Any]

ENGINE = os.environ.get("MAT_TEST_DATABASE", "sqlite")
enforce_lengths()
_counter = itertools.count()


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    bind_migrations(app)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to copy: a file on SQLite, a template database on PostgreSQL."""
    if ENGINE == "postgresql":
        pg.require()
        name = pg.create_database(f"mat_tpl_{os.getpid()}")
        _migrate(pg.url(name))
        yield name
        pg.drop_database(name)
    else:
        path = tmp_path_factory.mktemp("template") / "mat.sqlite3"
        _migrate(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    if ENGINE == "postgresql":
        name = pg.create_database(
            f"mat_t{os.getpid()}_{next(_counter)}", template=template_database
        )
        yield pg.url(name)
        pg.drop_database(name)
    else:
        path = tmp_path / "mat.sqlite3"
        shutil.copyfile(template_database, path)
        yield f"sqlite:///{path}"


class RequestIsolatingClient(FlaskClient):
    """Each request runs in its own app context, as in production: a fresh ``g`` and its own
    database session. (Flask would otherwise reuse the test's app context, leaking ``g`` and the
    session between requests.) The test's own session is committed before and expired after, so
    what the test reads afterwards is what the request stored."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


# The clinic day every test starts on: a Monday, treatment day 15 of the ``patient`` fixture.
TODAY = date(2026, 11, 16)


# The clinic's zone of the run: CI runs the suite in UTC and in a US zone (MAT_CLINIC_TZ), so a
# test's 09:00 is 09:00 at the clinic, whatever that is in UTC.
ZONE = os.environ.get("MAT_CLINIC_TZ", "UTC")


class Clock:
    """The clinic clock of a test (``MAT_CLOCK``): stands still until the test moves it."""

    def __init__(self, zone: str = ZONE) -> None:
        self.zone = ZoneInfo(zone)
        self.now = datetime.combine(TODAY, time(9, 0), tzinfo=self.zone)

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: date, at: time = time(9, 0)) -> None:
        self.now = datetime.combine(day, at, tzinfo=self.zone)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAT_CLOCK": Clock(),
        }
    )
    app.test_client_class = RequestIsolatingClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def clock(app: Flask) -> Clock:
    return app.config["MAT_CLOCK"]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory(app)


@pytest.fixture
def api(client: FlaskClient, factory: Factory) -> Callable[..., Any]:
    """``api(method, path, as_=user, json=..., headers=...)``: one call through the HTTP stack."""

    def call(method: str, path: str, *, as_: Any = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if as_ is not None:
            headers["Authorization"] = f"Bearer {factory.token(as_)}"
        return client.open(path, method=method.upper(), headers=headers, **kwargs)

    return call


@pytest.fixture
def staff(factory: Factory) -> dict[str, Any]:
    """One user per role, plus a second nurse (witness) and a user with two roles."""
    return {
        "nurse": factory.user("nurse", username="nurse1"),
        "nurse2": factory.user("nurse", username="nurse2"),
        "prescriber": factory.user("prescriber", username="doc"),
        "auditor": factory.user("auditor", username="audit"),
        "admin": factory.user("admin", username="boss"),
    }


@pytest.fixture
def patient(factory: Factory) -> Any:
    return factory.patient(admitted_on=date(2026, 11, 2))


# ---- the dosing window through the API (orders, plans, doses) ----------------------------


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
        if "take_home" in body:  # every authorization gives a rationale (tests of it call the API)
            body["take_home"] = {"rationale": RATIONALE, **body["take_home"]}
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
