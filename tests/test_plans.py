"""Remediation plans: rows from the weak criteria, validation, who may change what, the
audit, the verification at the next period and the DOCX / XLSX files read back."""

from __future__ import annotations

import datetime as dt
import io
import math
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, PlanRow, RemediationPlan
from survey_app.services import organisation, plans
from survey_app.services.analysis import clear_caches, find_period
from tests.plan_support import (
    CRITERIA,
    agency,
    answer,
    campaign,
    plan_checked_by_a_weighted_campaign,
    seed_plans,
    sxd_campaign,
    user,
    weight_by_gender,
)

SEED_COLUMNS = [
    "TT",
    "Lĩnh vực/Tiêu chí/Tiêu chí thành phần",
    "Mục tiêu",
    "Nhiệm vụ, giải pháp",
    "Đơn vị chủ trì thực hiện",
    "Cơ quan phối hợp thực hiện",
    "Thời gian thực hiện",
]


@pytest.fixture
def seeded(app: Flask) -> Flask:
    with app.app_context():
        seed_plans()
    return app


def _q1_plan(targets: tuple[str, ...] = ("75", "95", "85")) -> RemediationPlan:
    """STP's plan from the first quarter (70 % satisfied, n = 100) with a target per row."""
    plan = plans.add_rows(
        campaign("STP-2026"), agency("HT-STP"), "2026-Q1", list(CRITERIA), "", user("stp")
    )
    for row, target in zip(sorted(plan.rows, key=lambda r: r.criterion), targets, strict=True):
        plans.update_row(row, {"target": target}, user("stp"))
    db.session.commit()
    return plan


def _row(plan: RemediationPlan, criterion: str) -> PlanRow:
    return next(r for r in plan.rows if r.criterion == criterion)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(action=action)))


# ------------------------------------------------------------------ rows and validation
def test_rows_start_from_the_criteria_index_interval_and_n(seeded: Flask) -> None:
    with seeded.app_context():
        plan = _q1_plan()
        row = _row(plan, "II.2")
        # 70 of 100 answered "hài lòng" to every item of the criterion in the first quarter.
        assert row.baseline_estimate == pytest.approx(0.70)
        assert row.baseline_n == 100
        assert row.baseline_ci_low < 0.70 < row.baseline_ci_high
        assert row.group_code == "II"
        assert row.lead_agency.code == "HT-STP"
        assert plan.period == "2026-Q1"
        assert row.target == Decimal("95.00")
        assert plans.documents.gap(row) == pytest.approx(25.0)


def test_candidates_are_the_scopes_criteria_weakest_first(seeded: Flask) -> None:
    with seeded.app_context():
        c = campaign("SXD-2026")
        period = find_period(c, "2026-Q1")
        assert period is not None
        found = plans.candidates(c, agency("HT-SXD"), period)
        estimates = [n.estimate for n in found if math.isfinite(n.estimate)]
        assert estimates == sorted(estimates)
        assert estimates[0] == pytest.approx(0.60)


