"""The stock rules at their boundaries, table by table as clinical-rules.md states them
("Controlled-substance stock")."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from mat.formulary.catalog import BY_CODE
from mat.profiles import load_profile
from mat.stock.rules import (
    CountedLot,
    LotStock,
    choose_lot,
    is_expired,
    is_measurable_quantity,
    judge_count,
    loss_warnings,
    quantity_of,
    quantity_text,
    receipt_violations,
    tolerance,
)

FEDERAL = load_profile("us-federal")
DAY = date(2026, 11, 16)
METH = BY_CODE["METH-10MGML"]
FILM = BY_CODE["BUPNX-FILM-8"]
NTX = BY_CODE["NTX-TAB-50"]


def lot(n: int, on_hand: str, expires_in_days: int = 100) -> LotStock:
    return LotStock(n, f"L{n}", DAY + timedelta(days=expires_in_days), Decimal(on_hand))


def choose(lots: list[LotStock], quantity: str, today: date = DAY):
    return choose_lot(
        lots, Decimal(quantity), today, product=METH, station="window-1", profile=FEDERAL
    )


def rules_of(found) -> list[str]:
    return [v.rule for v in found]


# ---- stock_expired -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expires_on, today, expired",
    [
        (DAY, DAY - timedelta(days=1), False),
        (DAY, DAY, False),  # usable on its expiry date
        (DAY, DAY + timedelta(days=1), True),  # past it from the next day
    ],
)
def test_a_lot_expires_at_the_end_of_its_expiry_date(expires_on, today, expired) -> None:
    assert is_expired(expires_on, today) is expired
    lots = [LotStock(1, "L1", expires_on, Decimal(100))]
    chosen, found = choose(lots, "4", today)
    assert (chosen is None) is expired
    assert rules_of(found) == (["stock_expired"] if expired else [])


def test_only_expired_stock_left_fires_only_stock_expired() -> None:
    chosen, found = choose([lot(1, "500", expires_in_days=-1)], "4")
    assert chosen is None and rules_of(found) == ["stock_expired"]
    assert "Form 41" in found[0].message


def test_expired_stock_and_a_short_lot_fire_both_rules() -> None:
    chosen, found = choose([lot(1, "500", expires_in_days=-1), lot(2, "3")], "4")
    assert chosen is None
    assert rules_of(found) == ["stock_expired", "stock_insufficient"]
    assert "L2 holds 3 mL" in found[1].message


# ---- stock_insufficient --------------------------------------------------------------------


@pytest.mark.parametrize(
    "on_hand, quantity, drawn",
    [
        ("4.1", "4", True),
        ("4", "4", True),  # exactly the dose: the container is emptied
        ("3.9", "4", False),  # less than the dose: never drawn from
        ("0.1", "0.1", True),
    ],
)
def test_a_lot_holding_less_than_the_dose_is_not_drawn(on_hand, quantity, drawn) -> None:
    chosen, found = choose([lot(1, on_hand)], quantity)
    assert (chosen is not None) is drawn
    assert rules_of(found) == ([] if drawn else ["stock_insufficient"])


def test_no_stock_at_all_is_stock_insufficient() -> None:
    chosen, found = choose([], "4")
    assert chosen is None and rules_of(found) == ["stock_insufficient"]
    assert "no stock of it here" in found[0].message


def test_first_expiring_lot_holding_the_dose_is_chosen_ties_by_lot_id() -> None:
    lots = [lot(3, "100", 50), lot(1, "2", 10), lot(2, "100", 50), lot(4, "100", 200)]
    chosen, found = choose(lots, "4")
    assert chosen is not None and chosen.lot_id == 2 and found == []


def test_expired_lots_are_passed_over_for_a_fresh_one() -> None:
    chosen, found = choose([lot(1, "100", -5), lot(2, "100", 30)], "4")
    assert chosen is not None and chosen.lot_id == 2 and found == []


# ---- quantities ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "product, amount_mg, quantity, text",
    [
        (METH, "40", "4.0", "4 mL"),
        (METH, "37.5", "3.8", "3.8 mL"),  # the planned 0.1 mL step, as the window draws it
        (FILM, "8", "1", "1 film"),
        (FILM, "64", "8", "8 films"),
        (NTX, "25", "0.5", "0.5 tablet"),
        (NTX, "100", "2", "2 tablets"),
    ],
)
def test_a_dose_takes_ml_of_a_liquid_and_units_of_a_solid(product, amount_mg, quantity, text):
    assert quantity_of(product, Decimal(amount_mg)) == Decimal(quantity)
    assert quantity_text(product, quantity_of(product, Decimal(amount_mg))) == text


@pytest.mark.parametrize(
    "product, quantity, measurable",
    [
        (METH, "1000", True),
        (METH, "0.1", True),
        (METH, "0.05", False),
        (METH, "0", False),
        (FILM, "30", True),
        (FILM, "29.5", False),
        (NTX, "29.5", True),  # scored: half tablets
        (NTX, "29.25", False),
    ],
)
def test_stock_quantities_are_measurable(product, quantity, measurable) -> None:
    assert is_measurable_quantity(product, Decimal(quantity)) is measurable


# ---- stock_receipt -------------------------------------------------------------------------


def receipt(expires_on: date, known: date | None = None) -> list[str]:
    return rules_of(
        receipt_violations(
            product=METH,
            lot_number="L1",
            expires_on=expires_on,
            received_on=DAY,
            known_expiry=known,
            profile=FEDERAL,
        )
    )


@pytest.mark.parametrize(
    "expires_on, refused",
    [(DAY + timedelta(days=1), False), (DAY, False), (DAY - timedelta(days=1), True)],
)
def test_an_expired_lot_is_not_received(expires_on, refused) -> None:
    assert receipt(expires_on) == (["stock_receipt"] if refused else [])


def test_a_known_lot_number_with_another_expiry_is_refused() -> None:
    later = DAY + timedelta(days=200)
    assert receipt(later, known=later) == []
    assert receipt(later, known=later + timedelta(days=1)) == ["stock_receipt"]


def test_all_receipt_reasons_at_once() -> None:
    assert receipt(DAY - timedelta(days=1), known=DAY) == ["stock_receipt", "stock_receipt"]


# ---- stock_reconciliation: the tolerance ---------------------------------------------------


@pytest.mark.parametrize(
    "drawn_today, allowed",
    [
        ("0", "1"),  # nothing drawn: 1 mL
        ("100", "1"),  # 0.5 % is 0.5 mL: 1 mL is larger
        ("200", "1"),  # 0.5 % is exactly 1 mL
        ("400", "2"),  # 0.5 % of 400 mL
        ("1234", "6.17"),
    ],
)
def test_a_liquid_line_may_differ_by_the_larger_of_half_a_percent_and_1_ml(drawn_today, allowed):
    assert tolerance(METH, Decimal(drawn_today), FEDERAL) == Decimal(allowed)


def line(expected: str, counted: str, drawn: str = "0", product=METH) -> CountedLot:
    return CountedLot(1, "L1", product, Decimal(expected), Decimal(counted), Decimal(drawn))


@pytest.mark.parametrize(
    "expected, counted, drawn, beyond",
    [
        ("500", "499", "0", False),  # 1 mL short: at tolerance
        ("500", "501", "0", False),  # 1 mL over: at tolerance
        ("500", "498.9", "0", True),  # past 1 mL
        ("500", "498", "400", False),  # 2 mL of 400 drawn: 0.5 %
        ("500", "497.9", "400", True),
    ],
)
def test_liquid_variances_at_and_past_tolerance(expected, counted, drawn, beyond) -> None:
    results, found = judge_count([line(expected, counted, drawn)], None, "window-1", FEDERAL)
    assert results[0].beyond_tolerance is beyond
    assert results[0].variance == Decimal(counted) - Decimal(expected)
    assert rules_of(found) == (["stock_reconciliation"] if beyond else [])


@pytest.mark.parametrize("counted, beyond", [("60", False), ("59", True), ("61", True)])
def test_any_unit_of_a_solid_is_a_variance(counted, beyond) -> None:
    results, found = judge_count([line("60", counted, product=FILM)], None, "w", FEDERAL)
    assert results[0].beyond_tolerance is beyond
    assert rules_of(found) == (["stock_reconciliation"] if beyond else [])


def test_an_explanation_lets_a_variance_be_recorded_and_every_line_is_named() -> None:
    lines = [line("500", "490"), line("60", "58", product=FILM)]
    _, found = judge_count(lines, None, "window-1", FEDERAL)
    assert rules_of(found) == ["stock_reconciliation", "stock_reconciliation"]
    _, found = judge_count(lines, "  ", "window-1", FEDERAL)
    assert len(found) == 2  # blank is no explanation
    results, found = judge_count(lines, "Pump recalibrated; see log.", "window-1", FEDERAL)
    assert found == [] and all(r.beyond_tolerance for r in results)


def test_missing_stock_past_tolerance_warns_stock_loss_report() -> None:
    results, _ = judge_count([line("500", "490"), line("500", "510")], "x", "window-1", FEDERAL)
    [warning] = loss_warnings(results, "window-1", FEDERAL)
    assert (warning.rule, warning.severity) == ("stock_loss_report", "warn")
    assert "10 mL missing" in warning.message and "Form 106" in warning.message
    over, _ = judge_count([line("500", "510")], "x", "window-1", FEDERAL)
    assert loss_warnings(over, "window-1", FEDERAL) == []


def test_the_tolerance_comes_from_the_profile() -> None:
    strict = replace(
        FEDERAL,
        id="us-xx",
        stock_tolerance_liquid_percent=Decimal("0.1"),
        stock_tolerance_liquid_min_ml=Decimal("0.5"),
    )
    assert tolerance(METH, Decimal(0), strict) == Decimal("0.5")
    assert tolerance(METH, Decimal(1000), strict) == Decimal(1)
    assert load_profile("us-federal").severity("stock_reconciliation") == "block"


def test_a_profile_looser_on_the_tolerance_is_refused(tmp_path) -> None:
    import json

    from mat.profiles import ProfileError
    from tests.test_profiles import overlay

    path = tmp_path / "loose.json"
    path.write_text(json.dumps(overlay(stock_tolerance_liquid_min_ml=2)), encoding="utf-8")
    with pytest.raises(ProfileError, match="stock_tolerance_liquid_min_ml is 2"):
        load_profile(str(path))
    path.write_text(json.dumps(overlay(stock_tolerance_solid_units=0)), encoding="utf-8")
    assert load_profile(str(path)).stock_tolerance_solid_units == 0
