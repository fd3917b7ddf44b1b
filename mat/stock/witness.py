"""Second (and third) signatures on stock records: a witness confirms with their own password.

Who may witness: an active user with a role that handles or oversees controlled substances
(``nurse``, ``prescriber``, ``admin``), never the person recording, never twice on one record.
Auditors read the records; they do not sign them. A failed confirmation is the refusal of the
rule the signature belongs to (``stock_receipt``, ``stock_reconciliation``,
``stock_loss_report``), and the API limits failed confirmations like failed sign-ins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select

from mat.auth.models import User
from mat.auth.service import password_matches
from mat.extensions import db

WITNESS_ROLES = ("nurse", "prescriber", "admin")


def confirm(
    credentials: Mapping[str, str] | None, *, not_: Sequence[User]
) -> tuple[User | None, str | None]:
    """(the witness, None) when the credentials confirm, else (None, what is wrong)."""
    if not credentials:
        return None, "A witness must sign: their username and password."
    witness = db.session.scalar(select(User).where(User.username == credentials["username"]))
    if not password_matches(witness, credentials["password"]) or witness is None:
        return None, "The witness's username or password is wrong."
    if not witness.active or not witness.has_role(*WITNESS_ROLES):
        return None, f"{witness.full_name} may not witness controlled-substance records."
    if any(witness.id == other.id for other in not_):
        return None, "The witness must be someone else than the people already signing."
    return witness, None
