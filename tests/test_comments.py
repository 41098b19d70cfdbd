"""The comments page: filters, the handled mark (audited), access, privacy and exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import AuditEvent, CommentReview, Desk, Submission
from survey_app.services.questionnaires import definition
from survey_app.services.report.comments import mask
from survey_app.services.submissions import record_submission, validate_answers
from tests.dashboard_setup import campaign, login, province
from tests.staff_support import csrf_token

URL = "/staff/campaigns/SIPAS-2026/comments"
# Respondent A at desk STP-01 (Sở Tư pháp): II.2.1 scored 1, a comment naming a person,
# the desk, a time and a phone number.
TEXT_A = "Chị Lan ở quầy STP-01 lúc 9h30 xử lý chậm, gọi 0912 345 678"
TEXT_B = "=SUM(1,2) bấm vào đây HYPERLINK"  # at SXD-01 (Sở Xây dựng), all 4
TEXT_C = "Mẫu tờ khai khó hiểu ZZMARK"  # at STP-02, II.2.2 "no opinion" (9), others 4
AT_A = dt.datetime(2026, 3, 2, 9, 31)


def _submit(desk_code: str, at: dt.datetime, comment: str, **scores: str) -> str:
    sipas = campaign("SIPAS-2026")
    q = definition(sipas.questionnaire_version)
    raw = {i.code: "4" for i in q.items if i.required and i.show_if is None}
    raw["II.4.0"] = "2"
    raw |= scores
    raw["comment"] = comment
    uid = str(uuid.uuid4())
    record_submission(
        db.session.connection(),
        uid=uid,
        campaign=sipas,
        desk=db.session.scalars(select(Desk).filter_by(code=desk_code)).one(),
        route="desk_qr",
        answers=validate_answers(q, raw),
        language="vi",
        submitted_at=localtime.to_utc(at),
    )
    db.session.commit()
    return uid


@pytest.fixture
def uids(app: Flask) -> dict[str, str]:
    province(app, 60)
    with app.app_context():
        return {
            "A": _submit("STP-01", AT_A, TEXT_A, **{"II.2.1": "1"}),
            "B": _submit("SXD-01", dt.datetime(2026, 3, 3, 10, 0), TEXT_B),
            "C": _submit("STP-02", dt.datetime(2026, 3, 4, 14, 5), TEXT_C, **{"II.2.2": "9"}),
        }


def _token(client: FlaskClient) -> str:
    return csrf_token(client, URL)  # the page's logout form has one for every role


def _mark(client: FlaskClient, uid: str, handled: str, note: str) -> int:
    data = {"csrf_token": _token(client), "handled": handled, "note": note, "q": "cham"}
    return client.post(f"{URL}/{uid}/handled", data=data).status_code


def _count(page: str) -> int:
    match = re.search(r"(\d+) góp ý", page)
    assert match
    return int(match.group(1))


def test_criterion_filter_keeps_respondents_who_scored_an_item_at_most_n(
    app: Flask, client: FlaskClient, uids: dict[str, str]
) -> None:
    with app.app_context():
        q = definition(campaign("SIPAS-2026").questionnaire_version)
        items = [n.item for n in q.index.walk() if n.code.startswith("II.2.") and n.is_leaf]
        # Independently of the app's loader: the stored documents, valid codes 1-5 only.
        want = 0
        for answers in db.session.scalars(select(Submission.answers)):
            low = any(answers.get(code) in (1, 2) for code in items)
            want += bool(low and str(answers.get("comment") or "").strip())
    login(client, "admin")
    page = client.get(f"{URL}?criterion=II.2&max_score=2").text
    assert _count(page) == want
    assert "gọi […]" in page  # A: the phone masked for every role
    assert "ZZMARK" not in page  # C: "no opinion" is not a low score
    assert "HYPERLINK" not in page  # B: scored 4 everywhere
    assert "ít nhất một câu hỏi" in page  # the rule, written on the page


def test_desk_search_and_handled_filters(client: FlaskClient, uids: dict[str, str]) -> None:
    login(client, "admin")
    for q in ("CHẬM", "cham", "Chậm"):  # case and diacritics ignored
        page = client.get(f"{URL}?q={q}").text
        assert "xử lý chậm" in page
    page = client.get(f"{URL}?desk=STP-02&q=zzmark").text
    assert _count(page) == 1 and "ZZMARK" in page
    assert _count(client.get(f"{URL}?desk=STP-01&q=zzmark").text) == 0
    assert _mark(client, uids["A"], "yes", "Đã gọi lại cho người dân") == 303
    handled = client.get(f"{URL}?handled=yes").text
    assert _count(handled) == 1 and "xử lý chậm" in handled
    assert "Đã gọi lại cho người dân" in handled
    assert "xử lý chậm" not in client.get(f"{URL}?handled=no&q=cham").text


def test_marking_is_stored_audited_and_can_be_undone(
    app: Flask, client: FlaskClient, uids: dict[str, str]
) -> None:
    login(client, "stp")  # an officer of Sở Tư pháp: A is theirs
    assert _mark(client, uids["A"], "yes", "Đã nhắc nhở quầy") == 303
    assert _mark(client, uids["A"], "no", "Nhầm góp ý") == 303
    with app.app_context():
        review = db.session.scalars(select(CommentReview)).one()
        assert (review.handled, review.note, review.user.username) == (False, "Nhầm góp ý", "stp")
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("comment.%")).order_by(AuditEvent.id)
        ).all()
    assert [(e.action, e.target, e.detail["note"], e.username) for e in events] == [
        ("comment.handled", "SIPAS-2026", "Đã nhắc nhở quầy", "stp"),
        ("comment.unhandled", "SIPAS-2026", "Nhầm góp ý", "stp"),
    ]


def test_a_note_is_required_and_nothing_is_stored_without_one(
    app: Flask, client: FlaskClient, uids: dict[str, str]
) -> None:
    login(client, "analyst")
    response = client.post(
        f"{URL}/{uids['A']}/handled",
        data={"csrf_token": _token(client), "handled": "yes", "note": "  "},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Vui lòng ghi chú đã làm gì" in response.text
    with app.app_context():
        assert db.session.scalars(select(CommentReview)).all() == []
        assert not db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("comment.%"))
        ).all()


def test_marking_outside_scope_is_404_and_viewers_cannot_mark(
    app: Flask, client: FlaskClient, uids: dict[str, str]
) -> None:
    login(client, "stp")
    assert _mark(client, uids["B"], "yes", "Không phải của tôi") == 404  # Sở Xây dựng's
    assert _mark(client, str(uuid.uuid4()), "yes", "Không có") == 404
    page = client.get(URL).text
    assert "HYPERLINK" not in page  # another agency's comment is not listed
    client.get("/staff/logout")
    login(client, "viewer")
    assert "ZZMARK" in client.get(URL).text  # viewers read
    assert "Đánh dấu đã xử lý" not in client.get(URL).text
    assert _mark(client, uids["A"], "yes", "Xem thôi") == 403
    with app.app_context():
        assert db.session.scalars(select(CommentReview)).all() == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("criterion=ZZ.9&max_score=2", "Bộ câu hỏi không có tiêu chí mã “ZZ.9”"),
        ("criterion=II.2&max_score=abc", "Điểm tối đa “abc” không có trên thang"),
        ("criterion=II.2&max_score=7", "chọn một trong: 1, 2, 3, 4, 5"),
        ("criterion=II.2", "vui lòng chọn điểm tối đa"),
        ("max_score=2", "Điểm tối đa chỉ dùng cùng một tiêu chí"),
        ("handled=maybe", "Trạng thái xử lý “maybe” không hợp lệ"),
        ("period=2030-Q1", "Kỳ “2030-Q1” không có trong đợt khảo sát"),
        ("desk=NOPE", "Không có quầy mã “NOPE”"),
        ("agency=NOPE", "Không có cơ quan mã “NOPE”"),
        ("q=" + "x" * 201, "Nội dung tìm kiếm dài quá 200 ký tự"),
    ],
)
def test_bad_filters_get_a_vietnamese_message(
    client: FlaskClient, uids: dict[str, str], query: str, message: str
) -> None:
    login(client, "admin")
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert message in response.text
    export = client.get(f"{URL.replace('/comments', '/comments.csv')}?{query}")
    assert export.status_code == 400
    assert message in export.text


def test_agency_filter_keeps_its_subtrees_comments_on_the_page_the_file_and_the_dashboard(
    client: FlaskClient, uids: dict[str, str]
) -> None:
    login(client, "admin")
    page = client.get(f"{URL}?agency=HT-SXD&q=hyperlink").text
    assert _count(page) == 1 and "HYPERLINK" in page
    assert _count(client.get(f"{URL}?agency=HT-SXD&q=zzmark").text) == 0
    assert _count(client.get(f"{URL}?agency=HT&q=zzmark").text) == 1  # the province's subtree
    export = client.get(f"{URL}.csv?agency=HT-SXD&q=zzmark").data.decode("utf-8-sig")
    assert "ZZMARK" not in export
    assert "HYPERLINK" in client.get(f"{URL}.csv?agency=HT-SXD").data.decode("utf-8-sig")
    # The dashboard's comments section follows its agency filter, and links to the page
    # with the filter kept.
    dashboard = client.get("/staff/campaigns/SIPAS-2026/dashboard?period=2026-03&agency=HT-STP")
    assert dashboard.status_code == 200
    assert "ZZMARK" in dashboard.text and "HYPERLINK" not in dashboard.text
    assert "comments?period=2026-03&amp;agency=HT-STP" in dashboard.text


def test_an_officer_cannot_filter_by_another_agency(
    client: FlaskClient, uids: dict[str, str]
) -> None:
    login(client, "stp")
    response = client.get(f"{URL}?agency=HT-SXD")
    assert response.status_code == 400
    assert "Không có cơ quan mã “HT-SXD”" in response.text


def test_an_officer_cannot_filter_by_another_agencys_desk(
    client: FlaskClient, uids: dict[str, str]
) -> None:
    login(client, "stp")
    response = client.get(f"{URL}?desk=SXD-01")
    assert response.status_code == 400
    assert "Không có quầy mã “SXD-01”" in response.text


def test_officer_sees_the_date_never_the_time_beside_the_desk(
    client: FlaskClient, uids: dict[str, str]
) -> None:
    login(client, "stp")
    page = client.get(f"{URL}?q=xu ly cham").text
    item = page[page.index(f'id="c-{uids["A"]}"') :].split("</li>")[0]
    assert "02/03/2026" in item and "Quầy STP-01" in item
    assert "09:31" not in page and "9h30" not in page and "0912" not in page
    assert "Chị […] ở […] lúc […] xử lý chậm, gọi […]" in item  # masked as the report masks
    dashboard = client.get("/staff/campaigns/SIPAS-2026/dashboard").text
    section = dashboard[dashboard.index("Góp ý của người dân") :]
    assert not re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", section)
    assert "Chỉ hiện ngày, không hiện giờ" in section


def test_admin_sees_date_time_and_desk_with_the_person_masked(
    client: FlaskClient, uids: dict[str, str]
) -> None:
    login(client, "admin")
    page = client.get(f"{URL}?q=xu ly cham").text
    item = page[page.index(f'id="c-{uids["A"]}"') :].split("</li>")[0]
    assert "02/03/2026 09:31 · Quầy STP-01" in item
    assert "quầy STP-01 lúc 9h30" in item and "Chị […]" in item and "0912" not in item


def _csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))


def test_officer_export_has_no_time_column_and_masked_texts(
    app: Flask, client: FlaskClient, uids: dict[str, str]
) -> None:
    login(client, "stp")
    response = client.get(f"{URL.replace('/comments', '/comments.csv')}?criterion=II.2&max_score=1")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8-sig")
    assert "# Riêng tư: Cán bộ cơ quan và người xem chỉ thấy ngày, không thấy giờ" in text
    assert "09:31" not in text and "9h30" not in text
    rows = _csv_rows(response.data)
    assert rows[0][:3] == ["Ngày", "Mã quầy", "Quầy"]
    found = [r for r in rows[1:] if "xử lý chậm" in r[4]]
    assert found and found[0][:2] == ["02/03/2026", "STP-01"]
    assert all(r[1].startswith("STP-") for r in rows[1:])  # own agency only
    book = load_workbook(
        io.BytesIO(client.get(f"{URL.replace('/comments', '/comments.xlsx')}").data)
    )
    sheet = book["Góp ý"]
    assert [c.value for c in sheet[1]][:2] == ["Ngày", "Mã quầy"]
    assert all(
        isinstance(c.value, dt.datetime) and c.value.time() == dt.time() for c in sheet["A"][1:]
    )
    assert sheet["A2"].number_format == "DD/MM/YYYY"
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export.comments")
        ).all()
    assert [(e.detail["format"], e.detail["filters"]) for e in events] == [
        ("csv", {"criterion": "II.2", "max_score": "1"}),
        ("xlsx", {}),
    ]


def test_admin_export_has_the_time_and_neutralises_formulas(
    client: FlaskClient, uids: dict[str, str]
) -> None:
    login(client, "admin")
    rows = _csv_rows(client.get(URL.replace("/comments", "/comments.csv")).data)
    assert rows[0][:3] == ["Ngày", "Giờ (giờ Việt Nam)", "Mã quầy"]
    a = next(r for r in rows if "xử lý chậm" in r[5])
    assert a[:3] == ["02/03/2026", "09:31", "STP-01"]
    b = next(r for r in rows if "HYPERLINK" in r[5])
    assert b[5] == "'" + TEXT_B  # shown as text by a spreadsheet, never run
    book = load_workbook(io.BytesIO(client.get(URL.replace("/comments", "/comments.xlsx")).data))
    sheet = book["Góp ý"]
    cell = next(c for c in sheet["F"] if c.value == TEXT_B)
    assert cell.data_type == "s" and cell.quotePrefix
    assert sheet.cell(cell.row, 1).value == dt.datetime(2026, 3, 3)


def test_pages_keep_the_filters(client: FlaskClient, uids: dict[str, str]) -> None:
    login(client, "admin")
    first = client.get(f"{URL}?handled=no").text
    if "Trang sau" in first:
        assert "handled=no" in first[first.index('aria-label="Trang góp ý"') :]
    last = client.get(f"{URL}?handled=no&page=999")
    assert last.status_code == 200


def test_masking_for_admins_keeps_desk_and_moment_but_not_the_person() -> None:
    text = "Chị Lan ở quầy 3 lúc 9h30 ngày 12/3, gọi 0912345678, email a@b.vn, Quầy STP-01"
    desks = ["STP-01", "Quầy STP-01"]
    assert mask(text, desks, moments=False, limit=None) == (
        "Chị […] ở quầy 3 lúc 9h30 ngày 12/3, gọi […], email […], Quầy STP-01"
    )
    assert mask(text, desks, limit=None) == (
        "Chị […] ở quầy […] lúc […] ngày […], gọi […], email […], […]"
    )
    assert mask("x" * 500, limit=None) == "x" * 500  # the page shows the whole text
