"""Deny by default: every view declares who may call it.

``roles_required`` (pages, Flask-Login session) and ``api_roles`` (JSON API, bearer token) mark
the view with the roles it admits; ``public`` marks the few that admit anyone. ``guard`` runs
before every request and refuses an endpoint that declared nothing, so a forgotten decorator is
a 403, never an open door.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, redirect, request, url_for
from flask_login import current_user

from mat.auth.models import ROLES, User
from mat.auth.service import user_for_token
from mat.database import utcnow
from mat.errors import Forbidden, Unauthorized
from mat.violations import Violation

F = TypeVar("F", bound=Callable[..., Any])
ANY_ROLE = ROLES
PUBLIC = "public"
# Extension endpoints that cannot carry our decorator: static files and the OpenAPI document.
PUBLIC_ENDPOINTS = {"static", "api-docs.openapi_json"}


def public(view: F) -> F:
    view.mat_roles = PUBLIC  # type: ignore[attr-defined]
    return view


def _check_roles(user: User, roles: tuple[str, ...], rule: str | None) -> None:
    """Refuse a user without one of ``roles``; ``rule`` names the rule-book id the role check
    enforces (``prescriber_required``, ``dispenser_required``) so the refusal carries it."""
    if user.has_role(*roles):
        return
    message = f"This needs the role {' or '.join(roles)}."
    violations = []
    if rule is not None:
        severity = current_app.extensions["mat_profile"].severity(rule)
        violations.append(Violation(rule, severity, message))
    raise Forbidden(message, code="forbidden", violations=violations)


def roles_required(*roles: str, rule: str | None = None) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path))
            _check_roles(current_user, roles, rule)
            return view(*args, **kwargs)

        wrapper.mat_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def bearer_token() -> str:
    """The raw token of ``Authorization: Bearer <token>``; 401 when there is none."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized(
            "Send Authorization: Bearer <token> (POST /api/v1/tokens).", code="unauthorized"
        )
    return raw.strip()


def bearer_user() -> User:
    user = user_for_token(bearer_token(), utcnow())
    if user is None:
        raise Unauthorized(
            "The token is unknown, expired or revoked; ask for a new one.", code="unauthorized"
        )
    return user


def api_roles(*roles: str, rule: str | None = None) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = bearer_user()
            g.actor = user
            _check_roles(user, roles, rule)
            return view(*args, **kwargs)

        wrapper.mat_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def guard() -> None:
    """before_request: refuse endpoints that declared no roles; note who is signed in."""
    # The API authenticates by bearer token only; a browser session never speaks for it (CSRF).
    if not request.path.startswith("/api/") and current_user.is_authenticated:
        g.actor = current_user._get_current_object()
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "mat_roles", None) is None:
        raise Forbidden("This page declares no roles, so nobody may use it.", code="forbidden")


def init_access(app: Flask) -> None:
    app.before_request(guard)
