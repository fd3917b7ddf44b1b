"""The API extension: flask-smorest's ``Api``, with the OpenAPI document written when it is read.

flask-smorest documents a blueprint's views as it registers it: every marshmallow schema of
every view turned into JSON Schema, about 0.1 s of each process's start-up (each gunicorn
worker, each CLI command) for a document that only ``GET /api/v1/openapi.json`` and
``flask openapi print`` read. Here ``register_blueprint`` registers the routes at once (requests
are served exactly as before) and queues the blueprint; the first read of ``spec`` documents the
queued blueprints in the order they were registered, so the document is the one flask-smorest
would have written at start-up.
"""

from __future__ import annotations

import threading
from typing import Any

import flask_smorest
from apispec import APISpec
from flask import Flask


class Api(flask_smorest.Api):
    def __init__(self, app: Flask | None = None, **kwargs: Any) -> None:
        self._undocumented: list[tuple[flask_smorest.Blueprint, str, Any]] = []
        # A threaded server may serve two first reads at once: one documents, the other waits.
        self._documenting = threading.Lock()
        super().__init__(app, **kwargs)

    def init_app(self, app: Flask, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        self._undocumented = []  # a new app has a new document (the tests create many apps)
        super().init_app(app, spec_kwargs=spec_kwargs)

    def register_blueprint(
        self, blp: flask_smorest.Blueprint, *, parameters: Any = None, **options: Any
    ) -> None:
        """``flask_smorest.Api.register_blueprint`` without the documentation, which waits for
        the first read of ``spec``."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    @property
    def spec(self) -> APISpec | None:
        if self._undocumented:
            self._document()
        return self._spec

    @spec.setter
    def spec(self, value: APISpec | None) -> None:
        self._spec = value

    def _document(self) -> None:
        """What ``flask_smorest.Api.register_blueprint`` documents, for each queued blueprint.
        A blueprint leaves the queue once documented, so a concurrent reader of ``spec`` finds
        the queue non-empty and waits for the lock until the document is whole."""
        with self._documenting:
            spec = self._spec
            assert spec is not None  # init_app made it before any blueprint was registered
            while self._undocumented:
                blp, name, parameters = self._undocumented[0]
                blp.register_views_in_doc(self, self._app, spec, name=name, parameters=parameters)
                spec.tag({"name": name, "description": blp.description})
                del self._undocumented[0]
