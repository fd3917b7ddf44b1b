"""Browser sessions kept on the server: the cookie carries only a random session id.

Everything a page keeps between requests (who is signed in, the CSRF token, flash messages that
may quote a hold reason, the station a nurse works at) is stored in ``user_sessions`` and never
leaves the server. Every request looks its session up by the id's hash, so:

- signing out ends the session row: a copy of the cookie taken before stops working at once;
- deactivating a user or changing their roles ends every session of theirs (``end_sessions``);
- a session idle for ``SESSION_IDLE`` (15 minutes, clinical-rules.md) is over, checked here on the
  server, whatever the browser does with its cookie;
- signing in starts a new session id (``renew``), so an id planted before sign-in is worthless.

``last_seen_at`` is written at most once every ``TOUCH_EVERY`` unless the session changed, so a
page view costs one indexed read, not a write. A request marked ``X-Mat-Background: 1`` (a page
refreshing itself, such as the nurse's queue, or the idle notice asking how long is left) is not
activity: it never moves ``last_seen_at``, so a screen left open does not keep its session alive.
Sessions over a day old (ended or idle) are deleted when a new session starts: they are not
records (the audit trail keeps the sign-ins).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask import request as current_request
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, select, update
from werkzeug.datastructures import CallbackDict

from mat.auth.models import UserSession
from mat.clock import clinic_now
from mat.config import SESSION_IDLE
from mat.extensions import db

TOUCH_EVERY = timedelta(minutes=1)
BACKGROUND_HEADER = "X-Mat-Background"
KEEP_ENDED = timedelta(days=1)
_serializer = TaggedJSONSerializer()


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        *,
        sid: str | None = None,
        last_seen: datetime | None = None,
    ) -> None:
        def changed(_: Any) -> None:
            self.modified = True

        super().__init__(initial, changed)
        self.sid = sid
        self.last_seen = last_seen
        self.modified = False
        self.renewing = False  # sign-in: start a new id for what follows
        self.ending: str | None = None  # sign-out: the reason this session ends

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.sid is None


# What the browser fetches by itself, whenever it likes (the favicon may come minutes after
# the page): never a sign that the person is there.
BROWSER_FETCHES = {"static", "auth.favicon"}


def is_background(request: Request) -> bool:
    """A request the page sent by itself, not the person: not activity (module docstring)."""
    return request.headers.get(BACKGROUND_HEADER) == "1" or request.endpoint in BROWSER_FETCHES


def touch(session: Any) -> None:
    """The person is here (the idle notice's "Stay signed in"): count this request as activity
    even if it changed nothing, so ``last_seen_at`` becomes now."""
    session.modified = True


def seconds_left(session: Any, now: datetime) -> int:
    """Seconds until this session ends idle (0: over or not signed in)."""
    if session.last_seen is None or "_user_id" not in session:
        return 0
    return max(0, int((SESSION_IDLE - (now - session.last_seen)).total_seconds()))


def renew(session: Any) -> None:
    """Sign-in: forget what the session held and give it a new id when it is saved."""
    session.clear()
    session.renewing = True


def end(session: Any, reason: str) -> None:
    """Sign-out: the session row ends and the cookie is removed when the answer is sent."""
    session.clear()
    session.ending = reason


def end_sessions(user_id: int, reason: str, now: datetime) -> int:
    """End every open session of a user (deactivation, role change, password reset)."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


class ServerSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        # The API authenticates by bearer token only and a browser session never speaks for it
        # (CSRF): an API request opens no session (None: Flask's read-only null session), so
        # it reads no session row, writes none, sets no cookie, and is not activity that keeps
        # a browser's session alive. It also spares every API call a second commit.
        if request.path.startswith("/api/"):
            return None
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or len(sid) > 100:
            return ServerSession()
        row = db.session.execute(
            select(UserSession.data, UserSession.last_seen_at).where(
                UserSession.sid_hash == _digest(sid), UserSession.ended_at.is_(None)
            )
        ).first()
        if row is None or clinic_now() - row.last_seen_at >= SESSION_IDLE:
            return ServerSession()  # unknown, ended or idle: a new, empty session
        return ServerSession(_serializer.loads(row.data), sid=sid, last_seen=row.last_seen_at)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        now = clinic_now()
        cookie = {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "samesite": self.get_cookie_samesite(app),
            "httponly": self.get_cookie_httponly(app),
        }
        name = self.get_cookie_name(app)
        response.vary.add("Cookie")
        if session.ending or session.renewing:
            if session.sid is not None:
                self._end(session.sid, session.ending or "renewed", now)
            if session.ending:
                db.session.commit()
                response.delete_cookie(name, **cookie)
                return
            session.sid = None
        if session.sid is None:
            if not session:
                db.session.commit()  # nothing kept: no row, no cookie
                return
            session.sid = self._start(dict(session), now)
        elif is_background(current_request):
            if not session.modified:
                return  # not activity, nothing changed: no write
            self._touch(session.sid, dict(session), None)
        elif session.modified or now - (session.last_seen or now) >= TOUCH_EVERY:
            self._touch(session.sid, dict(session), now)
        else:
            return  # nothing changed and seen recently: no write, the cookie stands
        db.session.commit()
        response.set_cookie(
            name, session.sid, expires=self.get_expiration_time(app, session), **cookie
        )

    @staticmethod
    def _user_id(data: dict[str, Any]) -> int | None:
        value = data.get("_user_id")
        return int(value) if isinstance(value, str) and value.isdigit() else None

    def _start(self, data: dict[str, Any], now: datetime) -> str:
        # Sessions unseen for a day are over whatever they say (idle after 15 minutes).
        db.session.execute(delete(UserSession).where(UserSession.last_seen_at < now - KEEP_ENDED))
        sid = secrets.token_urlsafe(32)
        db.session.add(
            UserSession(
                sid_hash=_digest(sid),
                user_id=self._user_id(data),
                data=_serializer.dumps(data),
                created_at=now,
                last_seen_at=now,
            )
        )
        return sid

    def _touch(self, sid: str, data: dict[str, Any], now: datetime | None) -> None:
        """Store the session's data; ``now`` (None: a background request) is its last activity."""
        values: dict[str, Any] = {"data": _serializer.dumps(data), "user_id": self._user_id(data)}
        if now is not None:
            values["last_seen_at"] = now
        db.session.execute(
            update(UserSession)
            .where(UserSession.sid_hash == _digest(sid), UserSession.ended_at.is_(None))
            .values(**values)
        )

    def _end(self, sid: str, reason: str, now: datetime) -> None:
        db.session.execute(
            update(UserSession)
            .where(UserSession.sid_hash == _digest(sid), UserSession.ended_at.is_(None))
            .values(ended_at=now, ended_reason=reason)
        )