def test_a_criterion_is_planned_once_and_must_exist(seeded: Flask) -> None:
    with seeded.app_context():
        _q1_plan()
        with pytest.raises(plans.PlanError) as refused:
            plans.add_rows(
                campaign("STP-2026"), agency("HT-STP"), None, ["II.2", "II.9", "II.2.1"], "",
                user("stp"),
            )  # fmt: skip
        assert [p.code for p in refused.value.problems] == [
            "plan.criterion_present",
            "plan.criterion_unknown",
            "plan.criterion_unknown",
        ]
        assert "Tiêu chí II.2 đã có trong kế hoạch." in str(refused.value)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"target": "101"}, "plan.target_invalid"),
        ({"target": "-1"}, "plan.target_invalid"),
        ({"target": "85,123"}, "plan.target_invalid"),
        ({"target": "tám mươi"}, "plan.target_invalid"),
        ({"deadline": "31/02/2027"}, "plan.deadline_invalid"),
        ({"deadline": "ngày mai"}, "plan.deadline_invalid"),
        ({"lead": "KHONG-CO"}, "plan.lead_unknown"),
        ({"lead": "HT-SXD"}, "plan.lead_outside_scope"),
        ({"lead": ""}, "plan.lead_missing"),
        ({"status": "xong"}, "plan.status_invalid"),
        ({"tasks": "x" * 4001}, "plan.text_too_long"),
        ({"notes": "ghi \x1b chú"}, "text.refused_in"),
        ({"cooperating": "Văn phòng\u202e Sở"}, "text.refused_in"),
    ],
)
def test_refused_fields_change_nothing_and_say_why(
    seeded: Flask, fields: dict[str, str], code: str
) -> None:
    with seeded.app_context():
        plan = _q1_plan()
        row = _row(plan, "II.1")
        before = (row.target, row.deadline, row.lead_agency_id, row.status, row.tasks, row.notes)
        with pytest.raises(plans.PlanError) as refused:
            plans.update_row(row, {**fields, "tasks": fields.get("tasks", "mới")}, user("stp"))
        assert code in [p.code for p in refused.value.problems]
        message = str(refused.value)
        assert message and "plan." not in message  # worded, in Vietnamese
        db.session.rollback()
        row = db.session.get(PlanRow, row.id)
        assert (
            row.target,
            row.deadline,
            row.lead_agency_id,
            row.status,
            row.tasks,
            row.notes,
        ) == before


def test_a_valid_edit_is_stored_and_audited_with_old_and_new(seeded: Flask) -> None:
    with seeded.app_context():
        plan = _q1_plan()
        row = _row(plan, "II.1")
        changes = plans.update_row(
            row,
            {
                "target": "80,5",
                "tasks": "Tập huấn kỹ năng giao tiếp\r\nNiêm yết thủ tục",
                "cooperating": "Văn phòng Sở",
                "deadline": "30/09/2026",
                "status": "doing",
                "notes": "",
                "lead": "HT-STP",
            },
            user("stp"),
        )
        db.session.commit()
        assert row.target == Decimal("80.50")
        assert row.tasks == "Tập huấn kỹ năng giao tiếp\nNiêm yết thủ tục"
        assert row.deadline == dt.date(2026, 9, 30)
        assert set(changes) == {"target", "tasks", "cooperating", "deadline", "status"}
        event = _events("plan.row.edit")[-1]
        assert event.username == "stp"
        assert event.detail["criterion"] == "II.1"
        assert event.detail["changes"]["status"] == ["todo", "doing"]
        assert event.detail["changes"]["deadline"] == [None, "2026-09-30"]
        assert event.detail["changes"]["target"] == ["75.00", "80.5"]
        assert [e.detail["criterion"] for e in _events("plan.row.add")] == list(CRITERIA)
        assert len(_events("plan.create")) == 1
        plans.delete_row(row, user("stp"))
        db.session.commit()
        assert _events("plan.row.delete")[-1].detail["criterion"] == "II.1"
        assert db.session.get(PlanRow, row.id) is None


# ------------------------------------------------------------------ who may
def test_officers_change_only_rows_led_within_their_subtree(seeded: Flask) -> None:
    with seeded.app_context():
        province = plans.add_rows(
            campaign("SIPAS-2026"), agency("HT"), None, ["II.1", "II.2"], "80", user("analyst")
        )
        # The analyst hands II.2 to Sở Xây dựng; the province officer may, the STP one not.
        plans.update_row(_row(province, "II.2"), {"lead": "HT-SXD"}, user("analyst"))
        plans.update_row(_row(province, "II.1"), {"lead": "HT-STP"}, user("tinh"))
        db.session.commit()
        with pytest.raises(plans.PlanForbidden):
            plans.update_row(_row(province, "II.2"), {"status": "done"}, user("stp"))
        with pytest.raises(plans.PlanForbidden):
            plans.delete_row(_row(province, "II.2"), user("stp"))
        plans.update_row(_row(province, "II.1"), {"status": "doing"}, user("stp"))
        with pytest.raises(plans.PlanError) as refused:
            plans.update_row(_row(province, "II.1"), {"lead": "HT-SXD"}, user("stp"))
        assert refused.value.problem.code == "plan.lead_not_yours"
        with pytest.raises(plans.PlanForbidden):
            plans.update_row(_row(province, "II.1"), {"status": "done"}, user("viewer"))
        with pytest.raises(plans.PlanForbidden):
            plans.add_rows(campaign("SXD-2026"), agency("HT-SXD"), None, ["II.1"], "", user("stp"))
        assert not plans.can_see_plan(user("stp"), agency("HT-SXD"))
        assert not plans.can_see_plan(user("stp"), agency("HT"))
        assert plans.can_see_plan(user("viewer"), agency("HT-STP"))


