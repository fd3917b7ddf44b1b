"""The extensions only the web needs, created once and bound to the app by ``mat.add_web``.

Apart from ``mat.extensions`` (the database, which every command needs) so that a command
built without the web part (``mat.create_app``) imports none of them: together ~0.1 s of each
command's start-up."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from mat.openapi import Api

login_manager = LoginManager()
csrf = CSRFProtect()
# No default limits: only the calls that guard credentials are limited (see mat/auth/api.py).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
api = Api()


def check_limits_in_decorated_views_only(app: Flask, limiter: Limiter = limiter) -> None:
    """Flask-Limiter checks every request in a before_request hook, for the default,
    application and blueprint limits; a view decorated with ``@limiter.limit`` checks its own
    limits in its wrapper, without the hook. mat has only decorated limits, so the hook did
    nothing but cost every request its time (about 0.15 ms of ``GET /api/v1/me``'s 1.15 ms of
    CPU, issue 10). It is removed only while there is nothing for it to check: a default,
    application or blueprint limit added later keeps it (tests/auth/test_proxies_and_limits.py).
    Called once every blueprint is registered."""
    manager = limiter.limit_manager
    if manager.default_limits or manager.application_limits or manager._blueprint_limits:
        return
    app.before_request_funcs[None].remove(limiter._check_request_limit)
