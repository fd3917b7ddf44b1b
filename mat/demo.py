"""The demo clinic: invented staff and patients for ``make run`` and screenshots.

Every name here is made up. The demo passwords are printed by ``demo seed`` and listed in the
README; they exist only in demo databases.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from mat.auth.models import User
from mat.auth.service import create_user
from mat.clock import clinic_today
from mat.errors import Conflict
from mat.extensions import db
from mat.patients.models import LEVELS_OF_CARE
from mat.patients.service import register_patient

DEMO_USERS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("admin", "admin-demo-pass", "Alex Admin", "AA", ("admin",)),
    ("nurse.rivera", "nurse-demo-pass", "Nora Rivera", "NR", ("nurse",)),
    ("nurse.chen", "nurse-demo-pass", "Nadia Chen", "NC", ("nurse",)),
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


def seed_demo_clinic(seed: int = 20261124) -> None:
    if db.session.scalar(select(User.id).where(User.username == DEMO_USERS[0][0])) is not None:
        raise Conflict("The demo clinic is already seeded in this database.", code="demo_exists")
    for username, password, full_name, initials, roles in DEMO_USERS:
        create_user(username, password, full_name, initials, roles)
    rng = random.Random(seed)
    today = clinic_today()
    for n in range(PATIENT_COUNT):
        admitted = today - timedelta(days=rng.randint(0, 120))
        born = admitted - timedelta(days=rng.randint(20 * 365, 60 * 365))
        register_patient(
            {
                "mrn": f"DEMO-{1001 + n}",
                "given_name": rng.choice(GIVEN),
                "family_name": rng.choice(FAMILY),
                "date_of_birth": born,
                "admitted_on": admitted,
                "level_of_care": LEVELS_OF_CARE[n % len(LEVELS_OF_CARE)],
            }
        )