# ------------------------------------------------------------------ verification
def test_verdict_rule_on_the_interval() -> None:
    assert plans.verdict(0.78, 0.92, 0.75) == plans.REACHED
    assert plans.verdict(0.75, 0.92, 0.75) == plans.REACHED  # the bound on the target
    assert plans.verdict(0.78, 0.92, 0.95) == plans.NOT_REACHED
    assert plans.verdict(0.78, 0.92, 0.92) == plans.INCONCLUSIVE
    assert plans.verdict(0.78, 0.92, 0.85) == plans.INCONCLUSIVE
    assert plans.verdict(math.nan, math.nan, 0.85) is None


def test_next_quarter_checks_each_target_with_the_dashboards_test(seeded: Flask) -> None:
    with seeded.app_context():
        plan = _q1_plan(("75", "95", "85"))
        follow, checks = plans.verify(plan)
        assert follow is not None and follow.same_campaign
        assert follow.period.code == "2026-Q2"
        by = {c.row.criterion: c for c in checks}
        # 85 of 100 satisfied in May: the interval is about 78-92 %.
        now = by["II.1"].current
        assert now is not None and now.estimate == pytest.approx(0.85)
        assert now.ci_low > 0.75 and now.ci_high < 0.95
        assert [by[c].verdict for c in CRITERIA] == [
            plans.REACHED,
            plans.NOT_REACHED,
            plans.INCONCLUSIVE,
        ]
        # The change 70 % -> 85 %, tested as the dashboard does: d / sqrt(se1^2 + se2^2).
        check = by["II.2"]
        assert check.test is not None and check.baseline is not None and check.interval
        se = math.hypot(now.se, check.baseline.se)
        assert check.test.difference == pytest.approx(0.15)
        assert check.test.se == pytest.approx(se)
        assert check.test.significant()
        low, high = check.interval
        assert low < 0.15 < high and high - low == pytest.approx(2 * 1.97 * se, rel=0.01)


def test_the_next_campaign_checks_a_whole_campaign_plan(seeded: Flask) -> None:
    with seeded.app_context():
        plan = plans.add_rows(
            campaign("SXD-2026"), agency("HT-SXD"), "all", ["II.2"], "80", user("sxd")
        )
        db.session.commit()
        assert plans.verify(plan) == (None, [])
        organisation.add_campaign(
            "SXD-2027", "Khảo sát 2027", "HT-SXD", "sipas-2023", "2023.1",
            dt.date(2027, 1, 1), dt.date(2027, 12, 31), ["HT-SXD-01"],
        )  # fmt: skip
        db.session.commit()
        answer("SXD-2027", "HT-SXD-01", dt.date(2027, 3, 1), 190, 10)
        clear_caches()
        follow, checks = plans.verify(plan)
        assert follow is not None and not follow.same_campaign
        assert follow.campaign.code == "SXD-2027"
        assert checks[0].current is not None
        assert checks[0].current.estimate == pytest.approx(0.95)
        assert checks[0].verdict == plans.REACHED


