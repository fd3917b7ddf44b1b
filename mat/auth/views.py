"""Sign-in, sign-out and each role's home page (server-rendered HTML)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from mat.audit.service import record
from mat.auth import service
from mat.auth.access import ANY_ROLE, public, roles_required
from mat.auth.api import LOGIN_FAILURE_LIMIT, _failed
from mat.errors import Unauthorized
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


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_FAILURE_LIMIT, methods=["POST"], deduct_when=_failed)
@public
def login() -> Any:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.username.data or "", form.password.data or "")
        except Unauthorized as err:
            form.password.errors = [err.message]  # type: ignore[assignment]
            status = 401
        else:
            session.clear()
            login_user(user)
            session.permanent = True  # idle timeout: PERMANENT_SESSION_LIFETIME
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
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/")
@roles_required(*ANY_ROLE)
def home() -> Any:
    sections = [(role, *ROLE_HOME[role]) for role in ROLE_HOME if current_user.has_role(role)]
    # Open stock variances are every staff member's business until resolved (mat.stock).
    return render_template("home.html", sections=sections, open_variances=variances())
