"""Blueprint registration: the JSON API (flask-smorest, for the OpenAPI document) and the pages."""

from __future__ import annotations

from flask import Flask

from mat.extensions import api, csrf
from mat.patients.views_data import DETAIL_PARTS


def register(app: Flask) -> None:
    from mat.audit.api import blp as audit_api
    from mat.audit.views import bp as audit_pages
    from mat.auth.api import blp as auth_api
    from mat.auth.views import bp as auth_pages
    from mat.formulary.api import blp as formulary_api
    from mat.orders.api import blp as orders_api
    from mat.orders.service import active_order_answer
    from mat.patients.api import blp as patients_api

    for blueprint in (auth_api, formulary_api, patients_api, orders_api, audit_api):
        # The API authenticates with bearer tokens, never cookies, so CSRF tokens do not apply.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(auth_pages)
    app.register_blueprint(audit_pages)
    DETAIL_PARTS["active_order"] = active_order_answer