def test_the_plan_period_is_computed_with_the_follow_ups_weighting(seeded: Flask) -> None:
    """Like with like, as the dashboard: SXD-2026 post-stratified as SXD-2027 is, by hand
    8,000 / (8,000 + 2,000) = 80 % (its 30 men all satisfied, its 20 women none), so the
    change is 0 points, not the 20 points of an unweighted 60 % against a weighted 80 %."""
    with seeded.app_context():
        plan = plan_checked_by_a_weighted_campaign()
        follow, checks = plans.verify(plan)
        assert follow is not None and follow.campaign.code == "SXD-2027"
        assert follow.settings.differ and follow.settings.like_with_like
        assert not follow.settings.refused
        assert follow.settings.used == follow.settings.current
        assert follow.settings.current.calibration == "poststratify"
        assert follow.settings.own.calibration == "none"
        (check,) = checks
        assert check.current is not None and check.baseline is not None and check.test
        assert check.current.estimate == pytest.approx(0.80)
        assert check.baseline.estimate == pytest.approx(0.80)
        assert check.baseline.n == 50
        assert check.test.difference == pytest.approx(0.0, abs=1e-12)
        assert _row(plan, "II.2").baseline_estimate == pytest.approx(0.60)  # as planned

        follow, checks = plans.verify(plan, own_settings=True)
        assert follow is not None and not follow.settings.like_with_like
        assert not follow.settings.refused
        assert checks[0].baseline is not None and checks[0].test is not None
        assert checks[0].baseline.estimate == pytest.approx(0.60)
        assert checks[0].test.difference == pytest.approx(0.20)


def test_a_plan_period_the_weighting_cannot_be_applied_to_keeps_its_own(seeded: Flask) -> None:
    """SXD-2027 has men only (40 satisfied): SXD-2028's post-stratification by gender has
    no woman to weigh there, so the plan's period is computed unweighted (100 %) and the
    follow-up says the follow-up's settings were refused."""
    with seeded.app_context():
        sxd_campaign("SXD-2027", 2027)
        answer("SXD-2027", "HT-SXD-01", dt.date(2027, 3, 1), 40, 0)
        plan = plans.add_rows(
            campaign("SXD-2027"), agency("HT-SXD"), "all", ["II.2"], "80", user("sxd")
        )
        db.session.commit()
        sxd_campaign("SXD-2028", 2028)
        answer("SXD-2028", "HT-SXD-01", dt.date(2028, 3, 1), 30, 20)
        weight_by_gender("SXD-2028")
        follow, checks = plans.verify(plan)
        assert follow is not None and follow.campaign.code == "SXD-2028"
        assert follow.settings.refused and not follow.settings.like_with_like
        assert follow.settings.used == follow.settings.own
        (check,) = checks
        assert check.baseline is not None and check.current is not None
        assert check.baseline.estimate == pytest.approx(1.0)
        assert check.current.estimate == pytest.approx(0.80)


def test_a_follow_up_in_the_same_campaign_needs_no_recomputation(seeded: Flask) -> None:
    with seeded.app_context():
        weight_by_gender("STP-2026")
        follow, _ = plans.verify(_q1_plan())
        assert follow is not None and follow.same_campaign
        assert not follow.settings.differ and follow.settings.like_with_like


# ------------------------------------------------------------------ files
def _filled_plan() -> RemediationPlan:
    plan = _q1_plan()
    plans.update_row(
        _row(plan, "II.2"),
        {
            "tasks": '=HYPERLINK("http://x")\nTập huấn kỹ năng giao tiếp & ứng xử <công chức>',
            "cooperating": "Văn phòng Sở; Thanh tra Sở",
            "deadline": "2026-06-30",
        },
        user("stp"),
    )
    db.session.commit()
    return plan


