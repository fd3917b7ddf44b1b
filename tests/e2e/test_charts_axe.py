"""axe-core on the prescriber's pages: no serious or critical violation."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import sign_in, submit
from tests.support.factories import PASSWORD


def serious(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_the_prescriber_pages_pass_axe(page, staff, patient, sign_order, api) -> None:
    sign_order(patient)
    api("post", f"/api/v1/patients/{patient.id}/holds", as_=staff["nurse"],
        json={"reason": "Sedated"})  # fmt: skip
    sign_in(page, "doc", PASSWORD)
    page.goto("/charts")
    assert serious(page) == []
    page.goto(f"/charts/{patient.id}")
    assert serious(page) == []
    page.goto(f"/charts/{patient.id}/orders/new")
    assert serious(page) == []
    page.get_by_label("Medication", exact=True).select_option("METH-10MGML")
    page.get_by_label("Kind of order").select_option("maintenance")
    page.get_by_label("Daily dose (mg): maintenance or induction").fill("45")
    submit(page, page.get_by_role("button", name="Preview").click)
    assert serious(page) == []
    # The check can fail: a button without a name is a serious violation.
    page.evaluate("document.querySelector('main').append(document.createElement('button'))")
    assert any(v.startswith("button-name") for v in serious(page))
