"""The client address behind a reverse proxy, and sign-in limits shared by several app servers
through Redis (MAT_RATELIMIT_STORAGE_URL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from flask_limiter import Limiter
from sqlalchemy import select

from mat import create_app
from mat.audit.models import AuditEvent
from mat.config import ConfigError, load_settings
from mat.extensions import db
from mat.web_extensions import check_limits_in_decorated_views_only, limiter
from tests.conftest import Clock, RequestIsolatingClient
from tests.support.checks import assert_error

REDIS_URL = os.environ.get("MAT_TEST_REDIS", "redis://127.0.0.1:6379/0")


def make_app(database_url: str, **config) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAT_CLOCK": Clock(),
            **config,
        }
    )
    app.test_client_class = RequestIsolatingClient
    return app


def fail(client, address: str | None = None, username: str = "ghost"):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post(
        "/api/v1/tokens", json={"username": username, "password": "wrong"}, headers=headers
    )


def addresses() -> list[str | None]:
    return list(db.session.scalars(select(AuditEvent.client_addr).order_by(AuditEvent.id)))


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app, client) -> None:
    fail(client, "203.0.113.7")
    assert addresses() == ["127.0.0.1"]
    # A client cannot escape the per-address limit by claiming other addresses.
    for n in range(9):
        fail(client, f"198.51.100.{n}", username=f"u{n}")
    assert_error(fail(client, "192.0.2.1", username="x"), 429, "too_many_requests")


def test_with_one_trusted_proxy_the_forwarded_client_is_used(database_url) -> None:
    app = make_app(database_url, MAT_TRUSTED_PROXIES=1)
    with app.app_context():
        client = app.test_client()
        for n in range(10):
            assert fail(client, "203.0.113.7", username=f"u{n}").status_code == 401
        assert_error(fail(client, "203.0.113.7", username="x"), 429)
        assert fail(client, "203.0.113.8").status_code == 401  # another clinic workstation
        # Only the proxy's own entry counts: a client-supplied first entry is not believed.
        fail(client, "6.6.6.6, 203.0.113.9")
        assert addresses()[-2:] == ["203.0.113.8", "203.0.113.9"]
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("value", ["-1", "two", "6", "1.5"])
def test_a_bad_trusted_proxies_setting_stops_start_up(tmp_path, value) -> None:
    with pytest.raises(ConfigError, match="MAT_TRUSTED_PROXIES"):
        load_settings(str(tmp_path), {"MAT_SECRET_KEY": "s" * 40, "MAT_TRUSTED_PROXIES": value})


# ---- Redis ----------------------------------------------------------------------------------


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        reason = f"no Redis at {REDIS_URL}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Redis tests, but {reason}")
        pytest.skip(reason)
    prefix = f"mat-test-{uuid.uuid4().hex}"
    yield prefix
    server = redis.Redis.from_url(REDIS_URL)
    for key in server.scan_iter(f"*{prefix}*"):
        server.delete(key)


def test_two_app_servers_share_the_sign_in_limits_through_redis(
    database_url, staff, redis_prefix
) -> None:
    """Two workers (two apps, one database, one Redis): failures on either count for both."""
    config = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix}
    first, second = make_app(database_url, **config), make_app(database_url, **config)
    one, two = first.test_client(), second.test_client()
    for n in range(5):
        with first.app_context():
            assert fail(one, username=f"a{n}").status_code == 401
        with second.app_context():
            assert fail(two, username=f"b{n}").status_code == 401
    with first.app_context():
        assert_error(fail(one, username="c"), 429, "too_many_requests")
    # The per-username counter of unknown names is shared as well.
    for app in (first, second):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    server = redis.Redis.from_url(REDIS_URL)
    assert any(redis_prefix in key.decode() for key in server.scan_iter(f"*{redis_prefix}*"))


# Flask-Limiter's per-request hook is removed while only decorated views have limits
# (mat.web_extensions.check_limits_in_decorated_views_only): a decorated view still limits,
# and a default limit keeps the hook.


def _limited_app(**limits) -> tuple[Flask, Limiter]:
    bare = Flask(__name__)
    bare.config["RATELIMIT_STORAGE_URI"] = "memory://"
    own = Limiter(key_func=lambda: "one-client", **limits)
    own.init_app(bare)

    @bare.route("/limited")
    @own.limit("1/minute")
    def limited() -> str:
        return "ok"

    @bare.route("/free")
    def free() -> str:
        return "ok"

    check_limits_in_decorated_views_only(bare, own)
    return bare, own


def test_without_default_limits_the_hook_is_gone_and_decorated_views_still_limit() -> None:
    bare, own = _limited_app()
    assert own._check_request_limit not in bare.before_request_funcs[None]
    client = bare.test_client()
    assert [client.get("/limited").status_code for _ in range(2)] == [200, 429]
    assert [client.get("/free").status_code for _ in range(3)] == [200, 200, 200]


def test_a_default_limit_keeps_the_hook() -> None:
    bare, own = _limited_app(default_limits=["2/minute"])
    assert own._check_request_limit in bare.before_request_funcs[None]
    client = bare.test_client()
    assert [client.get("/free").status_code for _ in range(3)] == [200, 200, 429]


def test_mat_has_no_limit_the_hook_would_check(app) -> None:
    assert limiter._check_request_limit not in app.before_request_funcs[None]
