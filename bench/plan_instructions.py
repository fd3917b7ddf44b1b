"""A request's CPU in instructions: the dose plan (``GET /api/v1/patients/<id>/dose-plan``), a
recorded dose (``POST /api/v1/patients/<id>/doses``) and ``GET /api/v1/me`` (what every API
call pays before its own work), through the whole Flask stack and the database driver, counted
with valgrind's callgrind. The clock of the machines the bench runs on spreads a request's CPU
by a tenth or more between two runs of the same code; a count does not (two counts of the same
code agree within 0.05 %), so a change of a few percent shows before a full bench run.

    python -m bench.plan_instructions [--what plan|dose|me|trivial|insert|floor-core|floor-driver|
                                             floor-mat]
                                      [--requests N]

Makes a scratch PostgreSQL database (``MAT_BENCH_PG``, as ``bench.run``) with a small clinic in
it (``bench.generate``: 120 patients, 30 days, today undosed), and runs the requests in a child
process under callgrind twice, in parallel: once with a warm-up only (the first requests
compile the statements and fill the caches, and psycopg prepares a statement on its fifth run),
once with the warm-up and ``--requests`` more (100 reads, or 50 doses: one a patient due today).
The difference over the requests is one request's instructions in the Flask process (the
database server is another process, not counted). ``--what trivial`` counts the full bench's
baseline, ``bench/trivial_app.py``'s one indexed query, the same way, and ``--what insert`` its
bare insert and commit, the dose run's baseline (100 of each): a ratio to them does not depend
on the machine. ``--what floor-core`` and ``floor-driver`` count the plan's floor on this stack
(``bench.plan_floor``): one real plan's statements replayed through a bare Flask route;
``--what floor-mat`` replays them on psycopg's cursor from a route of mat's own app. About
a minute on two cores. Needs valgrind (``apt-get install valgrind``) and PostgreSQL.

    python -m bench.plan_instructions --run 0|1 ...   (one run, as valgrind is given it)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from bench.callgrind import require_valgrind, run_pair
from bench.generate import Size
from bench.plan_floor import MAT_PATH as PLAN_FLOOR_IN_MAT
from bench.plan_floor import PATH as PLAN_FLOOR

CLINIC = Size(120, 30, 3, 2_000)
JSON = "application/json"  # an amount is sent as the number the plan gave, not as a string
WARM_UP = 20  # the statements compiled, prepared (psycopg: on their fifth run), caches filled
PATHS = {
    "plan": "/api/v1/patients/{patient}/dose-plan",
    "me": "/api/v1/me",
    # bench.run's baseline: a Flask app answering one indexed query (bench/trivial_app.py)
    "trivial": "/patients/{patient}",
    "dose": "/api/v1/patients/{patient}/doses",
    # bench.run's baseline for doses: the trivial app's bare insert and commit
    "insert": "/events/{patient}",
    # the plan's own statements through a bare Flask route (bench.plan_floor)
    "floor-core": PLAN_FLOOR,
    "floor-driver": PLAN_FLOOR,
    # the same on psycopg's cursor, from a route of mat's own app (its hooks around it)
    "floor-mat": PLAN_FLOOR_IN_MAT,
}


def requests(client: Any, token: str, what: str, patients: list[tuple[int, str]]) -> None:
    """A request for each of ``patients`` (id, the amount due) through the test client."""
    headers = {"Authorization": f"Bearer {token}"}
    for patient, amount in patients:
        path = PATHS[what].format(patient=patient)
        if what == "dose":  # each patient dosed once, with its own key
            sent = {**headers, "Idempotency-Key": f"bench-{patient}", "Content-Type": JSON}
            answer = client.post(path, data=f'{{"amount_mg": {amount}}}', headers=sent)
        elif what == "insert":
            answer = client.post(path)
        else:
            answer = client.get(path, headers=headers)
        if answer.status_code not in (200, 201):
            sys.exit(f"{answer.status_code}: {answer.get_data(as_text=True)[:500]}")


def one_run(what: str, run: int, count: int) -> None:
    """The child's work: the app on ``MAT_DATABASE_URL``, the token in ``MAT_BENCH_TOKEN``, the
    patients due today (``id:amount``, comma separated) in ``MAT_BENCH_DUE``. Run 0 makes
    the warm-up's requests only, run 1 the warm-up's and ``count`` more. A dose is recorded
    once a patient, so each run doses its own patients: run 0 the first ``WARM_UP`` due, run 1
    the next ``WARM_UP`` and ``count`` after them."""
    import gc

    from mat import create_app

    if what in ("trivial", "insert"):
        from bench.trivial_app import app
    else:
        app = create_app({"RATELIMIT_STORAGE_URI": "memory://"})
    due = [
        (int(patient), amount)
        for patient, amount in (item.split(":") for item in os.environ["MAT_BENCH_DUE"].split(","))
    ]
    if what.startswith("floor"):  # one real plan's statements, replayed by every request
        from bench.plan_floor import floor_app, floor_in_mat, plan_statements

        inside = floor_in_mat(app) if what == "floor-mat" else None  # before its first request
        token = os.environ["MAT_BENCH_TOKEN"]
        statements, answer = plan_statements(app, app.test_client(), token, due[0][0])
        if inside is not None:
            inside.statements, inside.answer = statements, answer
        else:
            app = floor_app(app, statements, answer, driver=what == "floor-driver")
    if what != "dose":  # reads: the same patients in both runs, as often as asked
        due = (due * (1 + (WARM_UP + count) // len(due)))[: WARM_UP + count]
    elif run == 1:
        due = due[WARM_UP:]
    client, token = app.test_client(), os.environ["MAT_BENCH_TOKEN"]
    requests(client, token, what, due[:WARM_UP])
    gc.freeze()  # as a gunicorn worker does after loading (mat.gunicorn_conf)
    requests(client, token, what, due[WARM_UP : WARM_UP + count])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=None, help="100 reads, 50 doses")
    parser.add_argument("--what", choices=tuple(PATHS), default="plan")
    parser.add_argument("--run", type=int, choices=(0, 1), default=None)
    args = parser.parse_args()
    count = args.requests or (50 if args.what == "dose" else 100)
    if args.run is not None:
        one_run(args.what, args.run, count if args.run else 0)
        return
    require_valgrind()
    from bench.inprocess import in_process
    from bench.processes import app_env
    from bench.run import pg_available, scratch_database

    if not pg_available():
        sys.exit("PostgreSQL does not answer (MAT_BENCH_PG)")
    url, drop = scratch_database("postgresql", Path(), "_plan")
    try:
        env = app_env(url)
        os.environ.update(env)
        # The clinic, a nurse's token and the patients due today, their reads sealed: what
        # the full bench's in-process part makes (it doses one of the due itself).
        found = in_process(CLINIC, "postgresql", explain=False)
        env["MAT_BENCH_TOKEN"] = found["tokens"]["nurse"]
        env["MAT_BENCH_DUE"] = ",".join(f"{patient}:{amount}" for patient, amount in found["due"])
        if args.what == "dose" and len(found["due"]) < 2 * WARM_UP + count:
            sys.exit(f"fewer patients due today than {2 * WARM_UP + count}: ask for fewer")
        if args.what == "insert":  # its table, as bench.run makes it
            from bench.trivial_app import engine, metadata

            metadata.create_all(engine)
            engine.dispose()
        asked = ["--what", args.what, "--requests", str(count)]
        warm_up, measured = run_pair("bench.plan_instructions", asked, env)
    finally:
        drop()
    each = (measured - warm_up) / count
    print(f"{args.what}: {each:,.0f} instructions a request ({count} requests)")


if __name__ == "__main__":
    main()
