"""Every error a user can meet is a Vietnamese page (or JSON on the API), never Flask's."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from survey_app.extensions import db
from tests.staff_support import add_user, login


def test_unknown_staff_and_public_urls_answer_404_in_vietnamese(client: FlaskClient) -> None:
    staff = client.get("/staff/khong-co-trang-nay")
    assert staff.status_code == 404 and "Không tìm thấy" in staff.text
    public = client.get("/khong-co-trang-nay")
    assert public.status_code == 404 and "quét mã QR" in public.text
    api = client.get("/api/v1/khong-co")
    assert api.status_code == 404 and api.is_json and "không tồn tại" in api.json["error"]


def test_a_staff_form_without_its_csrf_token_stores_nothing_and_says_so(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        add_user("quantri", "admin")
    client = app.test_client()
    login(client, "quantri")
    response = client.post("/staff/users", data={"username": "moi", "role": "viewer"})
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn" in response.text and "không có gì được lưu" in response.text


def test_an_unexpected_failure_is_a_vietnamese_500_page(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    app.testing = False  # as in production: the error is handled, not raised in the test

    def boom() -> str:
        raise RuntimeError("hỏng")

    app.add_url_rule("/staff/thu-loi", view_func=boom)
    app.add_url_rule("/thu-loi", view_func=boom)
    client = app.test_client()
    staff = client.get("/staff/thu-loi")
    assert staff.status_code == 500 and "Lỗi hệ thống" in staff.text and "hỏng" not in staff.text
    public = client.get("/thu-loi")
    assert public.status_code == 500 and "chưa được ghi nhận" in public.text
