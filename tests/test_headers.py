"""Every answer carries the contract's headers: pages, JSON, errors, CSV and PDF exports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mat.headers import CONTENT_SECURITY_POLICY
from tests.auth.test_pages import sign_in

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def assert_protected(response: Any, *, cacheable: bool = False) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["Referrer-Policy"] == "same-origin"
    permissions = headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation"):
        assert f"{feature}=()" in permissions
    assert headers["X-Frame-Options"] == "DENY"
    if cacheable:
        assert "no-store" not in headers.get("Cache-Control", "")
    else:
        assert headers["Cache-Control"] == "no-store"


def test_the_sign_in_page(client) -> None:
    assert_protected(client.get("/login"))


def test_a_signed_in_page_with_patient_data(client, staff, patient) -> None:
    sign_in(client, "nurse1")
    response = client.get(f"/window/{patient.id}")
    assert response.status_code == 200
    assert_protected(response)


def test_a_redirect(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert_protected(response)


def test_a_json_answer(api, staff, patient) -> None:
    response = api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"])
    assert response.status_code == 200
    assert_protected(response)


@pytest.mark.parametrize(
    "path, status", [("/api/v1/patients/99999", 404), ("/api/v1/me", 401), ("/nowhere", 404)]
)
def test_error_answers(api, staff, path, status) -> None:
    response = api("get", path, as_=staff["nurse"] if status != 401 else None)
    assert response.status_code == status
    assert_protected(response)


def test_a_refused_page(client, staff) -> None:
    sign_in(client, "nurse1")
    response = client.get("/audit")
    assert response.status_code == 403
    assert_protected(response)


def test_the_openapi_document(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert_protected(response)


@pytest.mark.parametrize("fmt, mimetype", [("csv", "text/csv"), ("pdf", "application/pdf")])
def test_exports(api, staff, fmt, mimetype) -> None:
    response = api(
        "get",
        f"/api/v1/reports/dispensing-log?from=2026-11-16&to=2026-11-16&format={fmt}",
        as_=staff["auditor"],
    )
    response.get_data()  # a streamed body holds its request context until read
    assert response.status_code == 200 and response.mimetype == mimetype
    assert_protected(response)


def test_the_history_pdf(api, staff, patient) -> None:
    response = api("get", f"/api/v1/patients/{patient.id}/history?format=pdf", as_=staff["auditor"])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert_protected(response)


@pytest.mark.parametrize(
    "name, mimetype", [("mat.css", "text/css"), ("once.js", "text/javascript")]
)
def test_static_assets_are_protected_but_cacheable(client, name, mimetype) -> None:
    response = client.get(f"/static/{name}")
    assert response.status_code == 200 and response.mimetype == mimetype
    assert_protected(response, cacheable=True)
    response.close()


def test_the_policy_allows_only_our_own_scripts_and_styles() -> None:
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "style-src 'self'" in CONTENT_SECURITY_POLICY
    assert "object-src 'none'" in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_templates_hold_no_inline_script_or_style(template: Path) -> None:
    # The policy forbids them, so the browser would silently ignore them: keep them out.
    source = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", source), "inline <script>"
    assert "<style" not in source, "<style> block: use a stylesheet in mat/static"
    assert not re.search(r"\sstyle=", source), "style= attribute: use a class"
    assert not re.search(r"\son[a-z]+=", source), "inline event handler: use mat/static/*.js"
    assert "javascript:" not in source
