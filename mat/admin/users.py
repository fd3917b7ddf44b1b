"""Users: the list, creating a user, roles, deactivating and activating, unlocking, and the
one-time password reset code. The administrator never sets or sees a password: a new user
gets a random password nobody knows and a reset code to set their own at /password-reset.

Every change goes through ``mat.auth.service`` / ``mat.auth.credentials``, the functions
behind ``/api/v1/users`` and ``flask user``, with the API's schemas (``UserCreate``,
``UserPatch``): the last administrator stays, a role change or deactivation ends the user's
sessions and tokens, and everything is audited there.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from mat.admin.blueprint import (
    bp,
    load_form,
    shows_refusals,
    use_form_token,
)
from mat.auth import credentials, service
from mat.auth.access import roles_required
from mat.auth.models import ROLES, PasswordReset, User
from mat.auth.schemas import UserCreate, UserPatch
from mat.clock import clinic_now, clinic_zone
from mat.errors import InvalidInput, MatError
from mat.idempotency import new_form_token, spend_form_token

ROLE_WORDS = {
    "nurse": "Nurse: doses at the window",
    "prescriber": "Prescriber: orders",
    "auditor": "Auditor: logs and the audit trail",
    "admin": "Administrator: users, patients, closures",
}
# The new user's form, as the page names its fields (refusals name them the same way).
CREATE_FIELDS = ("username", "full_name", "initials")


def _local(at: datetime | None) -> str:
    return at.astimezone(clinic_zone()).strftime("%a %d %b %Y %H:%M") if at else ""


def _no_store(page: Any, status: int = 200) -> Any:
    """An answer that holds a reset code: never kept by the browser or a proxy."""
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _users_page(
    *, error: MatError | None = None, typed: dict[str, Any] | None = None, issued: Any = None
) -> Any:
    now = clinic_now()
    everyone = service.list_users()
    page = render_template(
        "admin/users.html",
        users=everyone,
        locked={u.id for u in everyone if credentials.is_locked(u, now)},
        roles=ROLES,
        role_words=ROLE_WORDS,
        token=new_form_token(),
        error=error,
        typed=typed or {"roles": []},
        issued=issued,
        local=_local,
    )
    return _no_store(page, error.status if error else 200)


def _create_refused(err: MatError) -> Any:
    typed = {name: request.form.get(name, "") for name in CREATE_FIELDS}
    typed["roles"] = request.form.getlist("roles")
    return _users_page(error=err, typed=typed)


@bp.route("/users", methods=["GET"])
@roles_required("admin")
def users() -> Any:
    return _users_page()


@bp.route("/users", methods=["POST"])
@roles_required("admin")
@shows_refusals(_create_refused)
def create_user() -> Any:
    key = use_form_token("the user was created (issue a new reset code from their page)")
    form = {name: request.form.get(name, "").strip() for name in CREATE_FIELDS}
    # Nobody knows this password, nobody is told it: the user sets their own with the code.
    form |= {"roles": request.form.getlist("roles"), "password": secrets.token_urlsafe(32)}
    data = load_form(UserCreate(), form, "The new user is not valid; check the marked fields.")
    user = service.create_user(**data)
    code, reset = credentials.issue_reset(user, current_user, clinic_now())
    spend_form_token(key, {"user_id": user.id})
    return _users_page(issued=_issued(user, code, reset, created=True))


def _issued(user: User, code: str, reset: PasswordReset, *, created: bool) -> dict[str, Any]:
    return {
        "user": user,
        "code": code,
        "expires": _local(reset.expires_at),
        "created": created,
        "redeem_url": url_for("auth.password_reset", _external=True),
    }


# ---- one user -------------------------------------------------------------------------------


def _user_page(user_id: int, *, error: MatError | None = None, issued: Any = None) -> Any:
    user = service.get_user(user_id)  # 404
    page = render_template(
        "admin/user.html",
        user=user,
        locked=credentials.is_locked(user, clinic_now()),
        roles=ROLES,
        role_words=ROLE_WORDS,
        # After a refused change of roles, the boxes as the admin ticked them; else as stored.
        checked=request.form.getlist("roles")
        if error and request.endpoint == "admin.set_roles"
        else sorted(user.role_names),
        token=new_form_token(),
        error=error,
        issued=issued,
        local=_local,
        is_self=user.id == current_user.id,
    )
    return _no_store(page, error.status if error else 200)


def _user_refused(err: MatError) -> Any:
    return _user_page((request.view_args or {})["user_id"], error=err)


def _back(user: User) -> Any:
    return redirect(url_for("admin.user", user_id=user.id), code=303)


@bp.route("/users/<int:user_id>", methods=["GET"])
@roles_required("admin")
def user(user_id: int) -> Any:
    return _user_page(user_id)


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@roles_required("admin")
@shows_refusals(_user_refused)
def set_roles(user_id: int) -> Any:
    user = service.get_user(user_id)
    data = load_form(
        UserPatch(), {"roles": request.form.getlist("roles")}, "Choose at least one role."
    )
    service.update_user(user, data, clinic_now())
    flash(
        f"Roles of {user.username}: {', '.join(sorted(user.role_names))}. Their sessions ended; "
        "they sign in again to use the new roles.",
        "success",
    )
    return _back(user)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required("admin")
@shows_refusals(_user_refused)
def set_active(user_id: int) -> Any:
    user = service.get_user(user_id)
    wanted = {"activate": True, "deactivate": False}.get(request.form.get("action", ""))
    if wanted is None:
        raise InvalidInput("The form is incomplete; reload the page.", fields={})
    service.update_user(user, load_form(UserPatch(), {"active": wanted}, ""), clinic_now())
    if wanted:
        flash(f"{user.username} may sign in again.", "success")
    else:
        flash(
            f"{user.username} is deactivated: signed out everywhere and cannot sign in.",
            "success",
        )
    return _back(user)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@roles_required("admin")
@shows_refusals(_user_refused)
def unlock(user_id: int) -> Any:
    user = service.unlock_user(service.get_user(user_id))
    flash(f"{user.username} is unlocked and may try their password again.", "success")
    return _back(user)


@bp.route("/users/<int:user_id>/password-reset", methods=["POST"])
@roles_required("admin")
@shows_refusals(_user_refused)
def reset_password(user_id: int) -> Any:
    key = use_form_token("a code was issued (press the button again for a new one)")
    user = service.get_user(user_id)
    code, reset = credentials.issue_reset(user, current_user, clinic_now())
    spend_form_token(key, {"user_id": user.id})
    return _user_page(user.id, issued=_issued(user, code, reset, created=False))
