"""The plan pages: editor, delete with confirmation, downloads, per role and per record;
the English staff interface."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Agency, AuditEvent, Campaign, PlanRow
from survey_app.services import plans
from tests.english_support import data_values, vietnamese_left, visible_text
from tests.plan_support import (
    agency,
    answer,
    campaign,
    plan_checked_by_a_weighted_campaign,
    seed_plans,
    sxd_campaign,
    user,
    weight_by_gender,
)
from tests.staff_support import csrf_token, sign_in

STP = "/staff/campaigns/STP-2026"
PROVINCE = "/staff/campaigns/SIPAS-2026"


@pytest.fixture
def seeded(app: Flask) -> Flask:
    with app.app_context():
        seed_plans()
    return app


def _post(client: FlaskClient, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/staff/")})


def _rows(app: Flask, campaign_code: str, agency_code: str) -> dict[str, int]:
    with app.app_context():
        plan = plans.find_plan(campaign(campaign_code), agency(agency_code))
        return {} if plan is None else {r.criterion: r.id for r in plan.rows}


def _province_plan(app: Flask) -> dict[str, int]:
    """The analyst's province plan: II.1 led by Sở Tư pháp, II.2 by Sở Xây dựng."""
    with app.app_context():
        plan = plans.add_rows(
            campaign("SIPAS-2026"), agency("HT"), None, ["II.1", "II.2"], "80", user("analyst")
        )
        rows = {r.criterion: r for r in plan.rows}
        plans.update_row(rows["II.1"], {"lead": "HT-STP"}, user("analyst"))
        plans.update_row(rows["II.2"], {"lead": "HT-SXD"}, user("analyst"))
        db.session.commit()
        return {c: r.id for c, r in rows.items()}


def test_an_officer_plans_from_the_weak_criteria_edits_and_deletes(
    seeded: Flask, client: FlaskClient
) -> None:
    sign_in(client, "stp")
    page = client.get(f"{STP}/plan?period=2026-Q1").get_data(as_text=True)
    assert "Chưa có kế hoạch khắc phục cho phạm vi này." in page
    assert 'name="criteria" value="II.2"' in page and "70,00" in page
    added = _post(
        client,
        f"{STP}/plan/rows",
        {"agency": "HT-STP", "period": "2026-Q1", "criteria": ["II.2", "II.3"], "target": "85"},
    )
    assert added.status_code == 302
    rows = _rows(seeded, "STP-2026", "HT-STP")
    assert set(rows) == {"II.2", "II.3"}
    page = client.get(f"{STP}/plan").get_data(as_text=True)
    assert "Kỳ lập kế hoạch: Quý 1/2026" in page
    assert "Kỳ đánh giá: Quý 2/2026" in page
    assert "Chưa đủ cơ sở kết luận" in page  # 85 % in May, interval about 78-92
    assert "Cách kết luận:" in page and "khoảng tin cậy chứa mục tiêu" in page
    assert 'name="criteria" value="II.2"' not in page  # planned already

    edit = f"{STP}/plan/rows/{rows['II.2']}"
    refused = _post(
        client, edit, {"target": "120", "tasks": "x", "lead": "HT-STP", "status": "todo"}
    )
    assert refused.status_code == 422
    assert "Mục tiêu phải là một số từ 0 đến 100" in refused.get_data(as_text=True)
    refused = _post(
        client, edit, {"target": "80", "notes": "a\x07b", "lead": "HT-STP", "status": "todo"}
    )
    assert refused.status_code == 422
    assert "Ghi chú có ký tự không được phép (U+0007) ở vị trí 2" in refused.get_data(as_text=True)
    saved = _post(
        client,
        edit,
        {
            "target": "80",
            "tasks": "Tập huấn kỹ năng giao tiếp",
            "lead": "HT-STP",
            "cooperating": "Văn phòng Sở",
            "deadline": "2026-06-30",
            "status": "done",
            "notes": "",
        },
    )
    assert saved.status_code == 302
    with seeded.app_context():
        row = db.session.get(PlanRow, rows["II.2"])
        assert row is not None and row.status == "done" and str(row.target) == "80.00"
    page = client.get(f"{STP}/plan").get_data(as_text=True)
    assert "Tập huấn kỹ năng giao tiếp" in page and "Hoàn thành" in page

    confirm = client.get(f"{edit}/delete").get_data(as_text=True)
    assert "Xóa dòng “II.2 Công chức” khỏi kế hoạch?" in confirm
    assert _post(client, f"{edit}/delete", {}).status_code == 302
    assert set(_rows(seeded, "STP-2026", "HT-STP")) == {"II.3"}
    with seeded.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("plan.row.add") == 2 and "plan.create" in actions
    assert "plan.row.edit" in actions and "plan.row.delete" in actions


