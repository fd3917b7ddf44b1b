"""Auth JSON API: tokens, the signed-in user, and user accounts (admin).

Decorator order on every API view: ``route``, then the access check, then ``arguments`` and
``response``, so a caller is authenticated and authorized before its body is even parsed.
"""

from __future__ import annotations

from typing import Any

from flask import g

from mat.audit.service import record
from mat.auth import credentials, service
from mat.auth.access import ANY_ROLE, api_roles, bearer_token, public
from mat.auth.schemas import (
    PasswordResetIn,
    ResetCodeOut,
    TokenOut,
    TokenRequest,
    UserAdminOut,
    UserCreate,
    UserOut,
    UserPatch,
)
from mat.clock import clinic_now
from mat.database import utcnow
from mat.jsonio import ApiBlueprint
from mat.web_extensions import limiter

blp = ApiBlueprint("auth_api", __name__, url_prefix="/api/v1", description="Sign-in and users")

# Failed sign-ins per client address (behind a proxy: the address MAT_TRUSTED_PROXIES trusts);
# successful ones are not counted. Each account also locks itself (mat.auth.credentials).
LOGIN_FAILURE_LIMIT = "10 per minute"


def failed_sign_in(response: Any) -> bool:
    return response.status_code in (401, 429)


@blp.route("/tokens", methods=["POST"])
@limiter.limit(LOGIN_FAILURE_LIMIT, deduct_when=failed_sign_in)
@public
@blp.arguments(TokenRequest())
@blp.response(201, TokenOut)
def create_token(data: dict[str, str]) -> dict[str, Any]:
    user = credentials.check_password(
        data["username"], data["password"], clinic_now(), purpose="sign_in"
    )
    g.actor = user
    raw, token = service.issue_token(user, utcnow())
    record("auth.token", entity_type="user", entity_id=user.id)
    return {"token": raw, "expires_at": token.expires_at, "user": user}


@blp.route("/tokens/current", methods=["DELETE"])
@api_roles(*ANY_ROLE)
@blp.response(204)
def revoke_token() -> None:
    """The token of this call stops working at once (signing out a script or a device)."""
    service.revoke_token(bearer_token(), utcnow())


@blp.route("/me", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.response(200, UserOut)
def me() -> Any:
    return g.actor


@blp.route("/users", methods=["GET"])
@api_roles("admin")
@blp.response(200, UserAdminOut(many=True))
def list_users() -> Any:
    return service.list_users()


@blp.route("/users", methods=["POST"])
@api_roles("admin")
@blp.arguments(UserCreate())
@blp.response(201, UserAdminOut)
def create_user(data: dict[str, Any]) -> Any:
    return service.create_user(**data)


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@api_roles("admin")
@blp.arguments(UserPatch())
@blp.response(200, UserAdminOut)
def update_user(changes: dict[str, Any], user_id: int) -> Any:
    """`active: false` or new `roles` end every session and API token of the user at once."""
    return service.update_user(service.get_user(user_id), changes, clinic_now())


@blp.route("/users/<int:user_id>/unlock", methods=["POST"])
@api_roles("admin")
@blp.response(200, UserAdminOut)
def unlock_user(user_id: int) -> Any:
    return service.unlock_user(service.get_user(user_id))


@blp.route("/users/<int:user_id>/password-reset", methods=["POST"])
@api_roles("admin")
@blp.response(201, ResetCodeOut)
def issue_password_reset(user_id: int) -> Any:
    """A one-time code (valid 24 hours) the user types at /password-reset with a password of
    their own choosing; the admin never sees or sets a password."""
    user = service.get_user(user_id)
    code, reset = credentials.issue_reset(user, g.actor, clinic_now())
    return {"code": code, "expires_at": reset.expires_at, "user": user}


@blp.route("/password-resets/redeem", methods=["POST"])
@limiter.limit(LOGIN_FAILURE_LIMIT, deduct_when=failed_sign_in)
@public
@blp.arguments(PasswordResetIn())
@blp.response(204)
def redeem_password_reset(data: dict[str, str]) -> None:
    credentials.redeem_reset(data["username"], data["code"], data["new_password"], clinic_now())
