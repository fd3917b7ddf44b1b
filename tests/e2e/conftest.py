"""Browser tests: a live server on the test's database, driven by headless Chromium.

Chromium comes from Debian (the Makefile installs it when it can). Without it these tests are
skipped with the reason printed, except in CI, where they must run.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    reason = "no chromium on PATH (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests, but {reason}")
    pytest.skip(reason)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a free local port, in a thread, for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def page(live_server: str) -> Iterator[Any]:
    """A browser tab on the live server. Every test also checks that the browser refused
    nothing under the Content-Security-Policy (an inline script or style left in a template
    would silently not run: the console says so)."""
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        context = browser.new_context(base_url=live_server, viewport={"width": 1200, "height": 900})
        tab = context.new_page()
        tab.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        try:
            yield tab
        finally:
            context.close()
            browser.close()
    violations = [line for line in console if "Content Security Policy" in line]
    assert violations == [], violations


def screenshot(page: Any, name: str) -> Path:
    """Keep what the page looked like in test-artifacts/ (gitignored) for a person to open."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    submit(page, lambda: page.click("button[type=submit]"))


def submit(page: Any, action: Any) -> None:
    """Do what navigates (a click, Enter) and wait until the next page has loaded: acting or
    taking a screenshot while the old page unloads races the navigation (and can hang)."""
    with page.expect_navigation():
        action()
    page.wait_for_load_state()
