"""Second (and third) signatures on stock records: a witness confirms with their own password.

Who may witness: an active user with a role that handles or oversees controlled substances
(``nurse``, ``prescriber``, ``admin``), never the person recording, never twice on one record.
Auditors read the records; they do not sign them. A failed confirmation is the refusal of the
rule the signature belongs to (``stock_receipt``, ``stock_reconciliation``,
``stock_loss_report``), and the API limits failed confirmations like failed sign-ins.

The password is checked like a sign-in (``mat.auth.credentials.check_password``): a wrong one
counts towards the witness's own lockout and a locked account cannot sign. That count must
outlive the refusal's rollback, so a problem carries it (``WitnessProblem.on_refusal``) and the
caller hands it to the error it raises (``refusal_work``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from mat.auth.credentials import check_password
from mat.auth.models import User
from mat.errors import MatError

WITNESS_ROLES = ("nurse", "prescriber", "admin")


class WitnessProblem(str):
    """What is wrong with a signature, in a sentence; for a wrong password, also the failure
    count to keep (``on_refusal``) and the username tried (for the audit trail)."""

    on_refusal: Callable[[], None] | None = None
    username: str | None = None


def _problem(text: str, username: str | None = None, err: MatError | None = None) -> str:
    problem = WitnessProblem(text)
    problem.username = username
    problem.on_refusal = err.on_refusal if err is not None else None
    return problem


def refusal_work(problems: Iterable[Any]) -> dict[str, Any]:
    """The ``on_refusal`` and ``audit_detail`` of an error raised because of these problems."""
    found = [p for p in problems if isinstance(p, WitnessProblem)]
    work = [p.on_refusal for p in found if p.on_refusal is not None]
    tried = [p.username for p in found if p.username]

    def count_failures() -> None:
        for step in work:
            step()

    return {
        "on_refusal": count_failures if work else None,
        "audit_detail": {"witness": tried[0] if len(tried) == 1 else tried} if tried else None,
    }


def confirm(
    credentials: Mapping[str, str] | None, *, not_: Sequence[User], now: datetime
) -> tuple[User | None, str | None]:
    """(the witness, None) when the credentials confirm, else (None, what is wrong)."""
    if not credentials:
        return None, "A witness must sign: their username and password."
    username = credentials["username"]
    try:
        witness = check_password(username, credentials["password"], now, purpose="witness")
    except MatError as err:
        if err.code == "account_locked":
            text = "The witness's account is locked after too many wrong passwords."
        else:
            text = "The witness's username or password is wrong."
        return None, _problem(text, username, err)
    if not witness.has_role(*WITNESS_ROLES):
        return None, f"{witness.full_name} may not witness controlled-substance records."
    if any(witness.id == other.id for other in not_):
        return None, "The witness must be someone else than the people already signing."
    return witness, None
