"""Clinic closures: a calendar of the coming months and the form that declares one.

A closure is declared by ``safety.close_clinic`` (``POST /api/v1/closures``), with the same
refusals: a date more than a year back or two years ahead, a day already closed. Closures are
append-only records (they decide which take-home doses were allowed), and the service has no
way to cancel one, so the page offers none and says so.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from mat.admin.blueprint import (
    bp,
    load_form,
    shows_refusals,
    use_form_token,
)
from mat.auth.access import roles_required
from mat.clock import clinic_now
from mat.dosing import safety
from mat.dosing.models import ClinicClosure
from mat.dosing.schemas import ClosureIn
from mat.errors import MatError
from mat.extensions import db
from mat.idempotency import new_form_token, spend_form_token

# The calendar shows this month and the next two.
MONTHS_SHOWN = 3
LABELS = {"date": "Date", "reason": "Reason"}


@dataclass(frozen=True)
class Month:
    first: date
    weeks: list[list[date]]  # Monday to Sunday; days of the months around it fill the edges


def months_from(today: date, count: int = MONTHS_SHOWN) -> list[Month]:
    """Month grids from ``today``'s month on. Pure: ``today`` is passed in."""
    grid = calendar.Calendar(firstweekday=calendar.MONDAY)
    months, first = [], today.replace(day=1)
    for _ in range(count):
        months.append(Month(first, grid.monthdatescalendar(first.year, first.month)))
        first = (first + timedelta(days=32)).replace(day=1)
    return months


def closures_listed(first: date, last: date) -> list[ClinicClosure]:
    stmt = (
        select(ClinicClosure)
        .where(ClinicClosure.date.between(first, last))
        .order_by(ClinicClosure.date)
    )
    return list(db.session.scalars(stmt))


def _page(*, error: MatError | None = None, typed: dict[str, str] | None = None) -> Any:
    today = clinic_now().date()
    months = months_from(today)
    closures = closures_listed(months[0].weeks[0][0], months[-1].weeks[-1][-1])
    return render_template(
        "admin/closures.html",
        months=months,
        closed={c.date: c.reason for c in closures},
        coming=[c for c in closures if c.date >= today],
        today=today,
        earliest=today - timedelta(days=safety.CLOSURE_DAYS_BACK),
        latest=today + timedelta(days=safety.CLOSURE_DAYS_AHEAD),
        weekdays=[calendar.day_name[d] for d in range(7)],
        labels=LABELS,
        typed=typed or {},
        token=new_form_token(),
        error=error,
    ), (error.status if error else 200)


@bp.route("/closures", methods=["GET"])
@roles_required("admin")
def closures() -> Any:
    return _page()


def _refused(err: MatError) -> Any:
    return _page(error=err, typed={name: request.form.get(name, "") for name in LABELS})


@bp.route("/closures", methods=["POST"])
@roles_required("admin")
@shows_refusals(_refused)
def close_clinic() -> Any:
    key = use_form_token("the closure was declared")
    form = {"date": request.form.get("date", "").strip(), "reason": request.form.get("reason", "")}
    form["reason"] = form["reason"].strip()
    data = load_form(ClosureIn(), form, "The closure is not declared; check the marked fields.")
    closure = safety.close_clinic(data, current_user, clinic_now())
    spend_form_token(key, {"closure_id": closure.id})
    flash(
        f"The clinic is closed on {closure.date.strftime('%A %d %B %Y')}: {closure.reason}",
        "success",
    )
    return redirect(url_for("admin.closures"), code=303)
