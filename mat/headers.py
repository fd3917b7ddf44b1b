"""Headers on every answer (api-contract.md): what the browser may run, frame, send and keep.

- ``Content-Security-Policy``: scripts and styles only from ``/static`` (``script-src 'self'``,
  ``style-src 'self'``, no ``unsafe-inline``): an injected ``<script>`` or event handler in a
  patient's name or a hold reason would not run even if escaping failed somewhere. Every page's
  styles are stylesheets in ``mat/static`` (no ``<style>`` block, no ``style=`` attribute), so
  inline styles are forbidden too: one rule for both, nothing to remember per template. No
  framing (``frame-ancestors 'none'``, and ``X-Frame-Options`` for older browsers), forms post
  only back here (``form-action 'self'``), no plugins, no ``<base>``.
- ``Referrer-Policy: same-origin``: no address of ours (ids in paths) goes to another site.
  Not ``no-referrer``: Flask-WTF's CSRF check compares the ``Referer`` of HTTPS form posts with
  the host, and refuses a post that has none.
- ``Permissions-Policy``: the dosing window needs no camera, microphone, location, payment...
- ``Cache-Control: no-store`` on every answer but static assets: pages, JSON and exports hold
  names, MRNs and doses, and no browser cache or proxy keeps a copy. Static assets (CSS, JS)
  hold no patient data and may be cached.

HSTS is the TLS proxy's header (README, Security): the app itself may run on plain http in
demo mode.
"""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """after_request: the headers above on every answer, errors included."""
    response.headers.update(HEADERS)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    # Registered before mat._commit, so it runs after it (Flask runs after_request functions
    # last-registered first): the answer of a failed commit gets the headers too.
    app.after_request(add_security_headers)
