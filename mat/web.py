"""Blueprint registration: the JSON API (flask-smorest, for the OpenAPI document) and the pages."""

from __future__ import annotations

from flask import Flask

from mat.extensions import api, csrf


def register(app: Flask) -> None:
    from mat.auth.api import blp as auth_api
    from mat.auth.views import bp as auth_pages
    from mat.formulary.api import blp as formulary_api
    from mat.patients.api import blp as patients_api

    for blueprint in (auth_api, formulary_api, patients_api):
        # The API authenticates with bearer tokens, never cookies, so CSRF tokens do not apply.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(auth_pages)
