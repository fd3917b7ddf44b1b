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
# An HMAC key shorter than this is guessable; a hex token of 32 bytes is 64 characters.
MIN_AUDIT_KEY_LENGTH = 32
MAX_TRUSTED_PROXIES = 5
# The largest request body (413 above it): every body of the API and the pages is a few kB. A
# view that needs more says so with mat.web.body_limit (the import of a clinic's history).
REQUEST_BODY_LIMIT = 1024 * 1024


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
    audit_key = env.get("MAT_AUDIT_KEY") or None
    if audit_key is not None and len(audit_key) < MIN_AUDIT_KEY_LENGTH:
        raise ConfigError(
            f"MAT_AUDIT_KEY is too short: use at least {MIN_AUDIT_KEY_LENGTH} random characters "
            "(python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    proxies_text = env.get("MAT_TRUSTED_PROXIES", "0").strip() or "0"
    if not proxies_text.isdigit() or int(proxies_text) > MAX_TRUSTED_PROXIES:
        raise ConfigError(
            f"MAT_TRUSTED_PROXIES={proxies_text!r} must be the number of reverse proxies in front "
            f"of mat (0 to {MAX_TRUSTED_PROXIES}; 0 ignores X-Forwarded-For)."
        )
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
        # The audit chain's key (mat.audit.keys): derived from SECRET_KEY when not set.
        "MAT_AUDIT_KEY": audit_key,
        "MAT_AUDIT_OLD_KEYS": env.get("MAT_AUDIT_OLD_KEYS", ""),
        "RATELIMIT_STORAGE_URI": env.get("MAT_RATELIMIT_STORAGE_URL", "memory://"),
        # How many proxies' X-Forwarded-For / -Proto entries to believe (Werkzeug's ProxyFix):
        # the client address of sign-in limits and the audit trail. 0: the socket's peer.
        "MAT_TRUSTED_PROXIES": int(proxies_text),
        "RATELIMIT_HEADERS_ENABLED": True,
        "PERMANENT_SESSION_LIFETIME": SESSION_IDLE,
        "SESSION_REFRESH_EACH_REQUEST": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Behind TLS in production the cookie must never travel in clear; demo runs on plain http.
        "SESSION_COOKIE_SECURE": not demo,
        "REMEMBER_COOKIE_DURATION": timedelta(0),
        # hide_parameters: a database error's text never carries the values bound to it (names,
        # MRNs), whoever logs or prints it (mat.errors.log_server_error logs no messages at all).
        # No pool_pre_ping: a dead pooled connection is found without a round trip
        # (mat.db_liveness).
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
        "API_TITLE": "mat",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": REQUEST_BODY_LIMIT,
    }
