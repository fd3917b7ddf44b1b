"""The dose plan's floor on this stack: the statements one real dose plan sends, replayed
through a bare Flask route, for ``python -m bench.plan_instructions --what floor-core`` and
``--what floor-driver``.

The route does what any dose plan on Flask and PostgreSQL must do at the least: hash the bearer
token, check out a connection, send the plan's statements (the token's user, the patient's
orders, the patient's days, the staged read) with the parameters the real plan sent, fetch their
rows, commit, and answer the real plan's JSON. It does none of what ``mat`` does around them: no
ORM session or objects, no flask-smorest, webargs or marshmallow, no before and after request
hooks, no rules. ``floor-core`` sends the statements through SQLAlchemy Core (as
``bench/trivial_app.py`` sends its one), ``floor-driver`` on psycopg's own cursor. The count
says how much of a plan's instructions a redesign of the hot path could remove, and how much
no design keeps off it while the plan sends these statements.

``--what floor-mat`` is ``floor-driver``'s route added to mat's own app (``floor_in_mat``): what
a hot path on the driver's cursor would still pay inside mat, whose hooks run around every
request (the access guard, the security headers, the request's commit).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from sqlalchemy import Engine, event

from mat.extensions import db

PATH = "/floor/{patient}"
MAT_PATH = "/api/v1/floor/{patient}"  # floor_in_mat's
RULE = "<int:patient>"  # the patient in Flask's rule of either path: PATH.format(patient=RULE)


def plan_statements(
    app: Flask, client: FlaskClient, token: str, patient: int
) -> tuple[list[tuple[str, Any]], Any]:
    """The statements one dose plan of ``patient`` sends (as the driver is given them, with
    their parameters) and the plan's JSON answer."""
    engine = _engine(app)
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        answer = client.get(
            f"/api/v1/patients/{patient}/dose-plan", headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    if answer.status_code != 200:
        raise RuntimeError(f"the plan answered {answer.status_code}: {answer.get_data()[:300]!r}")
    return sent, answer.get_json()


def _engine(app: Flask) -> Engine:
    with app.app_context():
        return db.engine


@dataclass
class Replay:
    """What a floor's route replays: one real plan's statements and its answer. Filled after the
    route is made when the route is mat's own (``floor_in_mat``): Flask takes no new route once
    an app has served a request, and the statements are captured by serving one."""

    statements: list[tuple[str, Any]] = field(default_factory=list)
    answer: Any = None


def floor_app(app: Flask, statements: list[tuple[str, Any]], answer: Any, *, driver: bool) -> Flask:
    """A Flask app of one route, ``PATH``, that replays ``statements`` on ``app``'s database and
    answers ``answer``. Every request replays the one plan's statements, whichever patient its
    path names: the route is a floor to count, not a second dose plan."""
    floor = Flask("plan_floor")
    floor.add_url_rule(
        PATH.format(patient=RULE),
        "plan",
        _replaying(app, Replay(statements, answer), driver=driver),
    )
    return floor


def floor_in_mat(app: Flask) -> Replay:
    """The floor's route, on psycopg's own cursor, added to mat's ``app`` itself at
    ``MAT_PATH`` (before the app serves its first request; fill the returned ``Replay`` after):
    every request then pays what mat pays around any API call (its before and after request
    hooks: the access guard, the security headers, the request's commit; its JSON provider)
    but none of the plan's own layers (no ORM objects, no flask-smorest, webargs or
    marshmallow, no rules). Declared public: the token is hashed, as on the other floors, but
    not looked up by mat's code (its statement is among the replayed ones)."""
    from mat.auth.access import public

    replay = Replay()
    app.add_url_rule(
        MAT_PATH.format(patient=RULE), "plan_floor", public(_replaying(app, replay, driver=True))
    )
    return replay


def _replaying(app: Flask, replay: Replay, *, driver: bool) -> Any:
    """The floor's view: hash the bearer token, send ``replay``'s statements on ``app``'s
    engine (through SQLAlchemy Core, or psycopg's cursor with ``driver``), fetch their rows,
    commit, answer ``replay``'s JSON."""
    engine = _engine(app)

    def plan(patient: int) -> Any:
        raw = request.headers.get("Authorization", "").removeprefix("Bearer ")
        hashlib.sha256(raw.encode()).hexdigest()  # as every API call hashes its token
        if driver:
            connection = engine.raw_connection()
            try:
                cursor = connection.cursor()
                for statement, parameters in replay.statements:
                    cursor.execute(statement, parameters)
                    if cursor.description is not None:
                        cursor.fetchall()
                connection.commit()
            finally:
                connection.close()
        else:
            with engine.connect() as connection:
                for statement, parameters in replay.statements:
                    result = connection.exec_driver_sql(statement, parameters)
                    if result.returns_rows:
                        result.fetchall()
                connection.commit()
        return jsonify(replay.answer)

    return plan
