"""Clinic closures on the admin's page: a calendar of the coming months and the declare form,
through ``close_clinic`` with the API's refusals. No way to cancel one is offered."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from mat.admin.closures import months_from
from mat.dosing.models import ClinicClosure
from mat.extensions import db
from tests.admin.conftest import form_post, hidden, text_of
from tests.conftest import TODAY
from tests.support.checks import audited_refusals, count

CHRISTMAS = date(2026, 12, 25)


def declare(admin: Any, day: date | str, reason: str = "Christmas Day") -> Any:
    when = day if isinstance(day, str) else day.isoformat()
    return form_post(admin, "/admin/closures", "/admin/closures", {"date": when, "reason": reason})


def test_the_calendar_shows_three_months_as_tables(admin) -> None:
    page = text_of(admin.get("/admin/closures"))
    captions = re.findall(r"<caption>([^<]+)</caption>", page)
    assert captions == ["November 2026", "December 2026", "January 2027"]
    assert page.count('<th scope="col"><abbr title="Monday">Mo</abbr></th>') == 3
    assert 'aria-current="date"' in page
    assert "cannot be cancelled or removed" in page
    assert "No closure is declared" in page


def test_month_grids_start_on_monday_and_cover_each_month() -> None:
    months = months_from(date(2026, 12, 31), 3)
    assert [m.first for m in months] == [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    for month in months:
        days = [d for week in month.weeks for d in week]
        assert all(week[0].weekday() == 0 for week in month.weeks)
        assert {d.day for d in days if d.month == month.first.month} >= {1, 28}


def test_a_closure_is_declared_and_marked_on_the_calendar(admin, staff) -> None:
    response = declare(admin, CHRISTMAS)
    assert response.status_code == 303
    closure = db.session.query(ClinicClosure).one()
    assert closure.date == CHRISTMAS and closure.reason == "Christmas Day"
    assert closure.by_id == staff["admin"].id
    page = text_of(admin.get("/admin/closures"))
    cell = re.search(r'<td class="[^"]*closed[^"]*">.*?</td>', page, re.S).group(0)
    assert '<span class="day">25</span>' in cell and "Christmas Day" in cell
    assert "Fri 25 Dec 2026" in page


def test_a_day_already_closed_is_refused(admin) -> None:
    assert declare(admin, CHRISTMAS).status_code == 303
    response = declare(admin, CHRISTMAS, "Again")
    assert response.status_code == 409
    text = text_of(response)
    assert "The clinic is already closed on 2026-12-25." in text and "duplicate" not in text
    assert count(ClinicClosure) == 1
    assert audited_refusals() == [
        (409, "duplicate_closure", None)
    ]  # audited once, by the admin page


def test_dates_out_of_the_api_range_are_refused(admin) -> None:
    """The API's range (``closure_date_problem``): at most a year back (a closure recorded
    after the fact), at most two years ahead."""
    too_early = TODAY - timedelta(days=366)
    response = declare(admin, too_early, "Snow")
    assert response.status_code == 422
    text = text_of(response)
    assert "The closure date is out of range." in text and "a year back" in text
    assert declare(admin, TODAY + timedelta(days=731), "Far").status_code == 422
    assert count(ClinicClosure) == 0
    assert declare(admin, TODAY - timedelta(days=365), "Snow").status_code == 303
    assert declare(admin, TODAY + timedelta(days=730), "Far").status_code == 303
    assert count(ClinicClosure) == 2


def test_a_missing_date_or_short_reason_is_refused_in_plain_words(admin) -> None:
    response = declare(admin, "", "ok")
    assert response.status_code == 422
    text = text_of(response)
    assert "Fill this in." in text and "Write at least 3 characters (at most 2000)." in text
    assert "Length must" not in text and "Missing data" not in text
    assert declare(admin, "25/12/2026").status_code == 422
    assert count(ClinicClosure) == 0


def test_a_double_click_declares_one_closure(admin) -> None:
    page = admin.get("/admin/closures").get_data(as_text=True)
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "token": hidden(page, "token"),
        "date": CHRISTMAS.isoformat(),
        "reason": "Christmas Day",
    }
    assert admin.post("/admin/closures", data=data).status_code == 303
    second = admin.post("/admin/closures", data=data)
    assert second.status_code == 409 and "already sent" in text_of(second)
    assert count(ClinicClosure) == 1


def test_no_cancel_is_offered(admin) -> None:
    declare(admin, CHRISTMAS)
    page = admin.get("/admin/closures").get_data(as_text=True)
    assert "Cancel" not in page and "Delete" not in page and "Remove</button>" not in page
    assert admin.post("/admin/closures/1/delete").status_code in (400, 404, 405)
