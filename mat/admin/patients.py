"""Patient registration: the list with a search, and the register form.

The form is read with the API's ``PatientCreate`` and registered by ``register_patient``
(``POST /api/v1/patients``): the same refusals (a duplicate MRN, dates that cannot be meant, a
name the dispensing log cannot print). Every list and search is audited there as
``patient.search``; a search term travels in a POST body, never in the address (it is PHI).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from mat.admin.blueprint import (
    bp,
    load_form,
    shows_refusals,
    use_form_token,
)
from mat.auth.access import roles_required
from mat.clock import clinic_now
from mat.errors import MatError
from mat.idempotency import new_form_token, spend_form_token
from mat.patients.models import LEVELS_OF_CARE
from mat.patients.schemas import PatientCreate, PatientSearch
from mat.patients.service import register_patient, search_patients

FIELDS = ("mrn", "given_name", "family_name", "date_of_birth", "admitted_on", "level_of_care")
LABELS = {
    "mrn": "MRN",
    "given_name": "Given name",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "admitted_on": "Admission date",
    "level_of_care": "Level of care",
    "q": "Search",
}


def _page(
    *, q: str = "", error: MatError | None = None, typed: dict[str, str] | None = None
) -> Any:
    today = clinic_now().date()
    return render_template(
        "admin/patients.html",
        q=q,
        patients=search_patients(q),  # audited (patient.search)
        levels=LEVELS_OF_CARE,
        labels=LABELS,
        typed=typed or {"admitted_on": today.isoformat(), "level_of_care": "outpatient"},
        token=new_form_token(),
        error=error,
        today=today,
    ), (error.status if error else 200)


@bp.route("/patients", methods=["GET"])
@roles_required("admin")
def patients() -> Any:
    return _page()


def _search_refused(err: MatError) -> Any:
    return _page(error=err)


@bp.route("/patients/search", methods=["POST"])
@roles_required("admin")
@shows_refusals(_search_refused)
def search() -> Any:
    q = load_form(
        PatientSearch(), {"q": request.form.get("q", "").strip()}, "The search cannot be used."
    ).get("q", "")
    return _page(q=q)


def _register_refused(err: MatError) -> Any:
    return _page(error=err, typed={name: request.form.get(name, "") for name in FIELDS})


@bp.route("/patients", methods=["POST"])
@roles_required("admin")
@shows_refusals(_register_refused)
def register() -> Any:
    key = use_form_token("the patient was registered")
    form = {name: request.form.get(name, "").strip() for name in FIELDS}
    data = load_form(
        PatientCreate(), form, "The patient is not registered; check the marked fields."
    )
    patient = register_patient(data, current_user, clinic_now())
    spend_form_token(key, {"patient_id": patient.id})
    flash(
        f"Registered {patient.display_name}, MRN {patient.mrn}, admitted "
        f"{patient.admitted_on.isoformat()} ({patient.level_of_care.replace('_', ' ')}).",
        "success",
    )
    return redirect(url_for("admin.patients"), code=303)
