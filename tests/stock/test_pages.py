"""The stock screens through the real HTTP stack: signed in with the form, CSRF tokens read from
the pages, the same services and rules as the API."""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

import pytest

from mat.stock.models import StockReceipt
from mat.stock.records import BottleReturn, StockCount
from tests.auth.test_pages import sign_in
from tests.dosing.test_window_pages import flashed, give_form, hidden
from tests.stock.conftest import NEXT_YEAR, SATURDAY
from tests.support.checks import audited_refusals, count
from tests.support.factories import PASSWORD

METH = "METH-10MGML"


def page_text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def signed_in(client: Any, username: str) -> Any:
    response = sign_in(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def csrf(client: Any, path: str = "/stock") -> str:
    return hidden(client.get(path).get_data(as_text=True), "csrf_token")


RECEIPT = {
    "product": METH,
    "lot": "L-100",
    "expires_on": NEXT_YEAR.isoformat(),
    "quantity": "1000",
    "supplier": "Mallinckrodt",
    "order_form": "222-000111222",
    "station": "window-1",
    "witness_username": "nurse2",
    "witness_password": PASSWORD,
    "form_token": "receipt-form-1",
}


def test_a_nurse_receives_stock_on_the_stock_page(client, staff, on_hand) -> None:
    signed_in(client, "nurse1")
    response = client.post("/stock/receipts", data={**RECEIPT, "csrf_token": csrf(client)})
    assert response.status_code == 303
    text = page_text(client.get("/stock"))
    assert "Received 1000 mL of METH-10MGML lot L-100 at window-1" in text
    assert "L-100" in text and "Mallinckrodt" in text
    assert on_hand() == {("window-1", METH, "L-100"): Decimal(1000)}
    again = client.post("/stock/receipts", data={**RECEIPT, "csrf_token": csrf(client)})
    assert again.status_code == 409 and "already sent" in page_text(again)
    assert on_hand() == {("window-1", METH, "L-100"): Decimal(1000)}  # received once


def test_a_refused_receipt_is_shown_with_its_rule_and_the_values_kept(client, staff) -> None:
    signed_in(client, "nurse1")
    data = {**RECEIPT, "witness_password": "wrong-password-123", "csrf_token": csrf(client)}
    response = client.post("/stock/receipts", data=data)
    assert response.status_code == 422
    text = page_text(response)
    assert "stock_receipt" in text and "witness's username or password is wrong" in text
    assert 'value="Mallinckrodt"' in text and "wrong-password-123" not in text
    assert count(StockReceipt) == 0
    assert [r[0] for r in audited_refusals()] == [422]  # audited once, by the stock page


@pytest.mark.parametrize(
    "username, path, status",
    [
        ("audit", "/stock", 200),
        ("doc", "/stock", 403),
        ("doc", "/stock/variances", 200),
        ("audit", "/stock/count", 403),
        ("boss", "/stock/count", 403),
        ("nurse1", "/stock/count", 200),
        ("nurse1", "/stock/report", 403),
        ("audit", "/stock/report", 200),
        ("boss", "/stock/records", 200),
        ("audit", "/stock/inventories", 200),
        ("doc", "/stock/recall", 200),
    ],
)
def test_each_role_sees_its_screens(client, staff, username, path, status) -> None:
    signed_in(client, username)
    assert client.get(path).status_code == status


def test_an_auditor_cannot_post_a_receipt(client, staff) -> None:
    signed_in(client, "audit")
    response = client.post("/stock/receipts", data={**RECEIPT, "csrf_token": csrf(client)})
    assert response.status_code == 403 and count(StockReceipt) == 0


def test_a_count_with_a_variance_and_its_resolution(client, staff, receive) -> None:
    receive("L-100", 1000)
    signed_in(client, "nurse1")
    form = client.get("/stock/count").get_data(as_text=True)
    assert "L-100" in form and "1000" not in form  # a blind count: nothing expected shown
    data = {
        "csrf_token": hidden(form, "csrf_token"),
        "lines": "1",
        "product-0": METH,
        "lot-0": "L-100",
        "quantity-0": "990",
        "witness_username": "nurse2",
        "witness_password": PASSWORD,
        "form_token": hidden(form, "form_token"),
    }
    refused = client.post("/stock/count", data=data)
    assert refused.status_code == 422
    assert "stock_reconciliation" in page_text(refused) and count(StockCount) == 0
    response = client.post("/stock/count", data={**data, "explanation": "Bottle cracked."})
    assert response.status_code == 303
    result = page_text(client.get(response.headers["Location"]))
    assert "Variance open" in result and "stock_loss_report" in result
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    signed_in(client, "doc")
    home = page_text(client.get("/"))
    assert "Open stock variances (1)" in home and "Bottle cracked." in home
    count_id = client.get("/stock/variances").get_data(as_text=True)
    token = hidden(count_id, "csrf_token")
    counted = StockCount.query.one()
    done = client.post(
        f"/stock/variances/{counted.id}/resolve",
        data={"csrf_token": token, "resolution": "Cracked bottle confirmed and photographed."},
    )
    assert done.status_code == 303
    assert "Open stock variances" not in page_text(client.get("/"))


def test_the_window_shows_the_lot_units_labels_and_bottles(
    client, staff, patient, receive, hand_out, clock
) -> None:
    receive("L-100", 1000)
    saturday, sunday = hand_out(patient)
    signed_in(client, "nurse1")
    page = page_text(client.get(f"/window/{patient.id}"))
    assert "Labels for today's take-homes (2)" in page
    assert f"/window/{patient.id}/labels?layout=thermal" in page
    pdf = client.get(f"/window/{patient.id}/labels?layout=sheet")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    # The next visit, on Monday: the weekend's bottles are due back.
    from datetime import timedelta

    clock.set(SATURDAY + timedelta(days=2))
    signed_in(client, "nurse1")  # Saturday's session ended after 15 minutes idle
    page = page_text(client.get(f"/window/{patient.id}"))
    assert "Bottles not returned (2)" in page and f"dose {saturday['id']}" in page
    token = hidden(page, "csrf_token")
    response = client.post(
        f"/window/{patient.id}/bottles", data={"csrf_token": token, "dose_id": str(saturday["id"])}
    )
    assert response.status_code == 303
    assert f"Empty bottle of dose {saturday['id']} returned." in flashed(client)[0]
    page = page_text(client.get(f"/window/{patient.id}"))
    assert "Bottles not returned (1)" in page
    again = client.post(
        f"/window/{patient.id}/bottles", data={"csrf_token": token, "dose_id": str(saturday["id"])}
    )
    assert again.status_code == 409 and "already returned" in page_text(again)
    assert count(BottleReturn) == 1
    assert sunday["id"]


def test_a_bottle_of_another_patient_is_refused_without_naming_them(
    client, staff, factory, patient, receive, hand_out
) -> None:
    receive("L-100", 1000)
    other = factory.patient(family_name="Elsewhere")
    their_dose, _ = hand_out(other)
    signed_in(client, "nurse1")
    token = hidden(client.get(f"/window/{patient.id}").get_data(as_text=True), "csrf_token")
    response = client.post(
        f"/window/{patient.id}/bottles",
        data={"csrf_token": token, "dose_id": str(their_dose["id"])},
    )
    assert response.status_code == 422
    text = page_text(response)
    assert "another patient" in text and "Elsewhere" not in text
    assert count(BottleReturn) == 0
    # Audited once, naming the patient whose window it was (not the bottle's patient).
    assert [(r[0], r[2]) for r in audited_refusals()] == [(422, patient.id)]


def test_labels_when_none_was_handed_out_today_are_refused_naming_the_patient(
    client, staff, patient
) -> None:
    signed_in(client, "nurse1")
    response = client.get(f"/window/{patient.id}/labels?layout=sheet")
    assert response.status_code == 422 and "no label to print" in page_text(response)
    assert audited_refusals() == [(422, "no_take_homes", patient.id)]


def test_the_window_gives_a_solid_form_in_units_from_its_lot(
    client, staff, patient, receive, sign_order
) -> None:
    receive("F-1", 60, product="BUPNX-FILM-8")
    sign_order(patient, medication="BUPNX-FILM-8", dose_mg=16)
    signed_in(client, "nurse1")
    page = page_text(client.get(f"/window/{patient.id}"))
    assert "Give 16 mg (2 films of 8 mg)" in page and "F-1" in page and "window-1" in page
    form = give_form(page)  # as the confirm step posts it
    response = client.post(f"/window/{patient.id}/give", data=form)
    assert response.status_code == 303
    assert "Recorded: 16 mg (2 films of 8 mg)" in flashed(client)[0]
    assert "lot F-1" in flashed(client)[0]


def test_no_stock_at_the_station_is_said_before_give_and_refused_on_give(
    client, staff, patient, receive, sign_order, api
) -> None:
    api("post", "/api/v1/stock/stations", as_=staff["admin"], json={"code": "vault", "name": "V"})
    receive("L-100", 1000, station="vault")
    sign_order(patient)
    signed_in(client, "nurse1")
    page = page_text(client.get(f"/window/{patient.id}"))
    assert "Stock at window-1" in page and "stock_insufficient" in page
    form = give_form(page)  # as the confirm step posts it
    refused = client.post(f"/window/{patient.id}/give", data=form)
    assert refused.status_code == 422 and "stock_insufficient" in page_text(refused)
    # Working at the vault for the session, the dose is drawn there.
    response = client.post("/stock/station", data={"csrf_token": csrf(client), "station": "vault"})
    assert response.status_code == 303
    page = page_text(client.get(f"/window/{patient.id}"))
    form = give_form(page)  # as the confirm step posts it
    assert client.post(f"/window/{patient.id}/give", data=form).status_code == 303
    assert "lot L-100" in flashed(client)[-1]


def test_the_recall_screen_lists_who_received_a_lot(
    client, staff, patient, give, receive, sign_order
):
    receive("L-100", 1000)
    sign_order(patient)
    give(patient, 40)
    signed_in(client, "audit")
    page = page_text(client.get(f"/stock/recall?product={METH}&lot=L-100"))
    assert patient.mrn in page and "1 dose" in page
    unknown = client.get(f"/stock/recall?product={METH}&lot=NOPE")
    assert unknown.status_code == 422


def test_the_stock_report_downloads_from_its_page(client, staff, receive) -> None:
    receive("L-100", 1000)
    signed_in(client, "audit")
    response = client.get("/stock/report?download=1&from=2026-11-16&to=2026-11-16&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "L-100" in response.get_data(as_text=True)
    bad = client.get("/stock/report?download=1&from=2026-11-16&to=2026-11-01&format=csv")
    assert bad.status_code == 422 and "after" in page_text(bad)


def test_an_inventory_is_taken_on_its_screen(client, staff, receive) -> None:
    from mat.stock.records import Inventory

    receive("L-100", 1000)
    signed_in(client, "nurse1")
    form = client.get("/stock/inventories").get_data(as_text=True)
    assert "take the initial inventory" in form
    data = {
        "csrf_token": hidden(form, "csrf_token"),
        "kind": "initial",
        "taken_on": "2026-11-16",
        "taken_at": "opening",
        "lines": "1",
        "station-0": "window-1",
        "product-0": METH,
        "lot-0": "L-100",
        "quantity-0": "1000",
        "witness_username": "nurse2",
        "witness_password": PASSWORD,
        "form_token": hidden(form, "form_token"),
    }
    refused = client.post("/stock/inventories", data={**data, "quantity-0": "990"})
    assert refused.status_code == 422 and "stock_reconciliation" in page_text(refused)
    assert client.post("/stock/inventories", data=data).status_code == 303
    page = page_text(client.get("/stock/inventories"))
    assert "initial inventory of 2026-11-16 is recorded" in page
    assert "next biennial inventory is due by 2028-11-16" in page
    assert count(Inventory) == 1


def test_form_106_and_form_41_on_their_screen(client, staff, factory, receive, on_hand) -> None:
    from mat.stock.records import Destruction, TheftLossReport

    factory.user("nurse", username="nurse3")
    receive("L-100", 1000)
    signed_in(client, "nurse1")
    token = hidden(client.get("/stock/records").get_data(as_text=True), "csrf_token")
    loss = {"csrf_token": token, "station": "window-1", "product": METH, "lot": "L-100",
            "quantity": "50", "kind": "theft", "found_on": "2026-11-16",
            "circumstances": "Cabinet found forced at opening."}  # fmt: skip
    assert client.post("/stock/records/theft-loss", data=loss).status_code == 303
    destroy = {"csrf_token": token, "station": "window-1", "product": METH, "lot": "L-100",
               "quantity": "20", "method": "Chemical digester.", "reason": "Damaged bottle.",
               "witness1_username": "nurse2", "witness1_password": PASSWORD,
               "form_token": "destroy-1"}  # fmt: skip
    refused = client.post("/stock/records/destruction", data=destroy)
    assert refused.status_code == 422 and "witnessed by two people" in page_text(refused)
    destroy |= {"witness2_username": "nurse3", "witness2_password": PASSWORD}
    assert client.post("/stock/records/destruction", data=destroy).status_code == 303
    page = page_text(client.get("/stock/records"))
    assert "Cabinet found forced" in page and "Chemical digester." in page
    assert count(TheftLossReport) == 1 and count(Destruction) == 1
    assert on_hand() == {("window-1", METH, "L-100"): Decimal(980)}
