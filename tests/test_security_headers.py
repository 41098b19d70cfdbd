"""Security headers on every route of ``app.url_map``, for every role, on both databases.

Pages: a Content-Security-Policy without 'unsafe-inline' whose nonce every inline
``<style>``/``<script>`` carries, no style attribute or inline event handler left in the
HTML; everything else (JSON, CSV, XLSX, SVG, static files) a policy allowing nothing.
Every response: no framing, nosniff, no referrer; no-store but for static files, the icon and
the health check.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from werkzeug.test import TestResponse

from survey_app.extensions import db
from survey_app.security_headers import FILE_POLICY, PAGE_POLICY
from tests.http_support import Route, every_route, province_records
from tests.staff_support import add_user, csrf_token, login

ROLES = ("anonymous", "admin", "analyst", "officer", "viewer")
INLINE = re.compile(r"<(style|script)\b([^>]*)>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def _problems(route: Route, response: TestResponse) -> list[str]:
    headers = response.headers
    problems = []
    expected = {
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    for name, value in expected.items():
        if headers.get(name) != value:
            problems.append(f"{name}: {headers.get(name)!r}")
    cacheable = route.endpoint in ("static", "favicon", "citizen.healthz")
    if not cacheable and headers.get("Cache-Control") != "no-store":
        problems.append(f"Cache-Control: {headers.get('Cache-Control')!r}")
    policy = headers.get("Content-Security-Policy", "")
    if response.mimetype != "text/html":
        if policy != FILE_POLICY:
            problems.append(f"{response.mimetype} policy: {policy!r}")
        return problems
    nonce = re.search(r"'nonce-([A-Za-z0-9_-]{16,})'", policy)
    if policy != PAGE_POLICY.format(nonce=f" 'nonce-{nonce.group(1)}'" if nonce else ""):
        problems.append(f"page policy: {policy!r}")
    html = response.get_data(as_text=True)
    for tag, attributes in INLINE.findall(html):
        if tag.lower() == "script" and re.search(r'\ssrc="/static/', attributes):
            continue
        if not nonce or f'nonce="{nonce.group(1)}"' not in attributes:
            problems.append(f"<{tag}{attributes}> without the response's nonce")
    if STYLE_ATTRIBUTE.search(html):
        problems.append("a style attribute: " + STYLE_ATTRIBUTE.search(html).group(0)[:80])  # type: ignore[union-attr]
    if EVENT_HANDLER.search(html):
        problems.append("an inline event handler: " + EVENT_HANDLER.search(html).group(0)[:80])  # type: ignore[union-attr]
    return problems


def test_every_route_answers_every_role_with_the_security_headers(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(ONESTOP_API_SECRET="khoa-bi-mat-cua-phan-mem-mot-cua-0123456789")
    with app.app_context():
        db.create_all()
    records = province_records(app)
    with app.app_context():
        for role in ROLES[1:]:
            add_user(role, role, None if role in ("admin", "analyst") else "HT-STP")
    # Logging out last: the other routes are asked while signed in.
    routes = sorted(every_route(app, records), key=lambda r: r.endpoint == "staff.logout")
    problems = []
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            assert login(client, role).status_code == 302
        for route in routes:
            if route.method == "GET":
                response = client.get(route.url)
            else:
                page = "/staff/login" if role == "anonymous" else "/staff/"
                response = client.post(route.url, data={"csrf_token": csrf_token(client, page)})
            problems += [
                f"{role} {route} ({response.status_code}): {p}" for p in _problems(route, response)
            ]
            response.close()  # a static file is sent from an open file
    assert problems == []


def test_the_citizen_pages_nonce_is_new_on_every_response(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    with app.app_context():
        db.create_all()
    records = province_records(app)
    client = app.test_client()
    nonces = set()
    for _ in range(3):
        response = client.get(f"/s/{records['public_id']}")
        policy = response.headers["Content-Security-Policy"]
        nonces.add(re.search(r"'nonce-([^']+)'", policy).group(1))  # type: ignore[union-attr]
        assert "unsafe-inline" not in policy
    assert len(nonces) == 3
