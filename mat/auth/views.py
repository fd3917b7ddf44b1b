"""Sign-in, sign-out and each role's home page (server-rendered HTML)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from mat.audit.service import record, record_refusal
from mat.auth import credentials
from mat.auth.access import ANY_ROLE, public, roles_required
from mat.auth.api import LOGIN_FAILURE_LIMIT, failed_sign_in
from mat.auth.sessions import end, renew
from mat.clock import clinic_now
from mat.errors import MatError
from mat.extensions import limiter
from mat.stock.counts import variances

bp = Blueprint("auth", __name__)

# What each role does, in the order a person with several roles sees them, and the screens
# that role opens from its card: (label, endpoint).
ROLE_HOME: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "nurse": (
        "Dosing window",
        "Record observed and take-home doses, holds and screens.",
        (
            ("Dosing window", "dosing.window"),
            ("Today's dispensing log", "reports.index"),
            ("Stock and receipts", "stock.index"),
            ("Daily count", "stock_records.count_form"),
        ),
    ),
    "prescriber": (
        "Orders",
        "Sign and adjust induction, titration, maintenance and taper orders (through the API "
        "for now: POST /api/v1/patients/<id>/orders/preview, then /orders).",
        (("Stock variances to resolve", "stock_records.variances"),),
    ),
    "auditor": (
        "Audit",
        "Export dispensing logs and patient histories, and check the audit trail.",
        (
            ("Audit trail", "audit.events"),
            ("Dispensing logs and histories", "reports.index"),
            ("Stock and DEA records", "stock.index"),
            ("Stock report", "stock.report"),
        ),
    ),
    "admin": (
        "Administration",
        "Manage users, clinic closures and the formulary; download the dispensing log.",
        (
            ("Dispensing logs", "reports.index"),
            ("Stock, stations and receipts", "stock.index"),
            ("Stock report", "stock.report"),
        ),
    ),
}


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


def _refused_on_page(err: MatError) -> int:
    """A refusal the page shows itself (next to the form): audited here, as the error handler
    would, with what the refusal itself must keep (a failed password's count)."""
    record_refusal(err)
    g.refusal_recorded = True
    return err.status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_FAILURE_LIMIT, methods=["POST"], deduct_when=failed_sign_in)
@public
def login() -> Any:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = credentials.check_password(
                form.username.data or "", form.password.data or "", clinic_now(), purpose="sign_in"
            )
        except MatError as err:
            form.password.errors = [err.message]  # type: ignore[assignment]
            status = _refused_on_page(err)
        else:
            renew(session)  # a new session id from here on: one planted before is worthless
            login_user(user)
            session.permanent = True  # the cookie's life; the server checks idleness itself
            g.actor = user
            record("auth.login", entity_type="user", entity_id=user.id)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form), status


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
                status = _refused_on_page(err)
            else:
                flash("Your new password is set; sign in with it.", "success")
                return redirect(url_for("auth.login"))
    return render_template("password_reset.html", form=form), status


@bp.route("/")
@roles_required(*ANY_ROLE)
def home() -> Any:
    sections = [(role, *ROLE_HOME[role]) for role in ROLE_HOME if current_user.has_role(role)]
    # Open stock variances are every staff member's business until resolved (mat.stock).
    return render_template("home.html", sections=sections, open_variances=variances())
