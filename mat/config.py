"""Settings from the environment, exactly as api-contract.md names them.

``load_settings`` fails fast: a production start without ``MAT_SECRET_KEY`` or with an unknown
time zone stops with one sentence instead of running half-configured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message is one sentence an operator can act on."""


# Sessions end after 15 minutes idle (clinical-rules.md, Records; HIPAA automatic logoff).
SESSION_IDLE = timedelta(minutes=15)
# API tokens last one clinic shift; scripts ask for a new one rather than holding a long-lived key.
TOKEN_LIFETIME = timedelta(hours=8)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def load_settings(instance_path: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Flask config keys built from ``MAT_*`` environment variables."""
    env = os.environ if env is None else env
    demo = _truthy(env.get("MAT_DEMO")) or _truthy(env.get("FLASK_DEBUG"))
    secret = env.get("MAT_SECRET_KEY")
    if not secret:
        if not demo:
            raise ConfigError(
                "MAT_SECRET_KEY is not set: set it to a long random value "
                "(python -c 'import secrets; print(secrets.token_hex(32))') before starting mat."
            )
        secret = "demo-only-not-secret"  # noqa: S105 (demo mode only)
    zone_name = env.get("MAT_CLINIC_TZ", "UTC")
    try:
        ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"MAT_CLINIC_TZ={zone_name!r} is not an IANA time zone.") from exc
    default_db = "sqlite:///" + str(Path(instance_path) / "mat.sqlite3")
    return {
        "SECRET_KEY": secret,
        "MAT_DEMO": demo,
        "SQLALCHEMY_DATABASE_URI": env.get("MAT_DATABASE_URL", default_db),
        "MAT_CLINIC_TZ": zone_name,
        "MAT_CLINIC_NAME": env.get("MAT_CLINIC_NAME", "Demo Opioid Treatment Program"),
        # Printed on take-home bottle labels (optional: a label leaves them out when unset).
        "MAT_CLINIC_ADDRESS": env.get("MAT_CLINIC_ADDRESS", ""),
        "MAT_CLINIC_PHONE": env.get("MAT_CLINIC_PHONE", ""),
        "MAT_RULE_PROFILE": env.get("MAT_RULE_PROFILE", "us-federal"),
        "RATELIMIT_STORAGE_URI": env.get("MAT_RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "PERMANENT_SESSION_LIFETIME": SESSION_IDLE,
        "SESSION_REFRESH_EACH_REQUEST": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Behind TLS in production the cookie must never travel in clear; demo runs on plain http.
        "SESSION_COOKIE_SECURE": not demo,
        "REMEMBER_COOKIE_DURATION": timedelta(0),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "API_TITLE": "mat",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "WTF_CSRF_TIME_LIMIT": None,
    }
