"""The audit key: what makes the chain and its checkpoints impossible to re-forge from the
database alone.

``MAT_AUDIT_KEY`` (at least 32 characters) is the key; without it a key is derived from
``MAT_SECRET_KEY`` (HMAC of a fixed label), so the contract's required settings stay as they are.
The key lives only in the app server's environment: the database role cannot read it, so a
database owner who edits an event cannot recompute the hashes after it.

Rotation: set the new key in ``MAT_AUDIT_KEY`` and list the previous ones in
``MAT_AUDIT_OLD_KEYS`` (comma-separated). Each event stores the id of the key that hashed it
(``scheme``), so ``verify`` finds the right one. A key that is lost makes the events it hashed
unverifiable: keep a copy with the backups' encryption key, never with the backups.
Changing ``MAT_SECRET_KEY`` while relying on the derived key is a rotation too: put the old
derived key in ``MAT_AUDIT_OLD_KEYS`` (``flask --app mat audit key-id`` names the key in use).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import Flask, current_app

from mat.audit.chain import key_id, keyed_scheme

DERIVATION_LABEL = b"mat audit chain key v1"
EXTENSION = "mat_audit_keys"


@dataclass(frozen=True)
class AuditKeys:
    current: bytes
    by_id: dict[str, bytes]

    @property
    def scheme(self) -> str:
        return keyed_scheme(self.current)

    def find(self, wanted_id: str) -> bytes | None:
        return self.by_id.get(wanted_id)


def derived_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), DERIVATION_LABEL, hashlib.sha256).digest()


def build_keys(audit_key: str | None, old_keys: str | None, secret_key: str) -> AuditKeys:
    current = audit_key.encode() if audit_key else derived_key(secret_key)
    ring = [current, *(k.strip().encode() for k in (old_keys or "").split(",") if k.strip())]
    return AuditKeys(current, {key_id(k): k for k in ring})


def init_keys(app: Flask) -> None:
    app.extensions[EXTENSION] = build_keys(
        app.config.get("MAT_AUDIT_KEY"),
        app.config.get("MAT_AUDIT_OLD_KEYS"),
        app.config["SECRET_KEY"],
    )


def audit_keys() -> AuditKeys:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
