"""The cursor of a verify that goes on in parts (``GET /api/v1/audit/verify?after=...``).

A million events take longer to check than a worker may answer in (30 s), so the API checks at
most ``EVENTS_PER_CALL`` per call and hands back where it stopped. The cursor carries the walk's
state (the link it expects next and its counts), signed with the app's secret key: an edited
cursor is refused rather than trusted, so a caller cannot skip part of the trail and still be
told it is intact.
"""

from __future__ import annotations

from dataclasses import asdict

from itsdangerous import BadSignature, URLSafeSerializer

from mat.audit.verify import Progress

# Under half a second on the benchmark machine (the CLI checks a million events in about 3 s
# past its start-up): well inside the worker timeout, few enough calls for a million events (10).
EVENTS_PER_CALL = 100_000
_SALT = "mat.audit.verify-cursor"


def encode(progress: Progress, secret: str) -> str:
    return str(URLSafeSerializer(secret, salt=_SALT).dumps(asdict(progress)))


def decode(cursor: str, secret: str) -> Progress | None:
    """The progress a cursor names, or None when it was not made by this server."""
    try:
        data = URLSafeSerializer(secret, salt=_SALT).loads(cursor)
        return Progress(**data)
    except (BadSignature, TypeError, ValueError):
        return None
