"""The nurse's day at /window: the queue of today's patients with their status, the table alone
for the page's refresh, the scanner's one-match redirect, the audit of the listing and the
number of queries it costs. Patients are set up through the JSON API, as a clinic would."""

from __future__ import annotations

import json
import re
from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from mat.audit.models import AuditEvent
from mat.extensions import db
from tests.auth.test_pages import sign_in
from tests.conftest import TODAY
from tests.dosing.test_window_pages import hidden, text_of
from tests.support.sealing import sealed


@pytest.fixture
def nurse(client: Any, staff: dict[str, Any]) -> Any:
    sign_in(client, "nurse1")
    return client


def group(page: str, status: str) -> str:
    """The HTML of one group of the queue ('' when the group is not shown)."""
    match = re.search(rf'<section class="group status-{status}".*?</section>', page, re.S)
    return match.group(0) if match else ""


def count_of(page: str, status: str) -> int:
    match = re.search(rf'<li class="count status-{status}">.*?<span class="n">(\d+)</span>', page)
    assert match, f"no count for {status}"
    return int(match.group(1))


def queue_reads() -> list[AuditEvent]:
    sealed()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dosing.queue")))


@pytest.fixture
def day(api, staff, factory, sign_order, give, clock) -> dict[str, Any]:
    """A patient in every status of the queue, named after it."""
    people = {
        name: factory.patient(family_name=name.capitalize(), mrn=f"Q-{name.upper()}")
        for name in ("due", "given", "withheld", "hold", "blocked", "later", "gone", "none")
    }
    # Blocked: an order from three days ago, never dosed: three missed days, prescriber review.
    clock.set(TODAY - timedelta(days=3))
    sign_order(people["blocked"])
    clock.set(TODAY)
    for name in ("due", "given", "withheld", "hold", "gone"):
        sign_order(people[name])
    sign_order(people["later"], start_date=(TODAY + timedelta(days=2)).isoformat())
    assert give(people["given"], 40).status_code == 201
    nurse = staff["nurse"]
    path = f"/api/v1/patients/{people['withheld'].id}/doses/withheld"
    assert api("post", path, as_=nurse, json={"reason": "Smelled of alcohol"}).status_code == 201
    path = f"/api/v1/patients/{people['hold'].id}/holds"
    assert api("post", path, as_=nurse, json={"reason": "Sedated at the window"}).status_code == 201
    people["gone"].status = "discharged"  # no longer in treatment: not in the queue
    db.session.commit()
    return people


def test_the_queue_shows_each_patient_in_its_status(nurse, day) -> None:
    page = text_of(nurse.get("/window"))
    due = group(page, "due")
    assert "Due" in due and f"/window/{day['due'].id}" in due
    assert "40 mg" in due and "(4 mL)" in due  # methadone: mg and mL
    given = group(page, "given")
    assert f"/window/{day['given'].id}" in given and "09:00 by" in given
    withheld = group(page, "withheld")
    assert f"/window/{day['withheld'].id}" in withheld and "Smelled of alcohol" in withheld
    hold = group(page, "hold")
    assert f"/window/{day['hold'].id}" in hold and "Sedated at the window" in hold
    blocked = group(page, "blocked")
    assert f"/window/{day['blocked'].id}" in blocked
    assert "missed 3 days: prescriber review" in blocked
    later = group(page, "none")
    assert f"/window/{day['later'].id}" in later and "plans no dose today" in later
    # Discharged, or without any order: not in today's queue.
    assert f'/window/{day["gone"].id}"' not in page and f'/window/{day["none"].id}"' not in page
    counts = {s: count_of(page, s) for s in ("due", "blocked", "hold", "withheld", "given", "none")}
    assert counts == {"due": 1, "blocked": 1, "hold": 1, "withheld": 1, "given": 1, "none": 1}
    # Each patient once in the groups (a row per patient), each row linking to the window.
    for name in ("due", "given", "withheld", "hold", "blocked", "later"):
        assert page.count(f'<tr data-patient="{day[name].id}">') == 1


def test_the_queue_agrees_with_the_dose_plan(nurse, day, plan) -> None:
    """Each status is the one ``dose_plan`` (the API and the patient's page) gives, the withheld
    day aside (the plan does not read withheld days), a hold being one way of blocked."""
    page = text_of(nurse.get("/window"))
    same = {"due": "due", "blocked": "blocked", "hold": "blocked", "given": "given", "none": "none"}
    for person in (day[n] for n in ("due", "given", "hold", "blocked", "later")):
        shown = next(s for s in same if f'<tr data-patient="{person.id}">' in group(page, s))
        assert plan(person)["status"] == same[shown], person.family_name


def test_two_missed_days_are_not_yet_blocked(nurse, factory, sign_order, clock) -> None:
    patient = factory.patient(family_name="Twodays")
    clock.set(TODAY - timedelta(days=2))
    sign_order(patient)
    clock.set(TODAY)
    page = text_of(nurse.get("/window"))
    assert f'<tr data-patient="{patient.id}">' in group(page, "due")


def test_a_split_dose_waits_its_interval_then_is_due(nurse, factory, sign_order, give, clock):
    patient = factory.patient(family_name="Split")
    split = [{"slot": "am", "fraction": 0.5}, {"slot": "pm", "fraction": 0.5}]
    sign_order(patient, dose_mg=80, split=split)
    assert give(patient, 40).status_code == 201  # the morning half, at 09:00
    clock.set(TODAY, time(12, 59))
    sign_in(nurse, "nurse1")  # the morning's session ended after 15 minutes idle
    blocked = group(text_of(nurse.get("/window")), "blocked")
    assert f'<tr data-patient="{patient.id}">' in blocked and "split dose: not yet" in blocked
    clock.set(TODAY, time(13, 0))
    due = group(text_of(nurse.get("/window")), "due")
    assert f'<tr data-patient="{patient.id}">' in due
    assert "40 mg" in due and "pm" in due and "1 of today's doses given" in due


