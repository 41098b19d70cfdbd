"""Set-up pages of the staff workspace: desks, campaigns, agencies, questionnaire uploads.

Who may use which route is checked in test_access_matrix; these tests check what
the pages do: Vietnamese messages, values kept on error, confirmation before a
desk closes, the citizen form following at once in this process, the audit log.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Agency, AuditEvent, Campaign, Desk, QuestionnaireVersion
from survey_app.services import organisation
from tests.staff_support import ROOT, add_answers, add_user, csrf_token, login, seed_province

SIPAS_2023 = ROOT / "questionnaires" / "sipas-2023.yaml"


@pytest.fixture
def province(app: Flask) -> Flask:
    with app.app_context():
        seed_province()
        add_user("quantri", "admin")
        add_user("lan", "analyst")
        add_user("an", "officer", "HT-STP")
        add_user("xem", "viewer", "HT-STP")
    return app


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def post(client: FlaskClient, path: str, data: dict[str, object], page: str = "/staff/"):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def field_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page
    )
    return match.group(1) if match else None


def audit_actions(app: Flask, prefix: str) -> list[tuple[str | None, str, str | None]]:
    with app.app_context():
        return [
            (e.username, e.action, e.target)
            for e in db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like(f"{prefix}%"))
                .order_by(AuditEvent.id)
            )
            if e.username != "cli"
        ]


# --------------------------------------------------------------------------- desks


def test_an_officer_adds_a_desk_to_their_agency_and_lands_on_its_page(province: Flask) -> None:
    officer = signed_in(province, "an")
    form = text(officer.get("/staff/desks/new?agency=HT-STP"))
    assert '<option selected value="HT-STP">' in form
    assert "HT-SXD" not in form  # only the own subtree is offered
    response = post(
        officer, "/staff/desks/new", {"agency": "HT-STP", "code": "HT-STP-02", "name": "Quầy số 2"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/staff/desks/HT-STP-02"
    page = text(officer.get("/staff/desks/HT-STP-02"))
    assert "Đã thêm bộ phận một cửa HT-STP-02" in page and "Đang hoạt động" in page
    assert "Quầy chưa thuộc đợt khảo sát nào" in page
    assert audit_actions(province, "desk.") == [("an", "desk.create", "HT-STP-02")]


def test_the_desk_form_keeps_what_was_typed_and_lists_every_error(province: Flask) -> None:
    admin = signed_in(province, "quantri")
    response = post(
        admin,
        "/staff/desks/new",
        {"agency": "HT-STP", "code": "HT-STP-01", "name": "Quầy mới của Sở"},
    )
    page = text(response)
    assert response.status_code == 422
    assert "Mã bộ phận một cửa 'HT-STP-01' đã được dùng." in page
    assert field_value(page, "name") == "Quầy mới của Sở"
    assert '<option selected value="HT-STP">' in page
    blank = post(admin, "/staff/desks/new", {"agency": "", "code": "", "name": "Quầy"})
    page = text(blank)
    assert blank.status_code == 422
    assert "Vui lòng chọn cơ quan." in page and "Vui lòng điền mục này." in page
    assert "vui lòng sửa 2 lỗi" in page and field_value(page, "name") == "Quầy"


def test_renaming_a_desk_keeps_its_code_and_poster_url(province: Flask) -> None:
    analyst = signed_in(province, "lan")
    before = text(analyst.get("/staff/desks/HT-SXD-01"))
    url = re.search(r'href="(http://survey.test/s/[^"]+)"', before).group(1)
    assert "áp phích đã dán vẫn dùng được" in text(analyst.get("/staff/desks/HT-SXD-01/edit"))
    empty = post(analyst, "/staff/desks/HT-SXD-01/edit", {"name": "  "})
    assert empty.status_code == 422 and "Vui lòng nhập tên bộ phận một cửa." in text(empty)
    done = post(analyst, "/staff/desks/HT-SXD-01/edit", {"name": "Quầy Xây dựng (tầng 1)"})
    assert done.status_code == 302
    after = text(analyst.get("/staff/desks/HT-SXD-01"))
    assert "Quầy Xây dựng (tầng 1)" in after and url in after
    assert audit_actions(province, "desk.") == [("lan", "desk.rename", "HT-SXD-01")]


def test_closing_a_desk_asks_first_says_what_happens_and_its_poster_answers_410_at_once(
    province: Flask, client: FlaskClient
) -> None:
    with province.app_context():
        desk = organisation.desk_by_code("HT-STP-01")
        public_id = desk.public_id
        organisation.edit_campaign(
            "STP-2026",
            starts_on=dt.date.today() - dt.timedelta(days=1),
            ends_on=dt.date.today() + dt.timedelta(days=1),
        )
        db.session.commit()
    # The citizen form is served and kept in this process's cache ...
    assert client.get(f"/s/{public_id}").status_code == 200
    officer = signed_in(province, "an")
    confirm = text(officer.get("/staff/desks/HT-STP-01/deactivate"))
    assert "Áp phích mã QR của quầy sẽ ngừng nhận phiếu." in confirm
    assert "Quầy này không còn nhận đánh giá" in confirm
    assert "chậm nhất 30 giây" in confirm and "Khảo sát HT-STP 2026" in confirm
    assert "<title>Ngừng hoạt động" in confirm and "Xác nhận ngừng hoạt động" in confirm
    with province.app_context():
        assert organisation.desk_by_code("HT-STP-01").active  # a GET changes nothing
    done = post(officer, "/staff/desks/HT-STP-01/deactivate", {})
    assert done.status_code == 302
    # ... and emptied by the change: the poster answers 410 in this process at once.
    gone = client.get(f"/s/{public_id}")
    assert gone.status_code == 410 and "Quầy này không còn nhận đánh giá" in text(gone)
    page = text(officer.get("/staff/desks/HT-STP-01"))
    assert "Ngừng hoạt động" in page and "Phát mã" not in page  # no dossier codes for it
    assert "Cho hoạt động trở lại" in page
    reopen = text(officer.get("/staff/desks/HT-STP-01/activate"))
    assert "Áp phích mã QR của quầy sẽ nhận phiếu trở lại" in reopen
    assert "<title>Mở lại" in reopen and "Xác nhận hoạt động trở lại" in reopen
    assert "ngừng nhận phiếu" not in reopen
    assert post(officer, "/staff/desks/HT-STP-01/activate", {}).status_code == 302
    assert client.get(f"/s/{public_id}").status_code == 200
    assert audit_actions(province, "desk.") == [
        ("an", "desk.deactivate", "HT-STP-01"),
        ("an", "desk.activate", "HT-STP-01"),
    ]


def test_a_viewer_sees_no_set_up_buttons(province: Flask) -> None:
    viewer = signed_in(province, "xem")
    home = text(viewer.get("/staff/"))
    assert "Thêm bộ phận một cửa" not in home and "Tạo đợt khảo sát" not in home
    desk = text(viewer.get("/staff/desks/HT-STP-01"))
    assert "Đổi tên" not in desk and "Ngừng hoạt động" not in desk
    assert "Sửa đợt khảo sát" not in text(viewer.get("/staff/campaigns/STP-2026"))
    assert "Thêm cơ quan" not in text(viewer.get("/staff/agencies"))
    assert "Nạp phiếu khảo sát" not in text(viewer.get("/staff/questionnaires"))


def test_every_role_finds_the_dashboard_from_the_campaign_page(province: Flask) -> None:
    viewer = signed_in(province, "xem")
    page = text(viewer.get("/staff/campaigns/STP-2026"))
    assert 'href="/staff/campaigns/STP-2026/dashboard"' in page
    assert viewer.get("/staff/campaigns/STP-2026/dashboard").status_code == 200


# --------------------------------------------------------------------------- campaigns


def _campaign_form(version_id: int, **values: object) -> dict[str, object]:
    form: dict[str, object] = {
        "code": "STP-2027",
        "name": "Khảo sát Sở Tư pháp 2027",
        "questionnaire": str(version_id),
        "starts_on": "2027-01-01",
        "ends_on": "2027-12-31",
        "desks": ["HT-STP-01"],
    }
    form.update(values)
    return form


def _version_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(QuestionnaireVersion.id))


def test_an_officer_creates_a_campaign_in_two_steps(province: Flask) -> None:
    officer = signed_in(province, "an")
    chooser = text(officer.get("/staff/campaigns/new"))
    assert 'value="HT-STP"' in chooser and 'value="HT-SXD"' not in chooser
    form = text(officer.get("/staff/campaigns/new?agency=HT-STP"))
    assert "HT-STP-01" in form and "HT-SXD-01" not in form
    response = post(
        officer,
        "/staff/campaigns/new?agency=HT-STP",
        _campaign_form(_version_id(province), starts_on="01/01/2027"),
    )
    assert (
        response.status_code == 302 and response.headers["Location"] == "/staff/campaigns/STP-2027"
    )
    with province.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code="STP-2027"))
        assert campaign.agency.code == "HT-STP" and campaign.starts_on == dt.date(2027, 1, 1)
        assert [d.code for d in campaign.desks] == ["HT-STP-01"]
    assert audit_actions(province, "campaign.") == [("an", "campaign.create", "STP-2027")]


def test_the_campaign_form_keeps_values_and_shows_all_form_errors_at_once(
    province: Flask,
) -> None:
    admin = signed_in(province, "quantri")
    response = post(
        admin,
        "/staff/campaigns/new?agency=HT",
        _campaign_form(
            _version_id(province),
            code="",
            name="Đợt thử",
            starts_on="2027-02-01",
            ends_on="31/01/2027",
            desks=["HT-STP-01", "HT-SXD-01"],
        ),
    )
    page = text(response)
    assert response.status_code == 422
    assert "Vui lòng điền mục này." in page
    assert "Ngày kết thúc (31/01/2027) phải từ ngày bắt đầu (01/02/2027) trở đi." in page
    assert field_value(page, "name") == "Đợt thử"
    assert field_value(page, "starts_on") == "2027-02-01"
    checked = re.findall(r'<input type="checkbox"[^>]*value="([^"]+)" checked>', page)
    assert checked == ["HT-STP-01", "HT-SXD-01"]
    forged = post(
        admin,
        "/staff/campaigns/new?agency=HT-STP",
        _campaign_form(_version_id(province), desks=["HT-SXD-01"]),
    )
    assert forged.status_code == 422
    assert "Có bộ phận một cửa không thuộc cơ quan của đợt khảo sát." in text(forged)
    with province.app_context():
        assert db.session.scalar(select(Campaign).filter_by(code="STP-2027")) is None


def test_editing_a_campaign_refuses_to_drop_answered_desks_or_answers_and_says_why(
    province: Flask,
) -> None:
    with province.app_context():
        organisation.add_desk("HT-STP-02", "Quầy số 2", "HT-STP")
        add_answers("STP-2026", "HT-STP-01", dt.datetime(2026, 3, 3, 9), dt.datetime(2026, 4, 4, 9))
    officer = signed_in(province, "an")
    page = text(officer.get("/staff/campaigns/STP-2026/edit"))
    assert "Đợt khảo sát đã có 2 phiếu trả lời nên không thể đổi phiếu khảo sát." in page
    assert "2 phiếu đã lưu được gửi từ ngày 03/03/2026 đến ngày 04/04/2026" in page
    response = post(
        officer,
        "/staff/campaigns/STP-2026/edit",
        {
            "name": "Tên mới",
            "questionnaire": str(_version_id(province)),
            "starts_on": "2026-04-01",
            "ends_on": "2026-12-31",
            "desks": ["HT-STP-02"],
        },
    )
    page = text(response)
    assert response.status_code == 422
    assert "Có 1 phiếu trả lời đã lưu nằm ngoài thời gian mới (01/04/2026 – 31/12/2026)." in page
    assert (
        "Không thể bỏ HT-STP-01 (Quầy Sở Tư pháp tại Trung tâm) khỏi đợt khảo sát: đã có "
        "2 phiếu trả lời tại quầy này." in page
    )
    assert field_value(page, "name") == "Tên mới"
    assert field_value(page, "starts_on") == "2026-04-01"
    with province.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code="STP-2026"))
        assert campaign.name == "Khảo sát HT-STP 2026" and campaign.starts_on.month == 1
    ok = post(
        officer,
        "/staff/campaigns/STP-2026/edit",
        {
            "name": "Tên mới",
            "questionnaire": str(_version_id(province)),
            "starts_on": "2026-03-03",
            "ends_on": "2026-06-30",
            "desks": ["HT-STP-01", "HT-STP-02"],
        },
    )
    assert ok.status_code == 302
    assert "Đã lưu thay đổi của đợt khảo sát." in text(officer.get("/staff/campaigns/STP-2026"))
    assert audit_actions(province, "campaign.") == [("an", "campaign.edit", "STP-2026")]


def test_a_forged_questionnaire_change_after_answers_is_refused(province: Flask) -> None:
    with province.app_context():
        add_answers("STP-2026", "HT-STP-01", dt.datetime(2026, 3, 3, 9))
        from survey_app.services import questionnaires

        other, _ = questionnaires.load_file(ROOT / "questionnaires" / "tt01-quick.yaml")
        db.session.commit()
        other_id = other.id
    admin = signed_in(province, "quantri")
    response = post(
        admin,
        "/staff/campaigns/STP-2026/edit",
        {
            "name": "Khảo sát HT-STP 2026",
            "questionnaire": str(other_id),
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "desks": ["HT-STP-01"],
        },
    )
    assert response.status_code == 422
    assert (
        "Đợt khảo sát đã có 1 phiếu trả lời theo phiếu sipas-2023 phiên bản 2023.1, nên "
        "không thể đổi phiếu khảo sát." in text(response)
    )


def test_an_officer_may_not_change_a_province_campaign_seen_through_own_desk(
    province: Flask,
) -> None:
    officer = signed_in(province, "an")
    page = text(officer.get("/staff/campaigns/SIPAS-2025"))
    assert "Khảo sát SIPAS năm 2025" in page and "Sửa đợt khảo sát" not in page
    assert officer.get("/staff/campaigns/SIPAS-2025/edit").status_code == 403
    assert post(officer, "/staff/campaigns/SIPAS-2025/edit", {"name": "x"}).status_code == 403
    assert "Sửa đợt khảo sát" in text(officer.get("/staff/campaigns/STP-2026"))
    # An agency outside the subtree, also posted into a form, is as if it did not exist.
    assert officer.get("/staff/campaigns/new?agency=HT").status_code == 404
    assert (
        post(
            officer, "/staff/desks/new", {"agency": "HT-SXD", "code": "X-1", "name": "Quầy"}
        ).status_code
        == 404
    )


# --------------------------------------------------------------------------- agencies


def test_an_administrator_adds_an_agency_and_officers_see_their_subtree(
    province: Flask,
) -> None:
    admin = signed_in(province, "quantri")
    added = post(
        admin,
        "/staff/agencies",
        {"code": "HT-STP-PC", "name": "Phòng Công chứng", "kind": "other", "parent": "HT-STP"},
    )
    assert added.status_code == 302
    duplicate = post(
        admin,
        "/staff/agencies",
        {"code": "HT-STP-PC", "name": "Khác", "kind": "other", "parent": ""},
    )
    assert duplicate.status_code == 422
    assert "Mã cơ quan 'HT-STP-PC' đã được dùng." in text(duplicate)
    assert field_value(text(duplicate), "name") == "Khác"
    with province.app_context():
        agency = db.session.scalar(select(Agency).filter_by(code="HT-STP-PC"))
        assert agency.parent.code == "HT-STP" and agency.kind == "other"
    tree = text(signed_in(province, "an").get("/staff/agencies"))
    assert "Phòng Công chứng" in tree and "Sở Tư pháp" in tree
    assert "Sở Xây dựng" not in tree and "Tỉnh Hà Tĩnh" not in tree
    assert audit_actions(province, "agency.") == [("quantri", "agency.create", "HT-STP-PC")]


# --------------------------------------------------------------------------- questionnaires


def _upload(client: FlaskClient, name: str, body: bytes):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/staff/questionnaires")
    return client.post(
        "/staff/questionnaires",
        data={
            "csrf_token": token,
            "file": (io.BytesIO(body), name),
        },
        content_type="multipart/form-data",
    )


def test_questionnaires_are_listed_with_their_answers_in_the_users_scope(
    province: Flask,
) -> None:
    with province.app_context():
        add_answers("STP-2026", "HT-STP-01", dt.datetime(2026, 3, 1))
        add_answers("SXD-2026", "HT-SXD-01", dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 2))
    row = (
        r"<code>sipas-2023</code></td>\s*<td[^>]*><code>2023.1</code></td>.*?"
        r'<td class="num"[^>]*>(\d+)</td>'
    )
    everything = text(signed_in(province, "lan").get("/staff/questionnaires"))
    assert re.search(row, everything, re.S).group(1) == "3"
    own = text(signed_in(province, "xem").get("/staff/questionnaires"))
    assert re.search(row, own, re.S).group(1) == "1" and "trong phạm vi của bạn" in own


def test_an_invalid_upload_lists_every_problem_with_file_and_line_and_stores_nothing(
    province: Flask,
) -> None:
    admin = signed_in(province, "quantri")
    body = SIPAS_2023.read_text(encoding="utf-8").replace('version: "2023.1"', 'version: "2026.1"')
    body = body.replace("schema: 1\n", "schema: 1\nunknown_key: 1\n", 1).replace(
        "{code: 5, label: {vi: Rất hài lòng, en: Very satisfied}}", "{code: 5, label: {vi: Rất}}"
    )
    response = _upload(admin, "sipas-moi.yaml", body.encode())
    page = text(response)
    assert response.status_code == 422
    assert "Tệp sipas-moi.yaml chưa được nạp: 2 lỗi" in page
    problems = re.findall(r"<li>(sipas-moi\.yaml:\d+ [^<]*)</li>", page)
    assert len(problems) == 2 and "unknown_key" in problems[0] and "en" in problems[1]
    not_yaml = _upload(admin, "x.yaml", b"schema: [1\n")
    assert not_yaml.status_code == 422 and "x.yaml:" in text(not_yaml)
    with province.app_context():
        assert db.session.scalar(select(QuestionnaireVersion).filter_by(version="2026.1")) is None
        actions = [
            e.action
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("questionnaire.%"))
            )
            if e.username == "quantri"
        ]
        assert actions == ["questionnaire.rejected", "questionnaire.rejected"]


def test_a_valid_upload_adds_a_version_and_an_unchanged_one_says_so(province: Flask) -> None:
    admin = signed_in(province, "quantri")
    body = SIPAS_2023.read_text(encoding="utf-8").replace('version: "2023.1"', 'version: "2026.1"')
    response = _upload(admin, "sipas-2026.yaml", body.encode())
    assert response.status_code == 302
    page = text(admin.get("/staff/questionnaires"))
    assert "Đã nạp sipas-2023 phiên bản 2026.1 từ tệp sipas-2026.yaml." in page
    again = _upload(admin, "sipas-2026.yaml", body.encode())
    assert again.status_code == 302
    assert "không có gì thay đổi" in text(admin.get("/staff/questionnaires"))
    # The new version is offered to new campaigns.
    assert "sipas-2023 2026.1" in text(admin.get("/staff/campaigns/new?agency=HT"))
    assert audit_actions(province, "questionnaire.") == [
        ("quantri", "questionnaire.loaded", "sipas-2023 2026.1"),
    ]


def test_changing_an_answered_version_is_refused_with_the_reason_and_the_way_out(
    province: Flask,
) -> None:
    with province.app_context():
        add_answers("STP-2026", "HT-STP-01", dt.datetime(2026, 3, 1))
    admin = signed_in(province, "quantri")
    body = SIPAS_2023.read_text(encoding="utf-8").replace("Rất hài lòng", "Rất rất hài lòng")
    response = _upload(admin, "sipas-2023.yaml", body.encode())
    page = text(response)
    assert response.status_code == 409
    assert (
        "sipas-2023 phiên bản 2023.1 đã có 1 phiếu trả lời, nên nội dung của phiên bản "
        "này không bao giờ được thay đổi" in page
    )
    assert "hãy đặt số phiên bản mới" in page and "Không có gì được lưu." in page
    with province.app_context():
        source = db.session.scalar(select(QuestionnaireVersion)).source
        assert "Rất rất hài lòng" not in source


def test_desk_and_campaign_pages_link_to_the_set_up_pages(province: Flask) -> None:
    admin = signed_in(province, "quantri")
    home = text(admin.get("/staff/"))
    for link in (
        "/staff/desks/new",
        "/staff/campaigns/new",
        "/staff/agencies",
        "/staff/questionnaires",
    ):
        assert f'href="{link}"' in home
    desk = text(admin.get("/staff/desks/HT-STP-01"))
    assert 'href="/staff/desks/HT-STP-01/edit"' in desk
    assert 'href="/staff/desks/HT-STP-01/deactivate"' in desk
    assert 'href="/staff/campaigns/STP-2026"' in desk
    assert 'href="/staff/campaigns/STP-2026/edit"' in text(admin.get("/staff/campaigns/STP-2026"))
    with province.app_context():
        assert db.session.scalar(select(Desk).filter_by(code="HT-STP-01")).active


def test_the_desk_page_says_which_questionnaire_its_poster_opens_today_and_until_when(
    province: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from survey_app import localtime

    with province.app_context():
        organisation.add_campaign(
            "STP-2027",
            "Khảo sát 2027",
            "HT-STP",
            "sipas-2023",
            "2023.1",
            dt.date(2027, 1, 1),
            dt.date(2027, 6, 30),
            ["HT-STP-01"],
        )
        db.session.commit()
    admin = signed_in(province, "quantri")
    monkeypatch.setattr(localtime, "today", lambda: dt.date(2026, 6, 1))
    page = text(admin.get("/staff/desks/HT-STP-01"))
    sipas = (
        "Khảo sát mức độ hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan hành "
        "chính nhà nước"
    )
    assert (
        f"Hôm nay áp phích mã QR mở phiếu {sipas} (sipas-2023 2023.1) của đợt STP-2026, đến "
        "hết ngày 31/12/2026." in page
    )
    assert f"Đợt tiếp theo: STP-2027 ({sipas}) từ ngày 01/01/2027." in page
    monkeypatch.setattr(localtime, "today", lambda: dt.date(2027, 7, 1))
    page = text(admin.get("/staff/desks/HT-STP-01"))
    assert "Hôm nay áp phích mã QR chưa mở phiếu nào" in page and "Đợt tiếp theo" not in page


def test_the_campaign_form_refuses_a_campaign_overlapping_another_at_a_desk(
    province: Flask,
) -> None:
    officer = signed_in(province, "an")
    response = post(
        officer,
        "/staff/campaigns/new?agency=HT-STP",
        _campaign_form(_version_id(province), code="TT01", starts_on="2026-12-01"),
    )
    assert response.status_code == 422
    assert (
        "Trùng thời gian với đợt khảo sát STP-2026 (Khảo sát HT-STP 2026, 01/01/2026 – "
        "31/12/2026) tại HT-STP-01 (Quầy Sở Tư pháp tại Trung tâm): cả hai đợt cùng diễn ra "
        "từ ngày 01/12/2026 đến ngày 31/12/2026." in text(response)
    )
    with province.app_context():
        assert db.session.scalar(select(Campaign).filter_by(code="TT01")) is None
