from __future__ import annotations

import pytest

from mat import create_app
from mat.config import ConfigError, load_settings


def test_production_start_without_secret_key_stops_with_one_sentence() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings("/tmp/instance", env={})
    message = str(info.value)
    assert "MAT_SECRET_KEY is not set" in message
    assert message.count("\n") == 0


def test_create_app_refuses_to_start_without_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAT_SECRET_KEY", raising=False)
    monkeypatch.delenv("MAT_DEMO", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigError, match="MAT_SECRET_KEY"):
        create_app()


def test_demo_mode_runs_without_secret_key() -> None:
    settings = load_settings("/tmp/instance", env={"MAT_DEMO": "1"})
    assert settings["SECRET_KEY"]
    assert settings["SESSION_COOKIE_SECURE"] is False


def test_settings_come_from_the_contract_variables() -> None:
    settings = load_settings(
        "/srv/mat",
        env={
            "MAT_SECRET_KEY": "k" * 32,
            "MAT_DATABASE_URL": "postgresql+psycopg://mat@db/mat",
            "MAT_CLINIC_TZ": "America/Chicago",
            "MAT_RULE_PROFILE": "us-federal",
            "MAT_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0",
        },
    )
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://mat@db/mat"
    assert settings["MAT_CLINIC_TZ"] == "America/Chicago"
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["PERMANENT_SESSION_LIFETIME"].total_seconds() == 15 * 60


def test_default_database_is_sqlite_in_the_instance_folder() -> None:
    settings = load_settings("/srv/mat/instance", env={"MAT_SECRET_KEY": "k" * 32})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/mat/instance/mat.sqlite3"


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        load_settings("/tmp", env={"MAT_SECRET_KEY": "k", "MAT_CLINIC_TZ": "Mars/Olympus"})
