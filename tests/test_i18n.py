"""The staff interface in Vietnamese or English, as the official chooses."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient

from survey_app import i18n
from tests.staff_support import add_user, csrf_token, login, seed_province


def _switch(client: FlaskClient, language: str, next_path: str = "/staff/login") -> str:
    token = csrf_token(client)
    response = client.post(
        f"/staff/language/{language}?next={next_path}", data={"csrf_token": token}
    )
    assert response.status_code == 302
    return response.headers["Location"]


def test_staff_pages_are_vietnamese_until_english_is_chosen(client: FlaskClient) -> None:
    page = client.get("/staff/login").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Khảo sát mức độ hài lòng · Cán bộ" in page
    assert _switch(client, "en") == "/staff/login"
    page = client.get("/staff/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Satisfaction survey · Staff" in page
    _switch(client, "vi")
    assert "Khảo sát mức độ hài lòng · Cán bộ" in client.get("/staff/login").get_data(as_text=True)


def test_signed_in_header_follows_the_choice(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        seed_province()
        add_user("lan", "admin")
    _switch(client, "en")  # on the login page: the choice survives signing in
    assert login(client, "lan").status_code == 302
    page = client.get("/staff/").get_data(as_text=True)
    assert "Sign out" in page and "Đăng xuất" not in page


def test_the_switch_needs_its_csrf_token(client: FlaskClient) -> None:
    client.get("/staff/login")
    assert client.post("/staff/language/en").status_code == 400
    assert "Khảo sát mức độ hài lòng · Cán bộ" in client.get("/staff/login").get_data(as_text=True)


def test_unknown_language_is_not_found(client: FlaskClient) -> None:
    token = csrf_token(client)
    assert client.post("/staff/language/fr", data={"csrf_token": token}).status_code == 404


def test_the_switch_never_leads_to_another_site(client: FlaskClient) -> None:
    for target in ("https://evil.example/staff", "//evil.example/staff", "/s/abc", ""):
        assert _switch(client, "en", target) == "/staff/"


def test_the_staff_choice_does_not_change_public_pages(client: FlaskClient) -> None:
    _switch(client, "en")
    with client.application.test_request_context("/s/anything"):
        assert i18n.select_language() == "vi"


def test_numbers_and_dates_follow_the_language(app: Flask) -> None:
    with app.test_request_context("/staff/"):
        assert (i18n.number(72.456), i18n.number(3.5, 2, signed=True)) == ("72,5", "+3,50")
        assert i18n.day(dt.date(2026, 3, 5)) == "05/03/2026"
        i18n.use_language("en")
        assert (i18n.number(72.456), i18n.number(-3.5, 2, signed=True)) == ("72.5", "-3.50")
        assert i18n.day(dt.date(2026, 3, 5)) == "5 Mar 2026"
