"""The admin's pages through the real HTTP stack: signed in with the form, CSRF tokens and
one-time form tokens read from the page."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.auth.test_pages import sign_in


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*? value="([^"]*)"', page)
    assert match, f"no {name} in the page"
    return html.unescape(match.group(1))


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def admin(client: Any, staff: dict[str, Any]) -> Any:
    """The test client, signed in as the administrator ``boss``."""
    response = sign_in(client, "boss")
    assert response.status_code == 302
    return client


def form_post(client: Any, page_path: str, action: str, data: dict[str, Any]) -> Any:
    """Open ``page_path``, then post ``data`` to ``action`` with the page's CSRF token and
    one-time form token (the first on the page), as a browser would."""
    page = client.get(page_path).get_data(as_text=True)
    fields = {"csrf_token": hidden(page, "csrf_token")}
    if 'name="token"' in page:
        fields["token"] = hidden(page, "token")
    return client.post(action, data={**fields, **data})
