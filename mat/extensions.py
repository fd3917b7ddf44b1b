"""The Flask extensions, created once and bound to the app in ``create_app``.

Flask-Migrate is not here: it imports alembic, which only the ``db`` commands need; it is bound
to the app when one of them runs (``mat.db_cli``)."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from mat.database import Base
from mat.openapi import Api

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
# No default limits: only the calls that guard credentials are limited (see mat/auth/api.py).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
api = Api()
