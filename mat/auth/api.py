"""Auth JSON API: tokens, the signed-in user, and user accounts (admin).

Decorator order on every API view: ``route``, then the access check, then ``arguments`` and
``response``, so a caller is authenticated and authorized before its body is even parsed.
"""

from __future__ import annotations

from typing import Any

from flask import g

from mat.audit.service import record
from mat.auth import service
from mat.auth.access import ANY_ROLE, api_roles, public
from mat.auth.schemas import TokenOut, TokenRequest, UserCreate, UserOut
from mat.database import utcnow
from mat.extensions import limiter
from mat.jsonio import ApiBlueprint

blp = ApiBlueprint("auth_api", __name__, url_prefix="/api/v1", description="Sign-in and users")

# Failed sign-ins per client address; successful ones are not counted.
LOGIN_FAILURE_LIMIT = "10 per minute"


def _failed(response: Any) -> bool:
    return response.status_code == 401


@blp.route("/tokens", methods=["POST"])
@limiter.limit(LOGIN_FAILURE_LIMIT, deduct_when=_failed)
@public
@blp.arguments(TokenRequest)
@blp.response(201, TokenOut)
def create_token(data: dict[str, str]) -> dict[str, Any]:
    user = service.authenticate(data["username"], data["password"])
    g.actor = user
    raw, token = service.issue_token(user, utcnow())
    record("auth.token", entity_type="user", entity_id=user.id)
    return {"token": raw, "expires_at": token.expires_at, "user": user}


@blp.route("/me", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.response(200, UserOut)
def me() -> Any:
    return g.actor


@blp.route("/users", methods=["POST"])
@api_roles("admin")
@blp.arguments(UserCreate)
@blp.response(201, UserOut)
def create_user(data: dict[str, Any]) -> Any:
    return service.create_user(**data)
