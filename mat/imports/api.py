"""Imports JSON API: ``POST /api/v1/imports`` (admin, ``Idempotency-Key``).

The body is capped (``BODY_LIMIT``); a bigger history goes through the command line
(``flask --app mat import history FILE.json``), which streams a file of any size.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from mat.auth.access import api_roles
from mat.clock import clinic_now
from mat.errors import InvalidInput, PayloadTooLarge
from mat.idempotency import HEADER, idempotent
from mat.imports import service
from mat.imports.reader import JsonSource
from mat.imports.schemas import ImportIn, ImportOut
from mat.jsonio import ApiBlueprint
from mat.web import body_limit

blp = ApiBlueprint("imports_api", __name__, url_prefix="/api/v1", description="Imports")

# 10 MB: about 80,000 compact dose rows, imported in well under the app server's 30-second
# worker timeout (mat/gunicorn_conf.py) even on a small machine; more: the command line.
BODY_LIMIT = 10 * 1024 * 1024
F = TypeVar("F", bound=Callable[..., Any])


def _within_limit_and_keyed(view: F) -> F:
    """Before anything reads the body: the cap, said with what to do instead, and the key
    every import needs (a retried import must never bring its history in twice)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if (request.content_length or 0) > BODY_LIMIT:
            raise PayloadTooLarge(
                f"An import sent over HTTP is at most {BODY_LIMIT // (1024 * 1024)} MB; import a "
                "bigger file with `flask --app mat import history FILE.json`."
            )
        if not request.headers.get(HEADER):
            raise InvalidInput(
                "An import needs an Idempotency-Key header.",
                fields={HEADER: ["Send a new key with each import; resend it to retry."]},
            )
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@blp.route("/imports", methods=["POST"])
@body_limit(BODY_LIMIT)
@api_roles("admin")
@_within_limit_and_keyed
@idempotent
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ImportIn}}})
@blp.response(201, ImportOut)
def create() -> Any:
    source = JsonSource.of_bytes(request.get_data())
    return service.import_history(
        source, by=g.actor, now=clinic_now(), profile=current_app.extensions["mat_profile"]
    )
