"""One access decorator for every staff view and API route (``access.role_required``).

Pages send an anonymous user to the login page and answer 403 to a role not listed;
the JSON variant answers 401 and 403 as JSON, never a redirect or a page.
"""

from __future__ import annotations

import pytest
from flask import Flask

from survey_app.access import role_required
from survey_app.extensions import db
from survey_app.services import accounts
from tests.staff_support import add_user, seed_province, sign_in

# The blueprints of signed-in staff; the one-stop API signs its requests with HMAC instead.
STAFF_BLUEPRINTS = ("staff", "dashboard", "posters")
# Staff endpoints anyone may open: the login page and the language switch of its header.
OPEN_ENDPOINTS = {"staff.login", "staff.switch_language"}


@pytest.fixture
def guarded_app(app: Flask) -> Flask:
    @role_required("admin", "analyst")
    def page() -> str:
        return "trang"

    @role_required("admin", "analyst", json=True)
    def api() -> dict[str, bool]:
        return {"ok": True}

    app.add_url_rule("/staff/test-guarded", "test_page", page)
    app.add_url_rule("/api/v1/test-guarded", "test_api", api)
    with app.app_context():
        seed_province()
        add_user("quan-tri", "admin")
        add_user("nguoi-xem", "viewer", "HT-STP")
    return app


def test_every_staff_view_names_the_roles_that_may_use_it(app: Flask) -> None:
    unguarded = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint.split(".")[0] in STAFF_BLUEPRINTS
        and endpoint not in OPEN_ENDPOINTS
        and not endpoint.endswith(".static")
        and not getattr(view, "required_roles", None)
    ]
    assert unguarded == []


def test_api_indices_uses_the_json_variant(app: Flask) -> None:
    view = app.view_functions["dashboard.api_indices"]
    assert view.required_roles == ("admin", "analyst", "officer", "viewer")  # type: ignore[attr-defined]


def test_anonymous_page_goes_to_login_and_api_gets_json_401(guarded_app: Flask) -> None:
    client = guarded_app.test_client()
    page = client.get("/staff/test-guarded")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/staff/login?next=")
    api = client.get("/api/v1/test-guarded")
    assert api.status_code == 401
    assert api.get_json() == {"error": "Cần đăng nhập."}


def test_role_not_listed_gets_403_page_and_json_403(guarded_app: Flask) -> None:
    client = guarded_app.test_client()
    sign_in(client, "nguoi-xem")
    page = client.get("/staff/test-guarded")
    assert page.status_code == 403 and page.mimetype == "text/html"
    api = client.get("/api/v1/test-guarded")
    assert api.status_code == 403
    assert api.get_json() == {"error": "Không có quyền."}


def test_listed_role_is_served_by_both(guarded_app: Flask) -> None:
    client = guarded_app.test_client()
    sign_in(client, "quan-tri")
    assert client.get("/staff/test-guarded").get_data(as_text=True) == "trang"
    assert client.get("/api/v1/test-guarded").get_json() == {"ok": True}


def test_account_disabled_mid_session_gets_json_401(guarded_app: Flask) -> None:
    client = guarded_app.test_client()
    sign_in(client, "quan-tri")
    assert client.get("/api/v1/test-guarded").status_code == 200
    with guarded_app.app_context():
        accounts.set_active("quan-tri", False)
        db.session.commit()
    api = client.get("/api/v1/test-guarded")
    assert api.status_code == 401 and api.is_json
    assert client.get("/staff/test-guarded").status_code == 302