def test_officer_cannot_see_or_change_another_agencys_plan(
    seeded: Flask, client: FlaskClient
) -> None:
    rows = _province_plan(seeded)
    sign_in(client, "sxd")
    assert (
        _post(client, "/staff/campaigns/SXD-2026/plan/rows", {"criteria": "II.1"}).status_code
        == 302
    )
    sxd_row = _rows(seeded, "SXD-2026", "HT-SXD")["II.1"]
    sign_in(client, "stp")
    assert client.get("/staff/campaigns/SXD-2026/plan").status_code == 404
    assert client.get("/staff/campaigns/SXD-2026/plan.docx").status_code == 404
    assert client.get(f"{PROVINCE}/plan?agency=HT-SXD").status_code == 404
    assert client.get(f"{PROVINCE}/plan?agency=HT").status_code == 404
    assert client.get(f"{PROVINCE}/plan.xlsx?agency=HT").status_code == 404
    # The province plan's rows, whoever leads them, are not the STP officer's to touch.
    for row_id in rows.values():
        assert client.get(f"{PROVINCE}/plan/rows/{row_id}").status_code == 404
        assert (
            _post(client, f"{PROVINCE}/plan/rows/{row_id}", {"status": "done"}).status_code == 404
        )
        assert _post(client, f"{PROVINCE}/plan/rows/{row_id}/delete", {}).status_code == 404
    assert (
        _post(
            client, f"/staff/campaigns/SXD-2026/plan/rows/{sxd_row}", {"status": "done"}
        ).status_code
        == 404
    )
    assert (
        _post(client, f"{PROVINCE}/plan/rows", {"agency": "HT", "criteria": "II.3"}).status_code
        == 404
    )
    # In the province campaign the officer's own scope is Sở Tư pháp.
    page = client.get(f"{PROVINCE}/plan").get_data(as_text=True)
    assert "Kế hoạch khắc phục: Sở Tư pháp" in page
    # The province officer edits both rows; the analyst too.
    sign_in(client, "tinh")
    assert (
        _post(
            client, f"{PROVINCE}/plan/rows/{rows['II.2']}", {"status": "doing", "lead": "HT-SXD"}
        ).status_code
        == 302
    )
    with seeded.app_context():
        row = db.session.get(PlanRow, rows["II.2"])
        assert row is not None and row.status == "doing"


def test_a_viewer_reads_the_plan_and_its_files_only(seeded: Flask, client: FlaskClient) -> None:
    sign_in(client, "stp")
    _post(
        client,
        f"{STP}/plan/rows",
        {"agency": "HT-STP", "period": "2026-Q1", "criteria": "II.2", "target": "75"},
    )
    row_id = _rows(seeded, "STP-2026", "HT-STP")["II.2"]
    sign_in(client, "viewer")
    page = client.get(f"{STP}/plan").get_data(as_text=True)
    assert "II.2" in page and "Đạt" in page
    assert f"/plan/rows/{row_id}" not in page and 'name="criteria"' not in page
    assert client.get(f"{STP}/plan/rows/{row_id}").status_code == 403
    assert _post(client, f"{STP}/plan/rows/{row_id}", {"status": "done"}).status_code == 403
    assert _post(client, f"{STP}/plan/rows/{row_id}/delete", {}).status_code == 403
    assert _post(client, f"{STP}/plan/rows", {"criteria": "II.3"}).status_code == 403
    docx = client.get(f"{STP}/plan.docx")
    assert docx.status_code == 200
    assert "attachment" in docx.headers["Content-Disposition"]
    table = Document(io.BytesIO(docx.data)).tables[1]
    assert table.rows[2].cells[1].text.startswith("Tiêu chí II.2. Công chức")
    xlsx = client.get(f"{STP}/plan.xlsx")
    assert load_workbook(io.BytesIO(xlsx.data))["Kế hoạch"].cell(2, 3).value == "II.2"
    with seeded.app_context():
        events = db.session.scalars(select(AuditEvent).filter_by(action="export.plan")).all()
        assert [(e.username, e.detail["format"]) for e in events] == [
            ("viewer", "docx"),
            ("viewer", "xlsx"),
        ]
    assert client.get("/staff/campaigns/SXD-2026/plan.docx").status_code == 404


