"""A service's refusal reads in the reader's language, wherever it is shown: the staff
pages (Vietnamese, or English once chosen), the one-stop API (English) and the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import time
from pathlib import Path

import click
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from survey_app.cli.errors import ServiceGroup
from survey_app.extensions import db
from survey_app.models import Campaign, ImportBatch
from survey_app.services import organisation, paper_import
from survey_app.services.questionnaires import definition
from tests import dashboard_setup
from tests.staff_support import ROOT, add_answers, add_user, csrf_token, login, seed_province
from tests.test_paper_import import _answers, _fill_csv

SECRET = "s3cret-for-tests"
SIPAS_2023 = ROOT / "questionnaires" / "sipas-2023.yaml"


def _english(client: FlaskClient) -> None:
    token = csrf_token(client, "/staff/")
    assert client.post("/staff/language/en", data={"csrf_token": token}).status_code == 302


def _new_user(client: FlaskClient, password: str) -> str:
    response = client.post(
        "/staff/users",
        data={
            "username": "lan",
            "password": password,
            "role": "analyst",
            "agency": "",
            "csrf_token": csrf_token(client, "/staff/users"),
        },
    )
    return response.get_data(as_text=True)


def test_an_account_refusal_reads_in_vietnamese_then_in_english(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        add_user("quantri", "admin")
    login(client, "quantri")
    assert "Mật khẩu phải có ít nhất 10 ký tự." in _new_user(client, "ngan")
    _english(client)
    assert "A password must have at least 10 characters." in _new_user(client, "ngan")


def _new_agency(client: FlaskClient, code: str, name: str) -> str:
    response = client.post(
        "/staff/agencies",
        data={
            "code": code,
            "name": name,
            "kind": "department",
            "parent": "",
            "csrf_token": csrf_token(client, "/staff/agencies"),
        },
    )
    assert response.status_code == 422
    return response.get_data(as_text=True)


def test_set_up_problems_read_in_either_language_next_to_their_fields(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        add_user("quantri", "admin")
        organisation.add_agency("HT", "Tỉnh Hà Tĩnh", "province")
        db.session.commit()
    login(client, "quantri")
    page = _new_agency(client, "HT", "a\x1bb")
    assert "Mã cơ quan &#39;HT&#39; đã được dùng." in page
    assert "Tên cơ quan có ký tự không được phép (U+001B) ở vị trí 2" in page
    _english(client)
    page = _new_agency(client, "HT", " ")
    assert "The agency code &#39;HT&#39; is already in use." in page
    assert "Please enter the agency name." in page


def test_a_refused_dossier_code_reads_in_vietnamese_on_the_command_line(
    app: Flask, runner: FlaskCliRunner
) -> None:
    with app.app_context():
        db.create_all()
    result = runner.invoke(args=["dossier-code", "issue", "KHONG-CO", "HS-1"])
    assert result.exit_code == 1
    assert "Error: Không có bộ phận một cửa đang hoạt động mã 'KHONG-CO'." in result.output


def test_the_one_stop_api_answers_a_refusal_in_english_json(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(ONESTOP_API_SECRET=SECRET)
    with app.app_context():
        db.create_all()
    body = json.dumps({"desk": "KHONG-CO", "dossier": "HS-1"}).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), stamp.encode() + b"\n" + body, hashlib.sha256)
    response = app.test_client().post(
        "/api/v1/dossier-codes",
        data=body,
        headers={
            "X-Timestamp": stamp,
            "X-Signature": signature.hexdigest(),
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 404
    assert response.get_json() == {"error": "no active desk with code 'KHONG-CO'"}


def test_the_cli_prints_a_refusal_in_vietnamese_and_fails(
    app: Flask, runner: FlaskCliRunner
) -> None:
    with app.app_context():
        db.create_all()
    result = runner.invoke(args=["user", "disable", "khong-co"])
    assert result.exit_code == 1
    assert "Error: Không có tài khoản 'khong-co'." in result.output
    result = runner.invoke(
        args=["user", "add", "lan", "--role", "analyst", "--password-stdin"], input="ngan\n"
    )
    assert result.exit_code == 1
    assert "Error: Mật khẩu phải có ít nhất 10 ký tự." in result.output


def _paper_upload(client: FlaskClient, body: bytes, filename: str) -> tuple[int, str]:
    page = "/staff/campaigns/STP-2026/import"
    response = client.post(
        page,
        data={"csrf_token": csrf_token(client, page), "file": (io.BytesIO(body), filename)},
        content_type="multipart/form-data",
    )
    return response.status_code, response.get_data(as_text=True)


def test_a_refused_paper_file_reads_in_vietnamese_then_in_english(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        seed_province()
        add_user("an", "officer", "HT-STP")
    login(client, "an")
    body = b"form_id,desk,submitted_on,II.2.1\r\n1,HT-STP-01,31/12/2025,6\r\n"
    status, page = _paper_upload(client, body, "loi.csv")
    assert status == 422
    assert (
        "Dòng 2, cột II.2.1: mã 6 không có trong thang đo (các mã hợp lệ: 1, 2, 3, 4, 5, 9)" in page
    )
    assert "Dòng 2, cột submitted_on: ngày 31/12/2025 nằm ngoài thời gian đợt khảo sát" in page
    latin = _paper_upload(client, b"form_id\r\nph\xe9u\r\n", "cu.csv")
    assert latin[0] == 400 and "bảng mã UTF-8 (Excel: “CSV UTF-8”)." in latin[1]
    _english(client)
    status, page = _paper_upload(client, body, "loi.csv")
    assert status == 422
    assert (
        "Line 2, column II.2.1: code 6 is not on the scale (valid codes: 1, 2, 3, 4, 5, 9)" in page
    )
    assert "Line 2, column submitted_on: date 31 Dec 2025 is outside the campaign period" in page
    latin = _paper_upload(client, b"form_id\r\nph\xe9u\r\n", "cu.csv")
    assert "A CSV file must be saved in the UTF-8 encoding" in latin[1]
    with app.app_context():
        assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


def test_a_paper_file_imported_twice_is_refused_in_either_language(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    with app.app_context():
        seed_province()
        add_user("an", "officer", "HT-STP")
        campaign = db.session.scalar(select(Campaign).filter_by(code="STP-2026"))
        template = paper_import.template_csv(definition(campaign.questionnaire_version))
        rows = [{"form_id": "1", "desk": "HT-STP-01", "submitted_on": "2026-04-01", **_answers()}]
    body = _fill_csv(template, rows)
    path = tmp_path / "phieu.csv"
    path.write_bytes(body)
    assert runner.invoke(args=["import", "paper", "STP-2026", str(path)]).exit_code == 0
    again = runner.invoke(args=["import", "paper", "STP-2026", str(path)])
    assert again.exit_code == 1
    assert "Error: Tệp này đã được nhập vào đợt khảo sát lúc " in again.output
    login(client, "an")
    status, page = _paper_upload(client, body, "phieu.csv")
    assert status == 409
    assert "Tệp này đã được nhập vào đợt khảo sát" in page
    _english(client)
    status, page = _paper_upload(client, body, "phieu.csv")
    assert status == 409
    assert "This file was already imported into the campaign at " in page
    with app.app_context():
        assert db.session.scalar(select(func.count(ImportBatch.id))) == 1


def _upload_questionnaire(client: FlaskClient, text: str) -> tuple[int, str]:
    response = client.post(
        "/staff/questionnaires",
        data={
            "csrf_token": csrf_token(client, "/staff/questionnaires"),
            "file": (io.BytesIO(text.encode()), "sipas-2023-sua.yaml"),
        },
        content_type="multipart/form-data",
    )
    return response.status_code, response.get_data(as_text=True)


def test_a_changed_questionnaire_version_with_answers_is_refused_on_page_and_command_line(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    reworded = SIPAS_2023.read_text(encoding="utf-8").replace("Rất hài lòng", "Rất rất", 1)
    with app.app_context():
        seed_province()
        add_user("quantri", "admin")
        add_answers("STP-2026", "HT-STP-01", dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 2))
    path = tmp_path / "sipas-2023-sua.yaml"
    path.write_text(reworded, encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "load", str(path)])
    assert result.exit_code == 1
    line = (
        "sipas-2023-sua.yaml: sipas-2023 version 2023.1 already has answers and cannot change; "
        "give the changed questionnaire a new version"
    )
    assert f"Error: {line}" in result.output
    login(client, "quantri")
    status, page = _upload_questionnaire(client, reworded)
    assert status == 409 and line in page
    _english(client)
    status, page = _upload_questionnaire(client, reworded)
    assert status == 409 and line in page


def _weighting(client: FlaskClient, margins: str) -> tuple[int, str]:
    page = "/staff/campaigns/SIPAS-2026/weighting"
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "ci_method": "logit",
            "calibration": "poststratify",
            "level": "0.95",
            "margins": (io.BytesIO(margins.encode()), "m.csv"),
        },
        content_type="multipart/form-data",
    )
    return response.status_code, response.get_data(as_text=True)


def test_a_refused_weighting_setting_reads_in_vietnamese_then_in_english(
    app: Flask, client: FlaskClient
) -> None:
    dashboard_setup.province(app, 30)
    dashboard_setup.login(client, "analyst")
    status, page = _weighting(client, "gender,count\n1,năm\n")
    assert status == 400 and "Dòng 2: số lượng &#39;năm&#39; không phải là số." in page
    status, page = _weighting(client, "gender,count\n1,2000000000\n2,5\n")
    assert "Dòng 2: số lượng 2e+09 quá lớn: tối đa 1.000.000.000 cho một ô." in page
    _english(client)
    status, page = _weighting(client, "gender,count\n1,năm\n")
    assert status == 400 and "Line 2: count &#39;năm&#39; is not a number." in page
    status, page = _weighting(client, "gender,count\n1,2000000000\n2,5\n")
    assert "Line 2: count 2e+09 is too large: at most 1,000,000,000 for one cell." in page


def test_a_campaign_too_small_to_analyse_says_so_in_either_language(
    app: Flask, client: FlaskClient
) -> None:
    dashboard_setup.province(app, 1)
    dashboard_setup.login(client, "admin")
    page = client.get("/staff/campaigns/SIPAS-2026/dashboard")
    assert page.status_code == 200
    assert "chưa có đủ phiếu để tính chỉ số (cần ít nhất 2 phiếu)." in page.text
    exported = client.get("/staff/campaigns/SIPAS-2026/indices.csv")
    assert "chưa có đủ phiếu để tính chỉ số" in exported.text
    _english(client)
    page = client.get("/staff/campaigns/SIPAS-2026/dashboard")
    assert "does not have enough forms yet to compute the indices (at least 2" in page.text


def test_the_staff_error_page_leads_home_in_the_chosen_language(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        add_user("quantri", "admin")
    login(client, "quantri")
    page = client.get("/staff/campaigns/KHONG-CO/import")
    assert page.status_code == 404 and "Về trang chủ</a>" in page.get_data(as_text=True)
    _english(client)
    page = client.get("/staff/campaigns/KHONG-CO/import")
    assert page.status_code == 404 and "Back to the home page</a>" in page.get_data(as_text=True)


def test_every_command_group_ends_a_refusal_in_one_place(app: Flask) -> None:
    """Each group of ``survey-app`` is a ServiceGroup: a refusal prints ``Error: <text>``."""
    groups = [command for command in app.cli.commands.values() if isinstance(command, click.Group)]
    assert groups and all(isinstance(group, ServiceGroup) for group in groups)


def test_a_refused_desk_on_the_command_line_prints_the_problem_and_fails(
    app: Flask, runner: FlaskCliRunner
) -> None:
    with app.app_context():
        db.create_all()
    result = runner.invoke(args=["desk", "rename", "KHONG-CO", "Tên mới"])
    assert result.exit_code == 1
    assert "Error: Không có bộ phận một cửa mã 'KHONG-CO'." in result.output
