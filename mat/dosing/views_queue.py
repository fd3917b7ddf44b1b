"""The nurse's day at ``/window``: today's queue, the scanner's search box above it, and the
queue's table alone (``/window/queue``) for the page's script to refresh it without a reload.

Routes of the window's blueprint (``mat.dosing.views.bp``), added when ``mat.web`` imports this
module. The statuses are built by ``mat.dosing.queue`` from the window's own rules.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for

from mat.auth.access import roles_required
from mat.clock import clinic_now, clinic_zone
from mat.dosing.queue import (
    STATUS_TITLES,
    STATUSES,
    Queue,
    audit_listing,
    build_queue,
    find_for_window,
    rule_label,
)
from mat.dosing.views import _load, bp
from mat.dosing.window_page import ml_text
from mat.errors import InvalidInput, answer_refusal
from mat.orders.schedule import mg_text
from mat.patients.schemas import PatientSearch

# The session remembers the last listing it audited (a digest: no patient id in it) so that an
# automatic refresh showing the same patients is not recorded again.
SESSION_KEY = "queue_listed"
# The script refreshes the table this often; a page may ask for less (tests) with data-refresh.
REFRESH_SECONDS = 30


def _queue() -> Queue:
    now = clinic_now()
    queue = build_queue(now.date(), now, current_app.extensions["mat_profile"])
    seen = session.get(SESSION_KEY)
    key = audit_listing(queue, seen)
    if key != seen:  # an unchanged session is not written again on every background refresh
        session[SESSION_KEY] = key
    return queue


def _context(queue: Queue) -> dict[str, Any]:
    return {
        "queue": queue,
        "statuses": STATUSES,
        "titles": STATUS_TITLES,
        "mg_text": mg_text,
        "rule_label": rule_label,
        "ml_text": ml_text,
        "zone": clinic_zone(),
        "refreshed": clinic_now().astimezone(clinic_zone()).strftime("%H:%M"),
    }


@bp.route("", methods=["GET", "POST"])
@roles_required("nurse")
def window() -> Any:
    """The queue, and the search. The term (a name or an MRN: a barcode scanner types the MRN
    and Enter) travels in the body of a POST, never in the address: addresses end up in browser
    history, proxy and server logs, and the Referer of the next page. One match opens the
    patient's window at once; several are listed above the queue; none says so."""
    q, found = "", None
    if request.method == "POST":
        term = request.form.get("q", "").strip()
        try:
            q = _load(PatientSearch(), {"q": term}, "Check the search.")["q"]
        except InvalidInput as err:
            # A 422 is rolled back whole, so the page shows no patient (whose read would not be
            # audited): only the box again, and what to do.
            return answer_refusal(
                err,
                lambda: render_template(
                    "dosing/queue.html", q="", found=None, queue=None, bad=True
                ),
            )
        if q:
            found = find_for_window(q)  # the search is audited
            if len(found) == 1:
                return redirect(url_for("dosing.patient_window", patient_id=found[0].id), 303)
    return render_template(
        "dosing/queue.html",
        q=q,
        found=found,
        bad=False,
        refresh=REFRESH_SECONDS,
        **_context(_queue()),
    )


@bp.route("/queue", methods=["GET"])
@roles_required("nurse")
def queue_fragment() -> Any:
    """The queue's table alone, for the page's script (``static/queue.js``)."""
    return render_template("dosing/queue_table.html", **_context(_queue()))
