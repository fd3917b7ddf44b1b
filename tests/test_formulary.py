from __future__ import annotations

from decimal import Decimal

import pytest

from mat.formulary.catalog import BY_CODE, PRODUCTS


def test_the_formulary_has_the_seven_contract_products(api, staff) -> None:
    response = api("get", "/api/v1/medications", as_=staff["auditor"])
    assert response.status_code == 200
    rows = {m["code"]: m for m in response.get_json()}
    assert set(rows) == {
        "METH-10MGML",
        "METH-1MGML",
        "BUP-SL-2",
        "BUP-SL-8",
        "BUPNX-FILM-2",
        "BUPNX-FILM-8",
        "NTX-TAB-50",
    }
    assert rows["METH-10MGML"] == {
        "code": "METH-10MGML",
        "name": "Methadone HCl oral concentrate 10 mg/mL",
        "substance": "methadone",
        "form": "liquid",
        "strength_mg": 10,
        "per_ml": 10,
        "unit": "mL",
    }
    assert rows["BUP-SL-8"]["per_ml"] is None and rows["BUP-SL-8"]["unit"] == "tablet"


def test_migration_rows_match_the_catalog(app) -> None:
    from sqlalchemy import select

    from mat.extensions import db
    from mat.formulary.models import Medication

    stored = {m.code: m.as_product() for m in db.session.scalars(select(Medication))}
    assert stored == {p.code: p for p in PRODUCTS}


def test_formulary_needs_a_token(api) -> None:
    assert api("get", "/api/v1/medications").status_code == 401


@pytest.mark.parametrize(
    "code, amount, measurable",
    [
        ("METH-10MGML", "45", True),
        ("METH-10MGML", "45.5", False),
        ("METH-1MGML", "45.5", True),
        ("METH-1MGML", "45.55", False),
        ("BUP-SL-2", "4", True),
        ("BUP-SL-2", "3", False),
        ("BUPNX-FILM-8", "16", True),
        ("BUPNX-FILM-8", "12", False),
        ("NTX-TAB-50", "25", True),
        ("NTX-TAB-50", "30", False),
    ],
)
def test_measurability(code, amount, measurable) -> None:
    assert BY_CODE[code].is_measurable(Decimal(amount)) is measurable


def test_liquid_volume_is_exact() -> None:
    assert BY_CODE["METH-10MGML"].volume_ml(Decimal("85")) == Decimal("8.5")
    assert BY_CODE["BUP-SL-8"].volume_ml(Decimal("8")) is None
