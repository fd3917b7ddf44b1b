"""mat: a dosing tracker for opioid treatment programs.

``create_app`` is the application factory, for ``flask --app mat ...`` and
``gunicorn 'mat:create_app()'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

__all__ = ["create_app"]


class _MatFlask(Flask):
    def log_exception(self, exc_info: Any) -> None:
        """An exception Flask could not hand to a view's error handlers (one raised by the
        request's commit, after_request): logged like every server error, without patient data
        (``mat.errors.log_server_error``), instead of Flask's line with the concrete path."""
        from mat.errors import log_server_error

        log_server_error(exc_info[1], exc_info[2])


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The application: its core (settings, rule profile, audit keys, database, commands) and
    its web part (``add_web``: what serves requests).

    Every caller gets both (gunicorn, the tests, ``flask run``, ``flask routes``, ``flask shell``)
    but one: the ``flask`` command, when it builds the app only to find one of the app's own
    commands (``flask --app mat report ...``) or to list them (``flask --app mat --help``), gets
    the core alone. The web's imports (its blueprints, their schemas, flask-smorest,
    Flask-Limiter, Flask-WTF, Flask-Login) were most of each command's start-up, and no command
    of mat's serves a request. The one group of commands the web part brings, flask-smorest's
    ``openapi``, completes the app when it is looked up (``OpenAPICommands``). Such a process
    runs one command and ends: what start-up loads is frozen out of the garbage collector's
    sight (``mat.cli.freeze_start_up``).
    """
    from mat.cli import OpenAPICommands, freeze_start_up

    if not _built_to_find_a_command():
        app = _core_app(config)
        add_web(app)
        return app
    freeze_start_up()
    app = _core_app(config)
    app.extensions["mat_command_process"] = True
    app.cli.add_command(OpenAPICommands(app))
    return app


def _built_to_find_a_command() -> bool:
    """Whether the ``flask`` command is building the app in its own context: to find the app's
    command it was given (``flask.cli.FlaskGroup.get_command``) or to list the app's commands
    (``list_commands``). Its built-in commands build the app in theirs (``run``, ``routes``,
    ``shell``), and so do plugins' commands (``with_appcontext``); gunicorn and the tests have no
    click context at all."""
    import click
    from flask.cli import FlaskGroup

    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.parent is None and isinstance(ctx.command, FlaskGroup)


def _core_app(config: Mapping[str, Any] | None) -> Flask:
    from pathlib import Path

    from mat import cli, extensions
    from mat.audit.keys import init_keys
    from mat.config import load_settings
    from mat.profiles import load_profile

    root = Path(__file__).resolve().parent.parent
    app = _MatFlask(
        __name__, template_folder=str(root / "templates"), instance_relative_config=True
    )
    app.config.from_mapping(load_settings(app.instance_path))
    if config:
        app.config.from_mapping(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    # A profile looser than us-federal stops start-up here, before anything is served.
    app.extensions["mat_profile"] = load_profile(app.config["MAT_RULE_PROFILE"])

    init_keys(app)
    extensions.db.init_app(app)
    cli.register(app)
    return app


def add_web(app: Flask) -> None:
    """What serves requests, added to a core app once: the JSON provider, sessions, proxies,
    Flask-Login, CSRF, rate limits, the JSON API (and its ``openapi`` commands), the blueprints,
    the access guard, the error answers, the headers, the log filter and the request's commit."""
    if app.extensions.get("mat_web"):
        return
    app.extensions["mat_web"] = True
    from werkzeug.middleware.proxy_fix import ProxyFix

    from mat import headers, models, web, web_extensions
    from mat.auth.access import init_access
    from mat.auth.sessions import ServerSessionInterface
    from mat.errors import MatResponse, register_error_handlers
    from mat.jsonio import ExactJSONProvider
    from mat.logs import keep_query_strings_out_of_logs

    app.response_class = MatResponse  # an answer may say which refusal it shows (mat.errors)
    app.json = ExactJSONProvider(app)
    app.session_interface = ServerSessionInterface()
    proxies = app.config.get("MAT_TRUSTED_PROXIES", 0)
    if proxies:  # only then is X-Forwarded-For the client's address, never a client's claim
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    web_extensions.login_manager.init_app(app)
    web_extensions.csrf.init_app(app)
    web_extensions.limiter.init_app(app)
    web_extensions.api.init_app(app)
    models.register(app)
    web.register(app)
    init_access(app)
    register_error_handlers(app)
    headers.register(app)
    web_extensions.check_limits_in_decorated_views_only(app)
    keep_query_strings_out_of_logs()
    app.after_request(_commit)


def _commit(response: Response) -> Response:
    """The one commit of a request: only when the answer is a success.

    Errors roll back in ``mat.errors.respond``. A commit that loses a race (an IntegrityError:
    a unique slot, a duplicate) is a 409; any other failed commit is rolled back here and
    re-raised, and Flask answers it through ``mat.errors`` as a 500 ``internal_error``: the
    work was not stored and the client must be told so, never with a 4xx.

    Neither refusal is raised by a service, so neither carries a patient from one
    (``mat.errors.concerning_patient``): both name the patient of the request's address
    (``address_patient``). A lost race on ``/api/v1/patients/7/doses`` concerns patient 7,
    and the request's reads of the record were rolled back with its work, so this refusal is the
    only event an auditor listing patient 7 finds. The 500 does the same (``server_error``).
    """
    from mat.audit.service import record_refusal
    from mat.errors import Conflict, MatError, address_patient, recorded_refusal, respond
    from mat.extensions import db

    if response.status_code >= 400:
        if recorded_refusal(response) is None:  # a page that answered 4xx itself, unaudited
            err = MatError(
                "Refused.", code=f"http_{response.status_code}", patient_id=address_patient()
            )
            err.status = response.status_code
            record_refusal(err)
        return response
    try:
        db.session.commit()
    except Exception as exc:
        from sqlalchemy.exc import IntegrityError

        db.session.rollback()
        if isinstance(exc, IntegrityError):
            err = Conflict(
                "Someone else changed this at the same moment; reload and retry.",
                code="conflict",
                patient_id=address_patient(),
            )
            return respond(err)
        raise
    return response
