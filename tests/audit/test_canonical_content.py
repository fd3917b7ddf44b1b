"""The keyed content of an event, written field by field (``mat.audit.chain.keyed_content``),
is exactly the general canonical JSON of those fields: a hash made either way is the same hash,
so no stored trail changes meaning."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mat.audit.chain import (
    KEYED_FIELDS,
    canonical,
    event_hash,
    hmac_hasher,
    keyed_content,
    utc_text,
)

KEY = b"k" * 32
VALUES = st.one_of(
    st.none(),
    st.text(),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
ZONES = st.one_of(
    st.just(UTC),
    st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes))),
)
INSTANTS = st.builds(
    lambda at, zone: at.replace(tzinfo=UTC).astimezone(zone),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2999, 12, 30)),
    ZONES,
)
FIELDS = st.fixed_dictionaries(
    {"at": INSTANTS} | {name: VALUES for name in KEYED_FIELDS if name != "at"}
)


def _general(fields: dict[str, Any]) -> str:
    content = {name: fields[name] for name in KEYED_FIELDS}
    content["at"] = content["at"].astimezone(UTC).isoformat(timespec="microseconds")
    return canonical(content)


@given(FIELDS)
def test_keyed_content_is_the_general_canonical_text(fields: dict[str, Any]) -> None:
    assert keyed_content(fields) == _general(fields)


@given(FIELDS, st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_event_hash_is_the_hmac_of_the_general_text(fields: dict[str, Any], prev: str) -> None:
    expected = hmac.new(KEY, (prev + _general(fields)).encode(), hashlib.sha256).hexdigest()
    assert event_hash(KEY, prev, fields) == expected


@given(INSTANTS)
def test_utc_text_is_the_same_from_any_zone(at: datetime) -> None:
    assert utc_text(at) == at.astimezone(UTC).isoformat(timespec="microseconds")
    assert utc_text(at.astimezone(UTC)) == utc_text(at)


@given(st.binary(max_size=200), st.binary(max_size=1000))
def test_the_verify_s_hasher_is_hmac_sha256(key: bytes, message: bytes) -> None:
    """Keys shorter than, as long as and longer than a SHA-256 block (64 bytes)."""
    assert hmac_hasher(key)(message) == hmac.digest(key, message, "sha256").hex()