def test_docx_annex_has_the_seeds_columns_and_the_rows(seeded: Flask) -> None:
    with seeded.app_context():
        plan = _filled_plan()
        body = plans.plan_docx(plan)
        db.session.commit()
        document = Document(io.BytesIO(body))
        text = "\n".join(p.text for p in document.paragraphs)
        header = document.tables[0]
        header_text = "\n".join(c.text for c in header._cells)
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header_text
        assert "Độc lập - Tự do - Hạnh phúc" in header_text
        assert "SỞ TƯ PHÁP" in header_text and "TỈNH HÀ TĨNH" in header_text
        assert "SỞ TƯ PHÁP" in text and "QUÝ 1/2026" in text
        assert "KTC là khoảng tin cậy 95% của chỉ số" in text
        table = document.tables[1]
        rows = [[c.text for c in row.cells] for row in table.rows]
        assert rows[0] == SEED_COLUMNS
        assert rows[1][0] == "I" and rows[1][1] == "CUNG ỨNG DỊCH VỤ HÀNH CHÍNH CÔNG"
        tt, criterion, target, tasks, lead, cooperating, time = rows[3]
        assert tt == "2"
        assert criterion.startswith("Tiêu chí II.2. Công chức")
        assert "70,00%" in criterion and "n = 100" in criterion
        assert target.startswith("Chỉ số đạt từ 95,00% trở lên") and "25,00 điểm" in target
        assert tasks == ('=HYPERLINK("http://x")\nTập huấn kỹ năng giao tiếp & ứng xử <công chức>')
        assert (lead, cooperating, time) == (
            "Sở Tư pháp",
            "Văn phòng Sở; Thanh tra Sở",
            "30/06/2026",
        )
        assert len(rows) == 1 + 1 + len(CRITERIA)
        section = document.sections[0]
        assert section.page_width > section.page_height  # landscape
        assert round(section.page_width.cm, 1) == 29.7
        assert _events("export.plan")[-1].detail["format"] == "docx"


def test_docx_renders_from_a_restyled_template(seeded: Flask, tmp_path: Path) -> None:
    """The committed template is the one filled; an official's copy works the same way."""
    from survey_app.services.plans.annex_template import build

    restyled = tmp_path / "mau.docx"
    document = build()
    document.paragraphs[1].add_run(" (mẫu của Sở)")
    document.save(str(restyled))
    with seeded.app_context():
        body = plans.plan_docx(_filled_plan(), template=restyled)
    read = Document(io.BytesIO(body))
    assert [c.text for c in read.tables[1].rows[0].cells] == SEED_COLUMNS
    assert "(mẫu của Sở)" in "\n".join(p.text for p in read.paragraphs)


def test_xlsx_reads_back_with_figures_verification_and_inert_text(seeded: Flask) -> None:
    with seeded.app_context():
        plan = _filled_plan()
        body = plans.plan_xlsx(plan)
    book = load_workbook(io.BytesIO(body))
    sheet = book["Kế hoạch"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:4] == ("TT", "Lĩnh vực", "Mã tiêu chí", "Tiêu chí")
    records = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert [r["Mã tiêu chí"] for r in records] == list(CRITERIA)
    second = records[1]
    assert second["Chỉ số lúc lập kế hoạch (%)"] == pytest.approx(70.0)
    assert second["n"] == 100
    assert second["Mục tiêu (%)"] == 95.0
    assert second["Khoảng cách đến mục tiêu (điểm %)"] == pytest.approx(25.0)
    assert second["Đơn vị chủ trì thực hiện"] == "Sở Tư pháp"
    assert second["Thời hạn"].date() == dt.date(2026, 6, 30)
    assert second["Trạng thái"] == "Chưa thực hiện"
    assert second["Chỉ số kỳ sau (%)"] == pytest.approx(85.0)
    assert second["Thay đổi (điểm %)"] == pytest.approx(15.0)
    assert [r["Kết luận"] for r in records] == ["Đạt", "Chưa đạt", "Chưa đủ cơ sở kết luận"]
    cell = sheet.cell(3, header.index("Nhiệm vụ, giải pháp") + 1)
    assert cell.data_type == "s" and cell.quotePrefix
    assert cell.value.startswith("=HYPERLINK(")
    info = dict(book["Thông tin"].iter_rows(values_only=True))
    assert info["Kỳ lập kế hoạch"] == "Quý 1/2026"
    assert info["Kỳ đánh giá"] == "Quý 2/2026"
    assert "khoảng tin cậy" in info["Quy tắc kết luận"]
    assert "Cách tính kỳ lập kế hoạch" not in info  # one campaign, one way of computing


