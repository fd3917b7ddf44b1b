"""No query string (a name, an MRN) reaches a log: not gunicorn's access log with the README's
config, not Werkzeug's development server."""

from __future__ import annotations

import http.client
import logging
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from mat.logs import NoQueryStrings, without_query
from tests.support import gunicorn

SECRET = "Vantongeren"


def _get(port: int, path: str, **headers: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.parametrize(
    "line, logged",
    [
        ("GET /api/v1/patients?q=Smith HTTP/1.1", "GET /api/v1/patients HTTP/1.1"),
        ('"GET /window?q=a%20b&x=1 HTTP/1.1" 200 -', '"GET /window HTTP/1.1" 200 -'),
        ("GET /window HTTP/1.1", "GET /window HTTP/1.1"),
    ],
)
def test_request_lines_lose_their_query(line, logged) -> None:
    assert without_query(line) == logged


def test_the_development_server_logs_no_query_string(app, caplog) -> None:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            status = _get(server.server_port, f"/api/v1/patients?q={SECRET}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert status == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("GET /api/v1/patients HTTP/1.1" in line for line in lines), lines
    assert SECRET not in caplog.text
    assert any(isinstance(f, NoQueryStrings) for f in logging.getLogger("werkzeug").filters)


@pytest.mark.slow
def test_gunicorn_with_the_readme_config_logs_no_query_string(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "gunicorn.log"
    port = gunicorn.free_port()
    server = gunicorn.start(database_url, port, log=log)
    try:
        referer = f"http://127.0.0.1:{port}/?q={SECRET}"
        assert _get(port, f"/api/v1/patients?q={SECRET}") == 401
        assert _get(port, f"/login?next=/window%3Fq%3D{SECRET}", Referer=referer) == 200
    finally:
        gunicorn.stop(server)
    text = log.read_text()
    assert '"GET /api/v1/patients HTTP/1.1" 401' in text, text
    assert '"GET /login HTTP/1.1" 200' in text, text
    assert SECRET not in text, text
