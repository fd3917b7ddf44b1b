"""Readers (whose reads are audited, so they write at commit) and writers at the same time.

On SQLite every writer takes the audit chain's process lock before the database's write lock;
taken in the other order by some, a reader and a writer could each wait for the other's lock
until SQLite's busy timeout failed one of them with a 500.
"""

from __future__ import annotations

import threading

from flask.testing import FlaskClient

from mat.audit.verify import verify_chain
from mat.patients.models import Patient
from tests.support.checks import count

ROUNDS = 12


def test_audited_reads_and_writes_interleave_without_errors(app, factory, staff, patient) -> None:
    token = factory.token(staff["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/patients/{patient.id}"  # read here: the test's objects stay in this thread
    statuses: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def reader() -> None:
        client = FlaskClient(app, app.response_class, use_cookies=False)
        start.wait()
        for _ in range(ROUNDS):
            statuses.append(client.get(path, headers=headers).status_code)

    def writer(n: int) -> None:
        client = FlaskClient(app, app.response_class, use_cookies=False)
        start.wait()
        for i in range(ROUNDS):
            body = {"mrn": f"W{n}-{i}", "given_name": "Wren", "family_name": "Writer",
                    "date_of_birth": "1980-01-01", "admitted_on": "2026-11-16",
                    "level_of_care": "outpatient"}  # fmt: skip
            statuses.append(client.post("/api/v1/patients", json=body, headers=headers).status_code)

    def guarded(target, *args) -> None:
        try:
            target(*args)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(reader,)) for _ in range(2)]
    threads += [threading.Thread(target=guarded, args=(writer, n)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(set(statuses)) == [200, 201]
    assert count(Patient) == 1 + 2 * ROUNDS
    report = verify_chain()
    assert report.ok and report.events == 4 * ROUNDS
