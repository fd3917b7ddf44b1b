"""Import bodies for the tests: a patient with a maintenance order and a dose every day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.conftest import TODAY
from tests.support.factories import CRITERIA, RATIONALE


def patient_row(mrn: str, admitted_on: date, **overrides: Any) -> dict[str, Any]:
    return {
        "mrn": mrn,
        "given_name": "Imported",
        "family_name": f"Patient {mrn}",
        "date_of_birth": "1980-03-04",
        "admitted_on": admitted_on.isoformat(),
        "level_of_care": "outpatient",
        **overrides,
    }


def order_row(mrn: str, start: date, dose_mg: int = 60, **overrides: Any) -> dict[str, Any]:
    return {
        "patient_mrn": mrn,
        "prescribed_by": "Dr. A. Former (Old Clinic)",
        "medication": "METH-10MGML",
        "kind": "maintenance",
        "start_date": start.isoformat(),
        "dose_mg": dose_mg,
        **overrides,
    }


def take_home_order_row(mrn: str, start: date, dose_mg: int = 60) -> dict[str, Any]:
    return order_row(
        mrn,
        start,
        dose_mg,
        take_home={"weekdays": ["sun"], "criteria": dict(CRITERIA), "rationale": RATIONALE},
    )


def dose_rows(
    mrn: str, first: date, last: date, amount: int = 60, skip: frozenset[date] = frozenset()
) -> list[dict[str, Any]]:
    rows = []
    day = first
    while day <= last:
        if day not in skip:
            rows.append(
                {
                    "patient_mrn": mrn,
                    "date": day.isoformat(),
                    "medication": "METH-10MGML",
                    "amount_mg": amount,
                    "mode": "observed",
                }
            )
        day += timedelta(days=1)
    return rows


def one_patient_body(mrn: str = "OLD-1", days: int = 200, **extra: Any) -> dict[str, Any]:
    """A patient on treatment day ``days + 1`` today, dosed every day until yesterday."""
    admitted = TODAY - timedelta(days=days)
    return {
        "source": "OldClinic EHR export 2026-11-15",
        "dry_run": False,
        "patients": [patient_row(mrn, admitted)],
        "orders": [order_row(mrn, admitted)],
        "doses": dose_rows(mrn, admitted, TODAY - timedelta(days=1)),
        "drug_screens": [
            {
                "patient_mrn": mrn,
                "collected_on": (TODAY - timedelta(days=6)).isoformat(),
                "results": {"methadone": "positive", "opiates": "negative"},
            }
        ],
        **extra,
    }
