from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mat.orders.coverage import Coverage, governing, status

T1 = datetime(2026, 11, 1, 9, tzinfo=UTC)
T2 = datetime(2026, 11, 5, 9, tzinfo=UTC)


def cov(order_id, signed_at, start, end=None, stopped=None) -> Coverage:
    return Coverage(order_id, signed_at, start, end, stopped)


def test_a_newer_order_governs_from_its_start_date_on() -> None:
    old = cov(1, T1, date(2026, 11, 1))
    new = cov(2, T2, date(2026, 11, 8))
    orders = [old, new]
    assert governing(orders, date(2026, 11, 7)).order_id == 1
    assert governing(orders, date(2026, 11, 8)).order_id == 2
    assert governing(orders, date(2026, 10, 31)) is None


@pytest.mark.parametrize(
    "today, old_status, new_status",
    [
        (date(2026, 11, 6), "active", "active"),  # the new one is signed but starts later
        (date(2026, 11, 8), "superseded", "active"),
        (date(2026, 11, 20), "superseded", "active"),
    ],
)
def test_statuses_follow_the_clinic_date(today, old_status, new_status) -> None:
    old = cov(1, T1, date(2026, 11, 1))
    new = cov(2, T2, date(2026, 11, 8))
    assert status(old, [old, new], today) == old_status
    assert status(new, [old, new], today) == new_status


def test_discontinued_orders_stop_on_the_day() -> None:
    order = cov(1, T1, date(2026, 11, 1), stopped=date(2026, 11, 10))
    assert governing([order], date(2026, 11, 9)).order_id == 1
    assert governing([order], date(2026, 11, 10)) is None
    assert status(order, [order], date(2026, 11, 9)) == "discontinued"


def test_an_order_past_its_end_is_completed() -> None:
    order = cov(1, T1, date(2026, 11, 1), end=date(2026, 11, 14))
    assert status(order, [order], date(2026, 11, 14)) == "active"
    assert status(order, [order], date(2026, 11, 15)) == "completed"
    assert governing([order], date(2026, 11, 15)) is None


def test_a_discontinued_newer_order_does_not_supersede() -> None:
    old = cov(1, T1, date(2026, 11, 1))
    new = cov(2, T2, date(2026, 11, 8), stopped=date(2026, 11, 5))
    assert status(old, [old, new], date(2026, 11, 9)) == "active"
    assert governing([old, new], date(2026, 11, 9)).order_id == 1


def test_two_orders_signed_at_the_same_instant_are_ordered_by_id() -> None:
    first = cov(1, T1, date(2026, 11, 1))
    second = cov(2, T1, date(2026, 11, 3))
    assert governing([second, first], date(2026, 11, 4)).order_id == 2
    assert status(first, [first, second], date(2026, 11, 4)) == "superseded"
