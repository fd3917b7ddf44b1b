"""``Idempotency-Key``: a retried request answers what the first one answered, once.

A nurse's tablet that loses the network after pressing "give" retries with the same key; the
retry must not record a second dose. The first successful answer is stored with the key, in the
same transaction as the work it describes, so either both are stored or neither is. A retry
with the same key and the same request gets that answer again with status 200; the same key
with a different request is refused (422), because it is almost always a client bug.

When two copies of one request race, the second waits on the patient lock, then meets the
first's dose and is refused with a ``Conflict``; it then finds the key the first stored and
replays its answer instead. Work that no rule refuses twice (a receipt: the second copy waits
on the stock balance's row, then adds to it again) runs to the end instead, and its key's insert
fails on the unique key once the first commits: it is rolled back and the first's answer
replayed the same way (it was a 500).

A recorded dose and take-homes do not look the key up before the work (``look_up_first``): a
retry of either takes the same two roads, at once or a day later, so the first request, which
is nearly every request, pays only the key's insert. Any refusal of a keyed request (a rule,
the input) looks the key up before it is answered, so a retry gets the first answer, or the
422 of a reused key, whatever the rules say of the work today.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import cache, wraps
from typing import Any, TypeVar

from flask import Response, g, request
from sqlalchemy import (
    ForeignKey,
    Insert,
    Select,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import HTTPException

from mat.audit.service import record
from mat.database import utcnow
from mat.errors import Conflict, InvalidInput, MatError
from mat.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100


class IdempotentRequest(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("user_id", "key", name="one_answer_per_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and body
    status: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            "The Idempotency-Key header is not usable.",
            fields={HEADER: [f"Use 1-{MAX_KEY_LENGTH} printable characters."]},
        )
    return key


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.get_data(as_text=False)):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _stored(key: str, user_id: int | None = None) -> IdempotentRequest | None:
    user_id = g.actor.id if user_id is None else user_id
    return db.session.scalar(_stored_statement(), {"user_id": user_id, "key": key})


@cache
def _stored_statement() -> Select[tuple[IdempotentRequest]]:
    """Built once per process with bound parameters: every recorded dose asks it."""
    return select(IdempotentRequest).where(
        IdempotentRequest.user_id == bindparam("user_id", type_=IdempotentRequest.user_id.type),
        IdempotentRequest.key == bindparam("key", type_=IdempotentRequest.key.type),
    )


def _keep(key: str, fingerprint: str, response: Response, user_id: int) -> None:
    """Store the answer with its key, at once (a Core insert: the session's unit of work, which
    never reads the row back, cost more than the statement on every recorded dose)."""
    db.session.execute(
        _keep_statement(),
        {
            "user_id": user_id,
            "key": key,
            "fingerprint": fingerprint,
            "status": response.status_code,
            "body": response.get_data(as_text=True),
            "created_at": utcnow(),
        },
    )


@cache
def _keep_statement() -> Insert:
    return insert(IdempotentRequest.__table__)


def _replay(stored: IdempotentRequest, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise InvalidInput(
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused",
            fields={HEADER: ["Use a new key for a new request."]},
        )
    record(
        "request.replay",
        entity_type="idempotent_request",
        entity_id=stored.id,
        detail={"path": request.path, "status": stored.status},
    )
    response = Response(stored.body, status=200, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: F | None = None, *, look_up_first: bool = True) -> Any:
    """Make a JSON API view answer a retried ``Idempotency-Key`` with its first answer.

    Goes below the access decorator (it needs ``g.actor``) and above ``arguments``/``response``
    (it stores the serialized answer).

    ``look_up_first=False`` is for short work that is refused or caught when done twice (a dose:
    the patient's slot is taken, or the key's own insert meets the stored one): the key is not
    looked up before the work, which saves every first request a statement (issue 10: at most 8
    a recorded dose); a retry does the work again, is refused or stopped at the key's insert,
    rolls back and finds the first answer then. Work that is long to redo (an import) looks up
    first.
    """
    if view is None:
        return lambda inner: _idempotent(inner, look_up_first)
    return _idempotent(view, look_up_first)


# What a retry meets when it does the work again: any refusal of the rules or of the input
# (mat's own errors, and webargs' 422 for a body the schema now refuses, a date gone by say).
_REFUSALS: tuple[type[BaseException], ...] = (MatError, HTTPException)


def _idempotent(view: F, look_up_first: bool) -> F:
    refused: tuple[type[BaseException], ...] = (Conflict,) if look_up_first else _REFUSALS

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = _key()
        if key is None:
            return view(*args, **kwargs)
        fingerprint = _fingerprint()
        # Kept before the work: after a rollback, reading the user's id would reload the user.
        user_id = g.actor.id
        if look_up_first:
            stored = _stored(key, user_id)
            if stored is not None:
                return _replay(stored, fingerprint)
        try:
            response = view(*args, **kwargs)
        except refused:
            # The first copy (a twin that committed first, or the request this one retries)
            # stored an answer: this copy's work is rolled back and that answer given again.
            db.session.rollback()
            stored = _stored(key, user_id)
            if stored is None:
                raise
            return _replay(stored, fingerprint)
        if isinstance(response, Response) and 200 <= response.status_code < 300:
            try:
                _keep(key, fingerprint, response, user_id)
            except IntegrityError:
                # The first copy stored the key first. Work no rule refuses twice (a receipt,
                # a dose in the next slot) gets here instead of to a refusal: this copy's work
                # is rolled back with the failed insert and the first's answer replayed.
                db.session.rollback()
                stored = _stored(key, user_id)
                if stored is None:
                    raise
                return _replay(stored, fingerprint)
        return response

    return wrapper  # type: ignore[return-value]


# ---- Pages: one-time form tokens ------------------------------------------------------------
# A page's form cannot send a header, so it carries a random token in a hidden field instead,
# and the token is kept as a key of this same table (with a prefix of the page's, so it never
# meets a key an API client chose). One mechanism for both: the work and its key are stored in
# one transaction, and a second press of the same form finds the key and is refused.


def new_form_token() -> str:
    return secrets.token_urlsafe(16)


def form_token_key(prefix: str, field: str = "token") -> str:
    """The stored key of the form's one-time token; a form without a usable one is a 422."""
    token = request.form.get(field, "")
    if not token or len(prefix) + len(token) > MAX_KEY_LENGTH:
        raise InvalidInput("The form is incomplete; reload the page.", fields={field: ["Missing."]})
    return prefix + token


def spent_form_token(key: str) -> dict[str, Any] | None:
    """What the work stored with the key when this user's form was sent before, else None."""
    stored = _stored(key)
    return None if stored is None else json.loads(stored.body)


def spend_form_token(key: str, answer: dict[str, Any] | None = None, status: int = 303) -> None:
    """Keep the key with the work, in the same transaction: both are kept or neither."""
    db.session.add(
        IdempotentRequest(
            user_id=g.actor.id,
            key=key,
            fingerprint=hashlib.sha256(request.path.encode()).hexdigest(),
            status=status,
            body=json.dumps(answer or {}),
        )
    )
    db.session.flush()
