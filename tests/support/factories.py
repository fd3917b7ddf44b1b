"""Factories for test data, written through the real models and services."""

from __future__ import annotations

import itertools
from datetime import date
from functools import cache
from typing import Any

from flask import Flask

from mat.auth.credentials import hash_password
from mat.auth.models import User, UserRole
from mat.auth.service import issue_token
from mat.database import utcnow
from mat.extensions import db
from mat.patients.models import Patient

PASSWORD = "correct-horse-battery"
# The five federal take-home criteria (2024), all answered yes.
CRITERIA = {
    "no_active_use_or_risk": True,
    "regular_attendance": True,
    "no_behavioral_problems": True,
    "no_diversion": True,
    "safe_transport_and_storage": True,
}
# What a prescriber writes when the benefits of take-homes outweigh the risks.
RATIONALE = "Stable on this dose for months; lock box seen; works weekdays."


@cache
def _hash(password: str) -> str:
    # argon2 is slow on purpose; hash each test password once per run, not once per user.
    return hash_password(password)


class Factory:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._seq = itertools.count(1)
        self._tokens: dict[int, str] = {}

    def user(
        self,
        *roles: str,
        username: str | None = None,
        password: str = PASSWORD,
        initials: str = "TU",
    ) -> User:
        n = next(self._seq)
        user = User(
            username=username or f"user{n}",
            full_name=f"Test User {n}",
            initials=initials,
            password_hash=_hash(password),
            roles=[UserRole(role=r) for r in roles],
        )
        db.session.add(user)
        db.session.commit()
        return user

    def token(self, user: User) -> str:
        if user.id not in self._tokens:
            raw, _ = issue_token(user, utcnow())
            db.session.commit()
            self._tokens[user.id] = raw
        return self._tokens[user.id]

    def patient(self, **overrides: Any) -> Patient:
        n = next(self._seq)
        values: dict[str, Any] = {
            "mrn": f"MRN-{n:05d}",
            "given_name": "Test",
            "family_name": f"Patient{n}",
            "date_of_birth": date(1985, 5, 17),
            "admitted_on": date(2026, 11, 2),
            "level_of_care": "outpatient",
        }
        values.update(overrides)
        patient = Patient(**values)
        db.session.add(patient)
        db.session.commit()
        return patient
