"""What every page's frame (templates/base.html) needs besides the page itself: the navigation,
the idle sign-out's length, and an error page's plain words."""

from __future__ import annotations

from typing import Any

from mat.config import SESSION_IDLE
from mat.errors import HTTP_MESSAGES, MatError
from mat.navigation import nav_links

# An error page's heading and, when the error's own message is the API's generic sentence (or
# must not be shown, a 500), what the page says instead: what happened and what to do.
PAGE_WORDS: dict[int, tuple[str, str]] = {
    400: ("This request could not be read", "Go back, reload the page and try again."),
    401: ("Please sign in", "Sign in first, then open the page again."),
    403: (
        "This page is not part of your work",
        "Your role does not open this page. Use the links above, or ask an administrator "
        "if you need it.",
    ),
    404: (
        "Page not found",
        "There is no page at this address. It may have been typed wrong or the record may "
        "not exist.",
    ),
    405: ("This page cannot do that", "Go back and use the page's own buttons."),
    409: ("Someone changed this first", "Reload the page to see the latest, then try again."),
    413: ("Too much to send at once", "Send a smaller file or fewer rows at a time."),
    422: ("This could not be done", "Go back, correct what is named and try again."),
    429: ("Too many attempts", "Wait a minute, then try again."),
    500: (
        "Something went wrong on our side",
        "It has been logged, and nothing was recorded. Try again; if it happens again, tell "
        "your administrator what you were doing.",
    ),
}
CSRF_WORDS = (
    "This form had expired",
    "The page was open too long or you were signed out meanwhile. Nothing was recorded. "
    "Go back, reload the page and try again.",
)


def error_words(err: MatError) -> tuple[str, str]:
    """(heading, text) for the error page. A service's own message ("No patient 12") is plain
    already and is shown; the generic API sentences and anything of a 500 are not."""
    if err.code == "csrf_failed":
        return CSRF_WORDS
    status = err.status if err.status in PAGE_WORDS else (500 if err.status >= 500 else 400)
    heading, text = PAGE_WORDS[status]
    if status >= 500 or err.message in HTTP_MESSAGES.values():
        return heading, text
    return heading, err.message


def frame_context() -> dict[str, Any]:
    return {
        "nav_links": nav_links,
        "idle_seconds": int(SESSION_IDLE.total_seconds()),
        "error_words": error_words,
    }
