"""What nurses and prescribers see of the stock in a browser: a receipt signed by a witness on
the same screen, a count with a variance, and its resolution."""

from __future__ import annotations

from decimal import Decimal

from mat.stock import ledger
from mat.stock.records import StockCount, VarianceResolution
from tests.e2e.conftest import screenshot, sign_in, submit
from tests.stock.conftest import NEXT_YEAR, witness
from tests.support.checks import count
from tests.support.factories import PASSWORD


def receive(api, staff, lot: str, quantity: int) -> None:
    body = {"product": "METH-10MGML", "lot": lot, "expires_on": NEXT_YEAR.isoformat(),
            "quantity": quantity, "supplier": "Mallinckrodt", "order_form": "222-104455667",
            "witness": witness()}  # fmt: skip
    assert api("post", "/api/v1/stock/receipts", as_=staff["nurse"], json=body).status_code == 201


def test_a_nurse_receives_a_lot_witnessed_on_the_same_screen(page, staff) -> None:
    sign_in(page, "nurse1", PASSWORD)
    submit(page, page.get_by_role("link", name="Stock and receipts").click)
    screenshot(page, "stock-empty")
    page.get_by_label("Product", exact=True).first.select_option("METH-10MGML")
    page.get_by_label("Lot", exact=True).first.fill("MA-2291")
    page.get_by_label("Expires on").fill(NEXT_YEAR.isoformat())
    page.get_by_label("Quantity (mL or units)").fill("1000")
    page.get_by_label("Supplier").fill("Mallinckrodt Pharmaceuticals")
    page.get_by_label("DEA 222 / CSOS number").fill("222-104455667")
    page.get_by_label("Witness username").first.fill("nurse2")
    page.get_by_label("Witness password").first.fill(PASSWORD)
    screenshot(page, "stock-receipt-filled")
    submit(page, page.get_by_role("button", name="Record the receipt").click)
    assert (
        page.get_by_role("status")
        .first.inner_text()
        .startswith("Received 1000 mL of METH-10MGML lot MA-2291")
    )
    row = page.locator("table.grid tbody tr").first
    assert "MA-2291" in row.inner_text() and "1000" in row.inner_text()
    screenshot(page, "stock-received")
    assert list(ledger.cached_on_hand().values()) == [Decimal(1000)]


def test_a_count_with_a_variance_is_resolved_by_a_prescriber(page, staff, api) -> None:
    receive(api, staff, "MA-2291", 1000)
    sign_in(page, "nurse1", PASSWORD)
    submit(page, page.get_by_role("link", name="Daily count").click)
    assert "1000" not in page.locator("table.grid").inner_text()  # a blind count
    page.get_by_label("Counted METH-10MGML lot MA-2291").fill("994")
    page.get_by_label("Witness username").fill("nurse2")
    page.get_by_label("Witness password").fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Record the count").click)
    # 6 mL short, past the 1 mL tolerance: refused until explained.
    alert = page.get_by_role("alert").first.inner_text()
    assert "stock_reconciliation" in alert
    screenshot(page, "stock-count-refused")
    page.get_by_label("Counted METH-10MGML lot MA-2291").fill("994")
    page.get_by_label("Explanation of any difference").fill("Pump line leaked at close.")
    page.get_by_label("Witness username").fill("nurse2")
    page.get_by_label("Witness password").fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Record the count").click)
    assert "Variance open" in page.get_by_role("alert").first.inner_text()
    assert "stock_loss_report" in page.locator("main").inner_text()
    screenshot(page, "stock-count-open")
    assert count(StockCount) == 1

    submit(page, page.get_by_role("button", name="Sign out").click)
    sign_in(page, "doc", PASSWORD)
    card = page.get_by_role("status").first.inner_text()
    assert "Open stock variances (1)" in card and "Pump line leaked" in card
    screenshot(page, "home-prescriber-variance")
    submit(page, page.get_by_role("link", name="See the variances").click)
    page.get_by_label("Resolution").fill("Line replaced; 6 mL lost to the leak, confirmed.")
    screenshot(page, "stock-variance-resolving")
    submit(page, page.get_by_role("button", name="Resolve this variance").click)
    assert "is resolved" in page.get_by_role("status").first.inner_text()
    assert "No open variance." in page.locator("main").inner_text()
    screenshot(page, "stock-variance-resolved")
    assert count(VarianceResolution) == 1


def test_the_window_prints_labels_and_takes_back_a_scanned_bottle(
    page, staff, api, patient, clock, sign_order, take_home_criteria
) -> None:
    from datetime import timedelta

    from mat.stock.records import BottleReturn
    from tests.stock.conftest import SATURDAY, SUNDAY

    receive(api, staff, "MA-2291", 1000)
    sign_order(patient, take_home={"weekdays": ["sat", "sun"], "criteria": take_home_criteria})
    path = f"/api/v1/patients/{patient.id}"
    screen = {"collected_on": clock.now.date().isoformat(), "results": {"fentanyl": "negative"}}
    api("post", f"{path}/drug-screens", as_=staff["nurse"], json=screen)
    dates = [SATURDAY.isoformat(), SUNDAY.isoformat()]
    doses = api("post", f"{path}/take-homes", as_=staff["nurse"], json={"dates": dates})
    saturday = doses.get_json()["doses"][0]
    sign_in(page, "nurse1", PASSWORD)
    page.goto(f"/window/{patient.id}")
    page.wait_for_load_state()
    assert "Labels for today's take-homes (2)" in page.locator("main").inner_text()
    assert "MA-2291" in page.locator("main").inner_text()
    screenshot(page, "window-take-home-labels")
    with page.expect_popup() as popup:
        page.get_by_role("link", name="Print labels (sheet)").click()
    assert popup.value.url.endswith("layout=sheet")

    clock.set(SATURDAY + timedelta(days=2))  # the next visit
    sign_in(page, "nurse1", PASSWORD)  # the earlier session ended after 15 minutes idle
    page.goto(f"/window/{patient.id}")
    page.wait_for_load_state()
    flag = page.get_by_role("alert", name="Bottles not returned").inner_text()
    assert "2 take-home bottles not returned" in flag
    assert "Bottles not returned (2)" in page.locator("main").inner_text()
    screenshot(page, "window-bottles-out")
    page.get_by_label("Empty bottle returned: scan its label").fill(str(saturday["id"]))
    submit(page, lambda: page.keyboard.press("Enter"))  # a scanner types the id, then Enter
    # (the "Empty bottle ... returned." flash is shown by base.html, the frame's)
    flag = page.get_by_role("alert", name="Bottles not returned").inner_text()
    assert "1 take-home bottle not returned" in flag and f"dose {saturday['id']}" not in flag
    assert "Bottles not returned (1)" in page.locator("main").inner_text()
    screenshot(page, "window-bottle-returned")
    assert count(BottleReturn) == 1
