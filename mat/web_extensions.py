"""The extensions only the web needs, created once and bound to the app by ``mat.add_web``.

Apart from ``mat.extensions`` (the database, which every command needs) so that a command
built without the web part (``mat.create_app``) imports none of them: together ~0.1 s of each
command's start-up."""

from __future__ import annotations

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
