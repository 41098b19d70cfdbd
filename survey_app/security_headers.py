"""Security headers on every response: Content-Security-Policy, framing, sniffing, caching.

Pages (HTML) get a strict policy without ``'unsafe-inline'``: the staff pages load their
CSS and JS from ``/static`` (``'self'``); the citizen pages inline theirs (one request on
slow mobile data), each ``<style>`` and ``<script>`` carrying the request's nonce
(``csp_nonce()`` in templates); ``connect-src 'self'`` lets the citizen form send its
steps with fetch (static/citizen.js). Style attributes are not allowed either: widths and
indents that depend on data are SVG attributes (``<rect width>``) or classes. The inline
SVG charts use presentation attributes (``fill``, ``font-size``), which CSP does not govern.

Every other response (JSON, CSV, XLSX, the SVG poster, static files) gets a policy that
allows nothing and a sandbox: a downloaded file opened in a tab can run nothing.

``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (for older browsers) keep every
page out of frames, so the one-button confirmation pages cannot be clickjacked. Nothing
but static files, the icon and the health check may be stored by a cache: pages carry CSRF tokens
and answers, exports carry microdata.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'{nonce}; style-src 'self'{nonce}; img-src 'self'; "
    "connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FILE_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
CACHEABLE_ENDPOINTS = ("static", "favicon", "citizen.healthz")


def csp_nonce() -> str:
    """The nonce of this request's inline ``<style>`` and ``<script>`` elements."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def _add_headers(response: Response) -> Response:
    headers = response.headers
    if response.mimetype == "text/html":
        nonce = f" 'nonce-{g.csp_nonce}'" if "csp_nonce" in g else ""
        headers.setdefault("Content-Security-Policy", PAGE_POLICY.format(nonce=nonce))
    else:
        headers.setdefault("Content-Security-Policy", FILE_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
