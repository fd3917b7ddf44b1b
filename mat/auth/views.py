"""Sign-in, sign-out and each role's home page (server-rendered HTML)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from mat.audit.service import record
from mat.auth import credentials
from mat.auth.access import ANY_ROLE, public, roles_required
from mat.auth.api import LOGIN_FAILURE_LIMIT, failed_sign_in
from mat.auth.sessions import end, renew, seconds_left, touch
from mat.clock import clinic_now
from mat.config import SESSION_IDLE
from mat.errors import MatError, answer_refusal
from mat.frame import frame_context
from mat.navigation import entries_for
from mat.stock.counts import variances
from mat.web_extensions import limiter

bp = Blueprint("auth", __name__)

# Each role's card on the home page: what that role does here. Its links are the navigation's
# entries for that role (mat.navigation), so a card never offers a page that does not exist.
ROLE_HOME: dict[str, tuple[str, str]] = {
    "nurse": (
        "Dosing window",
        "Give observed doses and take-homes, record holds and screens, count the stock.",
    ),
    "prescriber": ("Charts and orders", "Find a patient's chart and sign their orders."),
    "auditor": ("Audit", "Check the audit trail and export dispensing logs and histories."),
    "admin": ("Administration", "Run the clinic's accounts, patients, closures and stock."),
}

bp.app_context_processor(frame_context)


@bp.route("/favicon.ico")
@public
def favicon() -> Any:
    # Browsers ask for it on every first visit; without it each visit left a refused 404 in
    # the audit trail. No content, nothing to audit.
    return "", 204


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after sign-in is a phishing aid.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("auth.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_FAILURE_LIMIT, methods=["POST"], deduct_when=failed_sign_in)
@public
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = credentials.check_password(
                form.username.data or "", form.password.data or "", clinic_now(), purpose="sign_in"
            )
        except MatError as err:
            # Shown next to the form, audited as the error handler would, with what the refusal
            # itself must keep (a failed password's count: ``err.on_refusal``).
            form.password.errors = [err.message]  # type: ignore[assignment]
            return answer_refusal(err, lambda: render_template("login.html", form=form))
        else:
            renew(session)  # a new session id from here on: one planted before is worthless
            login_user(user)
            session.permanent = True  # the cookie's life; the server checks idleness itself
            g.actor = user
            record("auth.login", entity_type="user", entity_id=user.id)
            return redirect(_safe_next(request.args.get("next")))
    if request.method == "GET" and request.args.get("idle") == "1":
        # Sent here by the idle notice (static/idle.js) when the session ended.
        flash("You were signed out after 15 minutes without activity. Sign in again.", "info")
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
@public
def logout() -> Any:
    if current_user.is_authenticated:
        record("auth.logout", entity_type="user", entity_id=current_user.id)
    logout_user()
    end(session, "signed out")  # the session row ends: a copied cookie stops working too
    return redirect(url_for("auth.login"))


class PasswordResetForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    code = StringField(
        "Reset code from your administrator", validators=[DataRequired(), Length(max=40)]
    )
    new_password = PasswordField(
        "New password (at least 12 characters)", validators=[DataRequired(), Length(max=200)]
    )
    repeat = PasswordField("New password again", validators=[DataRequired(), Length(max=200)])


@bp.route("/password-reset", methods=["GET", "POST"])
@limiter.limit(LOGIN_FAILURE_LIMIT, methods=["POST"], deduct_when=failed_sign_in)
@public
def password_reset() -> Any:
    """The user sets their own password with the one-time code an administrator issued."""
    form = PasswordResetForm()
    status = 200
    if form.validate_on_submit():
        if form.new_password.data != form.repeat.data:
            form.repeat.errors = ["The two new passwords differ."]  # type: ignore[assignment]
            status = 422
        else:
            try:
                credentials.redeem_reset(
                    form.username.data or "",
                    form.code.data or "",
                    form.new_password.data or "",
                    clinic_now(),
                )
            except MatError as err:
                messages = [m for ms in err.fields.values() for m in ms] or [err.message]
                form.code.errors = messages  # type: ignore[assignment]
                return answer_refusal(
                    err, lambda: render_template("password_reset.html", form=form)
                )
            else:
                flash("Your new password is set; sign in with it.", "success")
                return redirect(url_for("auth.login"))
    return render_template("password_reset.html", form=form), status


@bp.route("/session/keepalive", methods=["POST"])
@roles_required(*ANY_ROLE)
def keepalive() -> Any:
    """The idle notice's "Stay signed in": this request is activity (CSRF-checked as any POST)."""
    touch(session)
    return jsonify(seconds_left=int(SESSION_IDLE.total_seconds()))


@bp.route("/session/remaining", methods=["GET"])
@public
def remaining() -> Any:
    """How long the session has left, for the idle notice: asked with ``X-Mat-Background: 1``
    so that asking is not activity. Public: an ended session answers 0 rather than a redirect."""
    left = seconds_left(session, clinic_now()) if current_user.is_authenticated else 0
    return jsonify(seconds_left=left)


@bp.route("/")
@roles_required(*ANY_ROLE)
def home() -> Any:
    registered = current_app.view_functions
    sections = [
        (role, *ROLE_HOME[role], entries_for({role}, registered))
        for role in ROLE_HOME
        if current_user.has_role(role)
    ]
    # Open stock variances are every staff member's business until resolved (mat.stock).
    return render_template("home.html", sections=sections, open_variances=variances())
