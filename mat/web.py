"""Blueprint registration: the JSON API (flask-smorest, for the OpenAPI document) and the pages."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.routing import IntegerConverter, Map

from mat.errors import BadRequest
from mat.patients.views_data import DETAIL_PARTS
from mat.web_extensions import api, csrf

# Record ids are 32-bit integers on both engines; a larger number in a URL names no record.
LARGEST_ID = 2**31 - 1
F = TypeVar("F", bound=Callable[..., Any])


class RecordId(IntegerConverter):
    """``<int:...>`` in every route: 1 to ``LARGEST_ID``, else a plain 404 (PostgreSQL would
    otherwise fail the query with "integer out of range", a 500)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


# The bodies werkzeug parses into ``request.form``; any other body leaves it empty.
FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def refuse_nul_characters() -> None:
    """before_request: a NUL character is never valid clinical text, and PostgreSQL refuses
    it in a query (a 500). JSON bodies are checked as they are read (``mat.jsonio``)."""
    fields = request.args.items(multi=True)
    if request.mimetype in FORM_MIMETYPES:
        # Asked of every other request, ``request.form`` set up an empty parse: 10 to 15 us of
        # every API call's CPU (issue 10), to find nothing.
        fields = chain(fields, request.form.items(multi=True))
    for key, value in fields:
        if "\x00" in key or "\x00" in value:
            raise BadRequest("The request contains a NUL character.", code="nul_character")


def body_limit(max_bytes: int) -> Callable[[F], F]:
    """A view that takes bodies bigger than ``MAX_CONTENT_LENGTH`` (1 MB, every other call)
    says how big, right under its route decorator::

        @blp.route("/imports", methods=["POST"])
        @body_limit(50 * 1024 * 1024)
        @api_roles("admin")
        ...

    A bigger body is answered 413 ``payload_too_large`` before any of it is parsed."""

    def mark(view: F) -> F:
        view.mat_body_limit = max_bytes  # type: ignore[attr-defined]
        return view

    return mark


def apply_body_limit() -> None:
    """before_request, first of all (before the CSRF check reads a form): the view's own
    limit, if it declared one (``body_limit``); else ``MAX_CONTENT_LENGTH`` applies."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "mat_body_limit", None)
    if limit is not None:
        request.max_content_length = limit


def register(app: Flask) -> None:
    app.url_map.converters["int"] = RecordId  # before any route is added
    app.before_request_funcs.setdefault(None, []).insert(0, apply_body_limit)
    app.before_request(refuse_nul_characters)
    from mat.admin.views import bp as admin_pages
    from mat.audit.api import blp as audit_api
    from mat.audit.views import bp as audit_pages
    from mat.auth.api import blp as auth_api
    from mat.auth.views import bp as auth_pages
    from mat.charts.order_views import bp as chart_pages
    from mat.dosing.api import blp as dosing_api
    from mat.dosing.api_losses import blp as dosing_loss_api
    from mat.dosing.api_safety import blp as dosing_safety_api
    from mat.dosing.api_safety import open_holds_part
    from mat.dosing.views import bp as dosing_pages
    from mat.dosing.views_queue import queue_fragment  # noqa: F401 (adds /window and its queue)
    from mat.formulary.api import blp as formulary_api
    from mat.imports.api import blp as imports_api
    from mat.orders.api import active_order_part
    from mat.orders.api import blp as orders_api
    from mat.patients.api import blp as patients_api
    from mat.reports.api import blp as reports_api
    from mat.reports.views import bp as reports_pages
    from mat.stock.api import blp as stock_api
    from mat.stock.api_records import blp as stock_records_api
    from mat.stock.views import bp as stock_pages
    from mat.stock.views_records import bp as stock_record_pages
    from mat.stock.views_window import bp as stock_window_pages

    for blueprint in (
        auth_api,
        formulary_api,
        patients_api,
        orders_api,
        dosing_api,
        dosing_safety_api,
        dosing_loss_api,
        audit_api,
        reports_api,
        stock_api,
        stock_records_api,
        imports_api,
    ):
        # The API authenticates with bearer tokens, never cookies, so CSRF tokens do not apply.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(auth_pages)
    app.register_blueprint(admin_pages)
    app.register_blueprint(audit_pages)
    app.register_blueprint(chart_pages)
    app.register_blueprint(dosing_pages)
    app.register_blueprint(reports_pages)
    app.register_blueprint(stock_pages)
    app.register_blueprint(stock_record_pages)
    app.register_blueprint(stock_window_pages)
    DETAIL_PARTS["active_order"] = active_order_part
    DETAIL_PARTS["open_holds"] = open_holds_part