def test_the_queue_follows_the_patients_page(nurse, day) -> None:
    """The queue's status is the patient page's: due there is due here, blocked is blocked."""
    assert "Due now" in text_of(nurse.get(f"/window/{day['due'].id}"))
    blocked = text_of(nurse.get(f"/window/{day['blocked'].id}"))
    assert "Due now" not in blocked and "missed on 3 consecutive days" in blocked


@pytest.mark.parametrize("role", ["prescriber", "auditor", "admin"])
def test_only_nurses_see_the_queue(client, staff, day, role) -> None:
    sign_in(client, staff[role].username)
    assert client.get("/window").status_code == 403
    assert client.get("/window/queue").status_code == 403
    assert not queue_reads()


def test_the_queue_needs_a_signed_in_user(client) -> None:
    for path in ("/window", "/window/queue"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_fragment_is_the_table_alone(nurse, day, give) -> None:
    fragment = text_of(nurse.get("/window/queue", headers={"X-Mat-Background": "1"}))
    assert "<html" not in fragment and 'id="q"' not in fragment
    assert f'<tr data-patient="{day["due"].id}">' in group(fragment, "due")
    assert give(day["due"], 40).status_code == 201
    fragment = text_of(nurse.get("/window/queue", headers={"X-Mat-Background": "1"}))
    assert not group(fragment, "due") and f"/window/{day['due'].id}" in group(fragment, "given")


def test_the_page_refreshes_without_javascript_too(nurse, day) -> None:
    page = nurse.get("/window").get_data(as_text=True)
    assert 'class="refresh"' in page and 'href="/window"' in page
    assert 'data-src="/window/queue"' in page and "queue.js" in page


# ---- the audit of the listing -----------------------------------------------------------


def test_a_refresh_with_the_same_patients_is_not_audited_again(nurse, day, factory, sign_order):
    nurse.get("/window")
    events = queue_reads()
    assert len(events) == 1
    listed = {day[n].id for n in ("due", "given", "withheld", "hold", "blocked", "later")}
    assert set(json.loads(events[0].detail)["results"]) == listed
    nurse.get("/window/queue")
    nurse.get("/window")
    assert len(queue_reads()) == 1  # the same patients: nothing new was read
    sign_order(factory.patient(family_name="Newcomer"))
    nurse.get("/window/queue")
    assert len(queue_reads()) == 2  # a new patient in the list: a new read


def test_the_session_keeps_no_patient_id_for_the_audit(nurse, day) -> None:
    response = nurse.get("/window")
    assert response.status_code == 200
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    for person in day.values():
        assert person.mrn not in cookies and person.family_name not in cookies


# ---- the scanner: MRN and Enter ---------------------------------------------------------


def scan(client: Any, term: str) -> Any:
    form = client.get("/window").get_data(as_text=True)
    return client.post("/window", data={"csrf_token": hidden(form, "csrf_token"), "q": term})


def test_a_scanned_mrn_opens_the_patient(nurse, day, factory) -> None:
    # Another MRN starts with this one: the exact MRN still opens its patient at once.
    factory.patient(family_name="Longer", mrn="Q-DUE2")
    response = scan(nurse, "Q-DUE")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/window/{day['due'].id}")
    assert scan(nurse, "q-due").headers["Location"].endswith(f"/window/{day['due'].id}")
    sealed()
    searches = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.search")
    ).all()
    assert [json.loads(e.detail)["results"] for e in searches] == [[day["due"].id]] * 2


def test_several_matches_are_listed_and_none_says_so(nurse, day) -> None:
    page = text_of(scan(nurse, "Q-"))
    assert "patients match" in page
    assert f"/window/{day['due'].id}" in page.split('id="queue"')[0]  # in the list, above
    page = text_of(scan(nurse, "Q-NOBODY"))
    assert "No patient matches “Q-NOBODY”" in page
    assert 'id="queue"' in page  # the queue stays under the message


def test_a_bad_scan_is_refused_and_nothing_searched(nurse, day) -> None:
    response = scan(nurse, "Q\u202eDUE")
    assert response.status_code == 422
    page = text_of(response)
    assert "That search cannot be read" in page and "Scan the card again" in page
    assert "422" not in page.split("<main")[1] and "Length" not in page
    assert 'id="queue"' not in page  # a refused request shows no patient (nothing is recorded)
    searches = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.search"))
    assert not searches.all()


def test_a_scan_without_the_csrf_token_is_refused(nurse, day) -> None:
    response = nurse.post("/window", data={"q": "Q-DUE"})
    assert response.status_code in (400, 403)


# ---- what it costs: a few queries for the whole clinic ----------------------------------


def statements(client: Any, path: str) -> int:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_the_queue_reads_in_a_constant_number_of_queries(nurse, day, factory, sign_order, give):
    nurse.get("/window/queue")  # the session's first listing (audited) is out of the way
    few = statements(nurse, "/window/queue")
    for n in range(30):
        patient = factory.patient(family_name=f"Many{n:02d}")
        sign_order(patient)
        if n % 3 == 0:
            assert give(patient, 40).status_code == 201
    nurse.get("/window/queue")  # the new listing is audited once
    many = statements(nurse, "/window/queue")
    # 20 today, on both engines: the session, the user, one query per kind of row.
    assert few <= 25 and many <= few + 2, (few, many)
