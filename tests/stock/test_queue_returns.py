"""The nurse's queue (/window) lists the take-home bottles due back today, per patient."""

from __future__ import annotations

from datetime import timedelta

from tests.auth.test_pages import sign_in
from tests.dosing.test_queue_pages import count_of, group
from tests.dosing.test_window_pages import text_of
from tests.stock.conftest import SATURDAY


def test_the_weekend_bottles_are_due_back_on_monday(
    client, staff, patient, receive, hand_out, clock
):
    receive("L-100", 1000)
    hand_out(patient)
    sign_in(client, "nurse1")
    page = text_of(client.get("/window"))
    assert count_of(page, "returns") == 0 and not group(page, "returns")  # not due yet
    clock.set(SATURDAY + timedelta(days=2))
    sign_in(client, "nurse1")  # Saturday's session ended after 15 minutes idle
    page = text_of(client.get("/window"))
    returns = group(page, "returns")
    assert f"/window/{patient.id}" in returns and "2 bottles:" in returns
    assert count_of(page, "returns") == 1
