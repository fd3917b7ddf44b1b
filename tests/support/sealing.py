"""Reads are staged unchained and sealed into the chain later (``mat.audit.staging``): a test
that looks a read up in ``audit_events`` seals first, as a write, a reader of the trail or the
``flask audit seal`` timer would."""

from __future__ import annotations

from mat.audit.service import seal_staged_reads
from mat.extensions import db


def sealed() -> int:
    """Seal every staged read now; how many were sealed."""
    count = seal_staged_reads()
    db.session.commit()
    return count
