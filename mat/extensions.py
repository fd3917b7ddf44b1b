"""The database extension, created once and bound to the app in ``create_app``.

Only Flask-SQLAlchemy is here, since every service and command needs it. The extensions only
the web needs (Flask-Login, Flask-WTF, Flask-Limiter, flask-smorest) are in
``mat.web_extensions``, imported by the web part of the app alone, so a command does not load
them. Flask-Migrate is bound when a ``db`` command runs (``mat.db_cli``): it imports alembic."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy

from mat.database import Base

db = SQLAlchemy(model_class=Base)
