"""The demo clinic: invented staff and patients for ``make run`` and screenshots.

Every name here is made up. The demo passwords are printed by ``demo seed`` and listed in the
README; they exist only in demo databases.
"""

from __future__ import annotations

import random
from datetime import timedelta

from flask import current_app, g
from sqlalchemy import select

from mat.auth.models import User
from mat.auth.service import create_user
from mat.clock import clinic_now, clinic_today
from mat.demo_history import HISTORY_DAYS, Staff, seed_history
from mat.demo_stock import count_yesterday, receive_demo_stock
from mat.dosing.safety import close_clinic
from mat.errors import Conflict
from mat.extensions import db
from mat.patients.models import LEVELS_OF_CARE
from mat.patients.service import register_patient

NURSE_PASSWORD = "nurse-demo-pass"
DEMO_USERS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("admin", "admin-demo-pass", "Alex Admin", "AA", ("admin",)),
    ("nurse.rivera", NURSE_PASSWORD, "Nora Rivera", "NR", ("nurse",)),
    ("nurse.chen", NURSE_PASSWORD, "Nadia Chen", "NC", ("nurse",)),
    ("dr.okafor", "prescriber-demo-pass", "Dr. Peter Okafor", "PO", ("prescriber",)),
    ("auditor", "auditor-demo-pass", "Ada Auditor", "AU", ("auditor",)),
)

GIVEN = (
    "Avery",
    "Jordan",
    "Casey",
    "Riley",
    "Morgan",
    "Quinn",
    "Skyler",
    "Dakota",
    "Reese",
    "Rowan",
    "Emerson",
    "Finley",
    "Harper",
    "Kendall",
    "Logan",
    "Parker",
)
FAMILY = (
    "Ashdown",
    "Birchwood",
    "Calloway",
    "Dunmore",
    "Ellery",
    "Fairbank",
    "Glenrow",
    "Hollis",
    "Ingram",
    "Juniper",
    "Kestrel",
    "Larkin",
    "Marlow",
    "Northcott",
    "Oakhurst",
    "Penrose",
    "Quill",
    "Redfern",
)
PATIENT_COUNT = 30


def seed_demo_clinic(seed: int = 20261124, *, demo_mode: bool = False) -> None:
    """Users, 30 patients and three weeks of history (``mat.demo_history``).

    Invented patients and doses must never mix with a real clinic's record (a DEA log with
    invented doses in it is a false record), so the seed writes into:

    - an empty database (no user yet), in any mode: the first thing run on a new install,
      and what the tests do;
    - in demo mode (``MAT_DEMO=1``, the ``make run`` clinic), any database that does not
      already hold the demo clinic: demo mode is the promise that the database is a demo.

    A database that has users and is not in demo mode is refused, whatever those users are.
    """
    has_users = db.session.scalar(select(User.id).limit(1)) is not None
    if has_users and not demo_mode:
        raise Conflict(
            "This database already has users and mat is not in demo mode (MAT_DEMO=1): the "
            "demo's invented patients are only ever written into an empty or a demo database.",
            code="not_a_demo_database",
        )
    if db.session.scalar(select(User.id).where(User.username == DEMO_USERS[0][0])) is not None:
        raise Conflict("The demo clinic is already seeded in this database.", code="demo_exists")
    users = {
        username: create_user(username, password, full_name, initials, roles)
        for username, password, full_name, initials, roles in DEMO_USERS
    }
    rng = random.Random(seed)
    today = clinic_today()
    patients = []
    for n in range(PATIENT_COUNT):
        admitted = today - timedelta(days=rng.randint(0, 120))
        born = admitted - timedelta(days=rng.randint(20 * 365, 60 * 365))
        patient = register_patient(
            {
                "mrn": f"DEMO-{1001 + n}",
                "given_name": rng.choice(GIVEN),
                "family_name": rng.choice(FAMILY),
                "date_of_birth": born,
                "admitted_on": admitted,
                "level_of_care": LEVELS_OF_CARE[n % len(LEVELS_OF_CARE)],
            },
            None,  # registered by the demo seed, not by a user
            clinic_now(),
        )
        patients.append(patient)
    staff = Staff(
        nurses=[users["nurse.rivera"], users["nurse.chen"]],
        prescriber=users["dr.okafor"],
        witness_password=NURSE_PASSWORD,
    )
    profile = current_app.extensions["mat_profile"]
    first = today - timedelta(days=HISTORY_DAYS)
    nurses = staff.nurses
    receive_demo_stock(first, nurses[0], nurses[1], NURSE_PASSWORD, profile)
    seed_history(patients, staff, clinic_now(), profile, rng)
    count_yesterday(today, nurses[0], nurses[1], NURSE_PASSWORD, profile)
    g.actor = users["admin"]
    thursday = today + timedelta(days=(3 - today.weekday()) % 7 or 7)
    close_clinic({"date": thursday, "reason": "Staff training day"}, users["admin"], clinic_now())