def test_anonymous_users_are_sent_to_the_login(seeded: Flask, client: FlaskClient) -> None:
    for path in (f"{STP}/plan", f"{STP}/plan.docx", f"{STP}/plan/rows/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_the_dashboard_links_to_the_plan(seeded: Flask, client: FlaskClient) -> None:
    sign_in(client, "stp")
    page = client.get(f"{STP}/dashboard?period=2026-Q1").get_data(as_text=True)
    assert f'href="{STP}/plan?period=2026-Q1"' in page


def test_the_plan_pages_read_english(seeded: Flask, client: FlaskClient) -> None:
    sign_in(client, "stp")
    _post(
        client,
        f"{STP}/plan/rows",
        {"agency": "HT-STP", "period": "2026-Q1", "criteria": ["II.1", "II.2", "II.3"]},
    )
    rows = _rows(seeded, "STP-2026", "HT-STP")
    _post(
        client,
        f"{STP}/plan/rows/{rows['II.2']}",
        {"target": "95", "lead": "HT-STP", "status": "doing", "tasks": "Tập huấn"},
    )
    _post(
        client,
        f"{STP}/plan/rows/{rows['II.1']}",
        {"target": "75", "lead": "HT-STP", "status": "todo"},
    )
    _post(
        client,
        f"{STP}/plan/rows/{rows['II.3']}",
        {"target": "85", "lead": "HT-STP", "status": "done"},
    )
    assert _post(client, "/staff/language/en", {}).status_code == 302
    with seeded.app_context():
        values = data_values() + ["Tập huấn"]
        values += [n for n in db.session.scalars(select(Agency.name))]
        values += [n for n in db.session.scalars(select(Campaign.name))]
    for path in (
        f"{STP}/plan",
        f"{STP}/plan/rows/{rows['II.2']}",
        f"{STP}/plan/rows/{rows['II.2']}/delete",
        f"{STP}/plan?agency=HT-STP&period=2026-Q1",
    ):
        page = client.get(path).get_data(as_text=True)
        assert vietnamese_left(visible_text(page), values) == [], path
    page = client.get(f"{STP}/plan").get_data(as_text=True)
    assert "Remediation plan" in page and "Not reached" in page and "Inconclusive" in page
    refused = _post(
        client,
        f"{STP}/plan/rows/{rows['II.2']}",
        {"target": "abc", "lead": "HT-STP", "status": "todo"},
    )
    assert "The target must be a number from 0 to 100" in refused.get_data(as_text=True)
    # The files stay Vietnamese, the province's records.
    table = Document(io.BytesIO(client.get(f"{STP}/plan.docx").data)).tables[1]
    assert table.rows[0].cells[2].text == "Mục tiêu"


def test_the_page_names_the_next_campaign_it_checks_against(
    seeded: Flask, client: FlaskClient
) -> None:
    import datetime as dt

    from survey_app.services import organisation
    from survey_app.services.analysis import clear_caches
    from tests.plan_support import answer

    sign_in(client, "sxd")
    _post(client, "/staff/campaigns/SXD-2026/plan/rows", {"criteria": "II.2", "target": "90"})
    page = client.get("/staff/campaigns/SXD-2026/plan").get_data(as_text=True)
    assert "Chưa có số liệu của kỳ sau" in page
    with seeded.app_context():
        organisation.add_campaign(
            "SXD-2027", "Khảo sát Sở Xây dựng 2027", "HT-SXD", "sipas-2023", "2023.1",
            dt.date(2027, 1, 1), dt.date(2027, 12, 31), ["HT-SXD-01"],
        )  # fmt: skip
        db.session.commit()
        answer("SXD-2027", "HT-SXD-01", dt.date(2027, 2, 1), 20, 20)
    clear_caches()
    page = client.get("/staff/campaigns/SXD-2026/plan").get_data(as_text=True)
    assert "Kỳ đánh giá: Khảo sát Sở Xây dựng 2027 (toàn đợt khảo sát) (40 phiếu" in page
    assert "Chưa đạt" in page  # 50 % of 40: the interval lies below 90 %


def _check_section(client: FlaskClient, path: str) -> str:
    """The page's section "Kết quả thực hiện" (the verification)."""
    page = client.get(path).get_data(as_text=True)
    start = page.index('id="check-h"')
    return page[start : page.index("</section>", start)]


def test_the_page_says_the_plan_period_is_computed_with_the_follow_ups_weighting(
    seeded: Flask, client: FlaskClient
) -> None:
    """SXD-2026 (unweighted, 60 %) checked against the post-stratified SXD-2027: by default
    SXD-2026 is post-stratified too (80 %, see tests.plan_support), and the page says so;
    ?compare=own shows it unweighted, as planned, and says the two are computed apart."""
    with seeded.app_context():
        plan_checked_by_a_weighted_campaign()
    sign_in(client, "sxd")
    path = "/staff/campaigns/SXD-2026/plan"
    check = _check_section(client, path)
    assert "kỳ lập kế hoạch: Trọng số: không (mỗi phiếu như nhau)" in check
    assert "kỳ đánh giá: Trọng số: hậu phân tầng theo giới tính" in check
    assert "kỳ lập kế hoạch được tính lại với cài đặt của kỳ đánh giá" in check
    assert "60,00" not in check and "80,00<br>" in check
    assert "compare=own" in check and "Xem kỳ lập kế hoạch với cài đặt riêng của nó" in check

    check = _check_section(client, f"{path}?compare=own")
    assert "Kỳ lập kế hoạch được tính với cài đặt riêng của nó" in check
    assert "Không áp dụng được" not in check
    assert "60,00<br>" in check and "So sánh cùng một cách tính" in check

    assert _post(client, "/staff/language/en", {}).status_code == 302
    with seeded.app_context():
        values = data_values()
    for own in ("", "?compare=own"):
        page = client.get(f"{path}{own}").get_data(as_text=True)
        assert vietnamese_left(visible_text(page), values) == [], own
    assert "computed again with the follow-up period's settings" in _check_section(client, path)


def test_the_page_says_when_the_follow_ups_weighting_cannot_be_applied(
    seeded: Flask, client: FlaskClient
) -> None:
    """SXD-2027 has men only: SXD-2028's post-stratification by gender cannot weigh it, so
    it keeps its own settings and the page says why, with no switch."""
    with seeded.app_context():
        sxd_campaign("SXD-2027", 2027)
        answer("SXD-2027", "HT-SXD-01", dt.date(2027, 3, 1), 40, 0)
        plans.add_rows(campaign("SXD-2027"), agency("HT-SXD"), "all", ["II.2"], "80", user("sxd"))
        db.session.commit()
        sxd_campaign("SXD-2028", 2028)
        answer("SXD-2028", "HT-SXD-01", dt.date(2028, 3, 1), 30, 20)
        weight_by_gender("SXD-2028")
    sign_in(client, "sxd")
    check = _check_section(client, "/staff/campaigns/SXD-2027/plan")
    assert "Không áp dụng được cài đặt của kỳ đánh giá cho số liệu của kỳ lập kế hoạch." in check
    assert "Kỳ lập kế hoạch được tính với cài đặt riêng của nó" in check
    assert "compare=" not in check