def test_xlsx_says_the_plan_period_was_computed_with_the_follow_ups_settings(
    seeded: Flask,
) -> None:
    with seeded.app_context():
        body = plans.plan_xlsx(plan_checked_by_a_weighted_campaign())
    book = load_workbook(io.BytesIO(body))
    (record,) = list(book["Kế hoạch"].iter_rows(values_only=True))[1:]
    header = next(book["Kế hoạch"].iter_rows(values_only=True))
    values = dict(zip(header, record, strict=True))
    assert values["Chỉ số lúc lập kế hoạch (%)"] == pytest.approx(60.0)  # as planned
    assert values["Chỉ số kỳ sau (%)"] == pytest.approx(80.0)
    assert values["Thay đổi (điểm %)"] == pytest.approx(0.0, abs=1e-6)  # like with like
    info = dict(book["Thông tin"].iter_rows(values_only=True))
    text = info["Cách tính kỳ lập kế hoạch"]
    assert "kỳ lập kế hoạch: Trọng số: không (mỗi phiếu như nhau)" in text
    assert "kỳ đánh giá: Trọng số: hậu phân tầng theo giới tính" in text
    assert "kỳ lập kế hoạch được tính lại với cài đặt của kỳ đánh giá" in text


# ------------------------------------------------------------------ command line
def test_cli_exports_the_plan_and_refuses_clearly(seeded: Flask, tmp_path: Path) -> None:
    with seeded.app_context():
        _filled_plan()
    runner = seeded.test_cli_runner()
    out = tmp_path / "kh.docx"
    result = runner.invoke(
        args=[
            "plan",
            "export",
            "STP-2026",
            "--agency",
            "HT-STP",
            "--format",
            "docx",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert [c.text for c in Document(str(out)).tables[1].rows[0].cells] == SEED_COLUMNS
    xlsx = tmp_path / "kh.xlsx"
    result = runner.invoke(args=["plan", "export", "STP-2026", "--format", "xlsx", "-o", str(xlsx)])
    assert result.exit_code == 0, result.output  # the campaign's agency is HT-STP
    assert load_workbook(str(xlsx))["Kế hoạch"].max_row == 1 + len(CRITERIA)
    result = runner.invoke(args=["plan", "export", "SXD-2026", "--format", "docx", "-o", str(out)])
    assert result.exit_code == 1
    assert "Chưa có kế hoạch khắc phục của Sở Xây dựng" in result.output
    result = runner.invoke(args=["plan", "export", "KHONG", "--format", "docx", "-o", str(out)])
    assert result.exit_code == 1 and "Không có đợt khảo sát mã 'KHONG'" in result.output
    with seeded.app_context():
        events = _events("export.plan")
        assert [e.username for e in events] == ["cli", "cli"]


def test_a_plan_made_meanwhile_elsewhere_is_a_conflict_not_a_crash(
    seeded: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two officers' first additions race: the second finds no plan, then the UNIQUE
    (campaign, agency) refuses its plan; it is told to reload, and nothing of it stays."""
    with seeded.app_context():
        _q1_plan()
        monkeypatch.setattr(plans.editing, "find_plan", lambda campaign, agency: None)
        with pytest.raises(plans.PlanConflict) as refused:
            plans.add_rows(
                campaign("STP-2026"), agency("HT-STP"), "2026-Q1", ["I.1"], "", user("stp")
            )
        assert refused.value.status == 409
        assert "vui lòng tải lại trang" in str(refused.value).lower()
        db.session.rollback()
        assert db.session.scalars(select(RemediationPlan)).all() != []
        assert len(db.session.scalars(select(RemediationPlan)).all()) == 1
        assert {r.criterion for r in db.session.scalars(select(PlanRow))} == set(CRITERIA)


def test_the_committed_template_has_the_seeds_columns_and_the_fields() -> None:
    template = Document(str(plans.documents.TEMPLATE))
    table = template.tables[1]
    assert [c.text for c in table.rows[0].cells] == SEED_COLUMNS
    cells = [c.text for row in table.rows for c in row.cells]
    for tag in ("{%tr for r in rows %}", "{%tr if r.field %}", "{%tr else %}", "{%tr endfor %}"):
        assert tag in cells
    assert "{{r r.tasks }}" in cells
    motto = "\n".join(c.text for c in template.tables[0]._cells)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in motto and "{{ agency_name }}" in motto
    section = template.sections[0]
    assert section.page_width > section.page_height
    assert template.styles["Normal"].font.name == "Times New Roman"
    assert template.styles["Normal"].font.size.pt == 13
