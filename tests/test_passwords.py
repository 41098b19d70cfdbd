"""Weak passwords are refused wherever a password is set (users page, own page, CLI), with a
Vietnamese reason: short, common, repetitive, a sequence, a keyboard run, or the account's
or the application's own words."""

from __future__ import annotations

import random
import re
import string

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import StaffUser
from survey_app.services.accounts import AccountError, check_password_strength
from tests.staff_support import PASSWORD, add_user, csrf_token, login


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaa", "lặp lại"),
        ("abcabcabcabc", "lặp lại"),
        ("password12", "phổ biến"),
        ("iloveyou123", "phổ biến"),
        ("matkhau2026", "phổ biến"),
        ("abcdefghij", "dãy liên tiếp"),
        ("9876543210", "dễ đoán"),
        ("qwertyuiop", "dễ đoán"),
        ("zxcvbnm,./", "dễ đoán"),
        ("Lan-2026-hoa-sen", "tên đăng nhập"),
        ("NGUYENLAN99!", "tên đăng nhập"),
        ("sipas-2026-x", "tên của hệ thống (sipas)"),
        ("Khảo sát 2026!!", "tên của hệ thống (khaosat)"),
        ("hài-lòng-lắm-nhé", "tên của hệ thống (hailong)"),
        ("ngan", "ít nhất 10 ký tự"),
        ("x" * 257, "tối đa 256 ký tự"),
    ],
)
def test_a_weak_password_is_refused_with_its_reason(password: str, reason: str) -> None:
    username = "nguyenlan" if password.startswith("NGUYEN") else "lan"
    with pytest.raises(AccountError, match=re.escape(reason)):
        check_password_strength(password, username)


@pytest.mark.parametrize(
    "password",
    [
        "mat-khau-thu-nghiem",
        "Trâu-Cày-Ruộng-Sớm-7",
        "correct horse battery staple",
        "hoa sen nở rộ giữa hè",
        "tôi đi làm lúc bảy giờ sáng, về nhà lúc năm giờ chiều và ăn cơm cùng gia đình",
    ],
)
def test_a_long_unguessable_password_is_accepted(password: str) -> None:
    check_password_strength(password, "lan")


@settings(deadline=None)  # zxcvbn takes tens of milliseconds a password
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=3))
def test_any_repeated_chunk_is_refused(chunk: str) -> None:
    with pytest.raises(AccountError):
        check_password_strength(chunk * (12 // len(chunk) + 1), "lan")


@settings(deadline=None)  # zxcvbn takes tens of milliseconds a password
@given(
    st.sampled_from([string.digits, string.ascii_lowercase, string.digits[::-1]]),
    st.integers(0, 5),
)
def test_any_run_of_ten_consecutive_characters_is_refused(alphabet: str, start: int) -> None:
    run = (alphabet * 2)[start : start + 10]
    with pytest.raises(AccountError):
        check_password_strength(run, "lan")


@settings(deadline=None)  # zxcvbn takes tens of milliseconds a password
@given(
    username=st.from_regex(r"[a-z][a-z0-9]{2,12}", fullmatch=True),
    before=st.text(string.ascii_letters + string.digits + "-!@", max_size=8),
    after=st.text(string.ascii_letters + string.digits + "-!@", min_size=10, max_size=20),
)
def test_a_password_holding_the_username_is_refused(username: str, before: str, after: str) -> None:
    with pytest.raises(AccountError):
        check_password_strength(before + username.upper() + after, username)


def test_random_passwords_of_sixteen_characters_are_accepted() -> None:
    """Drawn at random (a fixed seed), as a password manager draws them: none is refused.
    (A search for the weakest string, as hypothesis does, rightly finds l33t words.)"""
    draw = random.Random(20261202)
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*-_"
    for _ in range(200):
        check_password_strength("".join(draw.choice(alphabet) for _ in range(16)), "lan")


def _users(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(StaffUser.id))) or 0


def test_the_users_page_refuses_a_weak_password_and_says_why(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        add_user("quantri", "admin")
    login(client, "quantri")
    before = _users(app)
    response = client.post(
        "/staff/users",
        data={
            "username": "lan",
            "password": "password12",
            "role": "analyst",
            "agency": "",
            "csrf_token": csrf_token(client, "/staff/users"),
        },
    )
    assert "Mật khẩu quá dễ đoán: có mật khẩu hay từ rất phổ biến" in response.get_data(
        as_text=True
    )
    assert _users(app) == before


def test_the_own_password_page_refuses_a_weak_one(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_user("lan", "analyst")
    login(client, "lan")
    page = "/staff/account/password"
    response = client.post(
        page,
        data={
            "current": PASSWORD,
            "new": "aaaaaaaaaa",
            "confirm": "aaaaaaaaaa",
            "csrf_token": csrf_token(client, page),
        },
    )
    assert "lặp lại" in response.get_data(as_text=True)
    assert login(app.test_client(), "lan", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "command", [["user", "add", "lan", "--role", "analyst"], ["user", "create-admin", "lan"]]
)
def test_the_command_line_refuses_a_weak_password(
    app: Flask, runner: FlaskCliRunner, command: list[str]
) -> None:
    result = runner.invoke(args=[*command, "--password-stdin"], input="password12\n")
    assert result.exit_code != 0 and "Mật khẩu quá dễ đoán" in result.output
    assert _users(app) == 0
    add = runner.invoke(args=[*command, "--password-stdin"], input="mat-khau-thu-nghiem\n")
    assert add.exit_code == 0
    weak = runner.invoke(
        args=["user", "set-password", "lan", "--password-stdin"], input="1234567890\n"
    )
    assert weak.exit_code != 0 and "Mật khẩu quá dễ đoán" in weak.output
