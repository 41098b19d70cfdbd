"""Survey set-up services: desks, campaigns, agencies and questionnaire loads.

The rules officials rely on, on SQLite and PostgreSQL: codes and public ids never
change; a campaign keeps every stored answer inside its period, at its desks and
under the questionnaire version they answered; every change is audited.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from scoring.questionnaire import QuestionnaireError
from survey_app.extensions import db
from survey_app.models import AuditEvent, Campaign, Desk, QuestionnaireVersion
from survey_app.services import organisation, questionnaires
from survey_app.services.organisation import SetupError
from survey_app.services.questionnaires import definition
from survey_app.services.submissions import record_submission, validate_answers
from tests.staff_support import ROOT, add_answers, seed_province

SIPAS_2023 = ROOT / "questionnaires" / "sipas-2023.yaml"


@pytest.fixture
def province(app: Flask) -> Flask:
    """The demo province with STP-2026 (desk HT-STP-01) and SXD-2026; no answers yet."""
    with app.app_context():
        seed_province()
        # A second desk of Sở Tư pháp, in STP-2026 too.
        organisation.add_desk("HT-STP-02", "Quầy Sở Tư pháp số 2", "HT-STP")
        organisation.edit_campaign("STP-2026", desk_codes=["HT-STP-01", "HT-STP-02"])
        db.session.commit()
    return app


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(action=action)))


def messages(error: pytest.ExceptionInfo[SetupError]) -> list[tuple[str | None, str]]:
    return [(p.field, p.message) for p in error.value.problems]


# --------------------------------------------------------------------------- desks


def test_a_new_desk_gets_a_random_public_id_and_is_audited(province: Flask) -> None:
    with province.app_context():
        desk = organisation.add_desk("HT-STP-03", "  Quầy   số 3 ", "HT-STP")
        other = organisation.add_desk("HT-STP-04", "Quầy số 4", "HT-STP")
        db.session.commit()
        assert desk.active and desk.name == "Quầy số 3"
        assert len(desk.public_id) == 12 and desk.public_id != other.public_id
        [event] = [e for e in events("desk.create") if e.target == "HT-STP-03"]
        assert event.username == "cli" and event.detail == {"name": "Quầy số 3", "agency": "HT-STP"}


def test_adding_a_desk_reports_every_problem_at_once_in_vietnamese(province: Flask) -> None:
    with province.app_context():
        with pytest.raises(SetupError) as used:
            organisation.add_desk("HT-STP-01", " ", "KHONG-CO")
        assert messages(used) == [
            ("name", "Vui lòng nhập tên bộ phận một cửa."),
            ("code", "Mã bộ phận một cửa 'HT-STP-01' đã được dùng."),
            ("agency", "Không có cơ quan mã 'KHONG-CO'."),
        ]
        with pytest.raises(SetupError) as bad:
            organisation.add_desk("HT/STP 9", "Quầy", "HT-STP")
        assert [f for f, _ in messages(bad)] == ["code"]
        assert db.session.scalar(select(Desk).filter_by(name="Quầy")) is None


def test_renaming_a_desk_keeps_its_code_and_public_id_and_logs_both_names(
    province: Flask,
) -> None:
    with province.app_context():
        before = organisation.desk_by_code("HT-STP-01").public_id
        desk, changed = organisation.rename_desk("HT-STP-01", "Quầy Tư pháp (tầng 2)")
        db.session.commit()
        assert changed and desk.code == "HT-STP-01" and desk.public_id == before
        [event] = events("desk.rename")
        assert event.detail == {
            "old": "Quầy Sở Tư pháp tại Trung tâm",
            "new": "Quầy Tư pháp (tầng 2)",
        }
        _desk, again = organisation.rename_desk("HT-STP-01", "Quầy Tư pháp (tầng 2)")
        assert not again and len(events("desk.rename")) == 1
        with pytest.raises(SetupError) as empty:
            organisation.rename_desk("HT-STP-01", "   ")
        assert messages(empty) == [("name", "Vui lòng nhập tên bộ phận một cửa.")]


def test_deactivating_and_reactivating_a_desk_is_audited_once_per_change(
    province: Flask,
) -> None:
    with province.app_context():
        add_answers("STP-2026", "HT-STP-01", dt.datetime(2026, 3, 1, 9))
        desk, changed = organisation.set_desk_active("HT-STP-01", False)
        assert changed and not desk.active
        assert organisation.set_desk_active("HT-STP-01", False) == (desk, False)
        db.session.commit()
        assert organisation.desk_answer_count(desk) == 1  # its answers stay
        assert organisation.set_desk_active("HT-STP-01", True)[1]
        db.session.commit()
        actions = [
            e.action
            for e in db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.target == "HT-STP-01")
                .where(AuditEvent.action.like("desk.%"))
                .order_by(AuditEvent.id)
            )
        ]
        assert actions == ["desk.create", "desk.deactivate", "desk.activate"]


# --------------------------------------------------------------------------- campaigns


def test_a_campaign_takes_only_active_desks_of_its_agency_subtree(province: Flask) -> None:
    with province.app_context():
        organisation.set_desk_active("HT-STP-02", False)
        with pytest.raises(SetupError) as refused:
            organisation.add_campaign(
                "STP-2027",
                "Khảo sát 2027",
                "HT-STP",
                "sipas-2023",
                "2023.1",
                dt.date(2027, 1, 1),
                dt.date(2027, 12, 31),
                ["HT-STP-01", "HT-SXD-01", "HT-STP-02"],
            )
        assert messages(refused) == [
            (
                "desks",
                "Bộ phận một cửa HT-SXD-01 (Quầy Sở Xây dựng tại Trung tâm) không thuộc "
                "Sở Tư pháp hoặc các đơn vị trực thuộc.",
            ),
            ("desks", "Bộ phận một cửa HT-STP-02 (Quầy Sở Tư pháp số 2) đã ngừng hoạt động."),
        ]
        # The province's campaign may use a department's desk: it is in the province's subtree.
        campaign = organisation.add_campaign(
            "HT-2027",
            "SIPAS 2027",
            "HT",
            "sipas-2023",
            "2023.1",
            dt.date(2027, 1, 1),
            dt.date(2027, 12, 31),
            ["HT-STP-01", "HT-SXD-01"],
        )
        assert sorted(d.code for d in campaign.desks) == ["HT-STP-01", "HT-SXD-01"]


def test_a_new_campaign_lists_every_problem(province: Flask) -> None:
    with province.app_context():
        with pytest.raises(SetupError) as refused:
            organisation.add_campaign(
                "STP-2026",
                "",
                "HT-STP",
                "sipas-2023",
                "9.9",
                dt.date(2027, 12, 31),
                dt.date(2027, 1, 1),
                [],
            )
        assert [field for field, _ in messages(refused)] == [
            "name",
            "code",
            "ends_on",
            "questionnaire",
            "desks",
        ]
        assert "Ngày kết thúc (01/01/2027) phải từ ngày bắt đầu (31/12/2027)" in str(refused.value)


def test_the_questionnaire_version_changes_only_while_the_campaign_has_no_answers(
    province: Flask,
) -> None:
    with province.app_context():
        questionnaires.load_file(ROOT / "questionnaires" / "tt01-quick.yaml")
        quick = db.session.scalar(
            select(QuestionnaireVersion).filter_by(questionnaire_id="tt01-quick")
        )
        campaign, changes = organisation.edit_campaign(
            "SXD-2026", questionnaire=(quick.questionnaire_id, quick.version)
        )
        assert campaign.questionnaire_version_id == quick.id
        assert changes == {"questionnaire": ["sipas-2023 2023.1", f"tt01-quick {quick.version}"]}
        db.session.commit()

        add_answers("STP-2026", "HT-STP-01", dt.datetime(2026, 3, 1, 9), dt.datetime(2026, 3, 2))
        with pytest.raises(SetupError) as refused:
            organisation.edit_campaign(
                "STP-2026", questionnaire=(quick.questionnaire_id, quick.version)
            )
        assert messages(refused) == [
            (
                "questionnaire",
                "Đợt khảo sát đã có 2 phiếu trả lời theo phiếu sipas-2023 phiên bản 2023.1, nên "
                "không thể đổi phiếu khảo sát.",
            )
        ]
        # Naming the version it already has is no change, answers or not.
        assert (
            organisation.edit_campaign("STP-2026", questionnaire=("sipas-2023", "2023.1"))[1] == {}
        )


def test_the_period_cannot_leave_stored_answers_outside_and_says_how_many(
    province: Flask,
) -> None:
    with province.app_context():
        add_answers(
            "STP-2026",
            "HT-STP-01",
            dt.datetime(2026, 2, 10, 8),
            dt.datetime(2026, 3, 5, 23, 59),
            dt.datetime(2026, 6, 30, 17),
        )
        with pytest.raises(SetupError) as refused:
            organisation.edit_campaign(
                "STP-2026", starts_on=dt.date(2026, 3, 1), ends_on=dt.date(2026, 3, 31)
            )
        assert messages(refused) == [
            (
                "period",
                "Có 2 phiếu trả lời đã lưu nằm ngoài thời gian mới (01/03/2026 – 31/03/2026). Các "
                "phiếu của đợt này được gửi từ ngày 10/02/2026 đến ngày 30/06/2026; thời gian của "
                "đợt phải bao gồm các ngày đó.",
            )
        ]
        # Exactly the first and the last answer's days is allowed (dates are inclusive).
        campaign, changes = organisation.edit_campaign(
            "STP-2026", starts_on=dt.date(2026, 2, 10), ends_on=dt.date(2026, 6, 30)
        )
        assert changes == {
            "starts_on": [dt.date(2026, 1, 1), dt.date(2026, 2, 10)],
            "ends_on": [dt.date(2026, 12, 31), dt.date(2026, 6, 30)],
        }
        db.session.commit()
        with pytest.raises(SetupError) as one_day_short:
            organisation.edit_campaign("STP-2026", ends_on=dt.date(2026, 6, 29))
        assert "Có 1 phiếu trả lời" in str(one_day_short.value)
        with pytest.raises(SetupError) as reversed_period:
            organisation.edit_campaign("STP-2026", starts_on=dt.date(2026, 7, 1))
        assert [f for f, _ in messages(reversed_period)] == ["ends_on"]
        assert (campaign.starts_on, campaign.ends_on) == (
            dt.date(2026, 2, 10),
            dt.date(2026, 6, 30),
        )


def test_a_desk_with_answers_stays_in_the_campaign_and_one_without_can_go(
    province: Flask,
) -> None:
    with province.app_context():
        add_answers("STP-2026", "HT-STP-01", *[dt.datetime(2026, 4, d) for d in (1, 2, 3)])
        with pytest.raises(SetupError) as refused:
            organisation.edit_campaign("STP-2026", desk_codes=["HT-STP-02"])
        assert messages(refused) == [
            (
                "desks",
                "Không thể bỏ HT-STP-01 (Quầy Sở Tư pháp tại Trung tâm) khỏi đợt khảo sát: đã có "
                "3 phiếu trả lời tại quầy này.",
            )
        ]
        campaign, changes = organisation.edit_campaign("STP-2026", desk_codes=["HT-STP-01"])
        assert [d.code for d in campaign.desks] == ["HT-STP-01"]
        assert changes == {"desks": [["HT-STP-01", "HT-STP-02"], ["HT-STP-01"]]}


def test_an_inactive_desk_already_in_a_campaign_may_stay_but_not_be_added(
    province: Flask,
) -> None:
    with province.app_context():
        organisation.set_desk_active("HT-STP-02", False)
        _campaign, changes = organisation.edit_campaign(
            "STP-2026", name="Đổi tên", desk_codes=["HT-STP-01", "HT-STP-02"]
        )
        assert changes == {"name": ["Khảo sát HT-STP 2026", "Đổi tên"]}
        organisation.edit_campaign("STP-2026", desk_codes=["HT-STP-01"])
        with pytest.raises(SetupError) as refused:
            organisation.edit_campaign("STP-2026", desk_codes=["HT-STP-01", "HT-STP-02"])
        assert messages(refused) == [
            ("desks", "Bộ phận một cửa HT-STP-02 (Quầy Sở Tư pháp số 2) đã ngừng hoạt động."),
        ]


def test_a_campaign_edit_is_audited_with_what_changed_and_nothing_when_unchanged(
    province: Flask,
) -> None:
    with province.app_context():
        before = len(events("campaign.edit"))
        assert (
            organisation.edit_campaign(
                "STP-2026",
                name="Khảo sát HT-STP 2026",
                starts_on=dt.date(2026, 1, 1),
                desk_codes=["HT-STP-02", "HT-STP-01"],
            )[1]
            == {}
        )
        assert len(events("campaign.edit")) == before
        organisation.edit_campaign(
            "STP-2026", name="Sở Tư pháp 2026", ends_on=dt.date(2026, 11, 30)
        )
        db.session.commit()
        event = events("campaign.edit")[-1]
        assert len(events("campaign.edit")) == before + 1 and event.target == "STP-2026"
        assert event.detail == {
            "name": ["Khảo sát HT-STP 2026", "Sở Tư pháp 2026"],
            "ends_on": ["2026-12-31", "2026-11-30"],
        }


def test_a_submission_being_stored_is_counted_before_a_desk_is_removed(
    province: Flask, database_url: str
) -> None:
    """The edit locks the campaign row, which waits for a submission's foreign-key lock:
    an answer stored while the edit checks is counted, never missed."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; the row lock is PostgreSQL's")
    with province.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code="STP-2026"))
        desk = organisation.desk_by_code("HT-STP-02")
        questionnaire = definition(campaign.questionnaire_version)
        raw = {i.code: "4" for i in questionnaire.items if i.required and i.show_if is None}
        raw["II.4.0"] = "2"
        answers = validate_answers(questionnaire, raw)
        citizen = db.engine.connect()
        pending = citizen.begin()
        record_submission(
            citizen,
            uid=str(uuid.uuid4()),
            campaign=campaign,
            desk=desk,
            route="desk_qr",
            answers=answers,
            language="vi",
            submitted_at=dt.datetime(2026, 5, 1, 10),
        )
        db.session.rollback()
    outcome: list[object] = []

    def official() -> None:
        with province.app_context():
            try:
                organisation.edit_campaign("STP-2026", desk_codes=["HT-STP-01"])
                db.session.commit()
                outcome.append("removed")
            except SetupError as error:
                db.session.rollback()
                outcome.append(str(error))

    thread = threading.Thread(target=official)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive() and outcome == []  # waiting for the citizen's transaction
    pending.commit()
    citizen.close()
    thread.join(timeout=10)
    assert outcome == [
        "Không thể bỏ HT-STP-02 (Quầy Sở Tư pháp số 2) khỏi đợt khảo sát: đã "
        "có 1 phiếu trả lời tại quầy này."
    ]


# --------------------------------------------------------------------------- agencies


def test_an_agency_goes_under_its_parent_and_a_used_code_is_refused(province: Flask) -> None:
    with province.app_context():
        agency = organisation.add_agency("HT-SYT", "Sở Y tế", "department", "HT")
        db.session.commit()
        assert agency.parent is not None and agency.parent.code == "HT"
        assert agency.id in organisation.subtree_ids(agency.parent.id)
        [event] = [e for e in events("agency.create") if e.target == "HT-SYT"]
        assert event.detail == {"name": "Sở Y tế", "kind": "department", "parent": "HT"}
        with pytest.raises(SetupError) as refused:
            organisation.add_agency("HT-SYT", "Sở Y tế", "department", "KHONG-CO")
        assert messages(refused) == [
            ("code", "Mã cơ quan 'HT-SYT' đã được dùng."),
            ("parent", "Không có cơ quan cấp trên mã 'KHONG-CO'."),
        ]


# --------------------------------------------------------------------------- questionnaires


def test_an_invalid_questionnaire_text_stores_nothing_and_lists_every_problem(
    app: Flask,
) -> None:
    text = SIPAS_2023.read_text(encoding="utf-8")
    broken = text.replace("schema: 1\n", "schema: 1\nunknown_key: 1\n", 1).replace(
        "languages: [vi, en]", "languages: [vi, en]\nlanguages: [vi]", 1
    )
    with app.app_context():
        with pytest.raises(QuestionnaireError) as refused:
            questionnaires.load_text(broken, "sipas-moi.yaml")
        assert len(refused.value.problems) >= 2
        assert all(p.startswith("sipas-moi.yaml:") for p in refused.value.problems)
        db.session.rollback()
        assert db.session.scalars(select(QuestionnaireVersion)).all() == []
        assert events("questionnaire.loaded") == []


def test_a_questionnaire_version_with_answers_never_changes_in_place(province: Flask) -> None:
    text = SIPAS_2023.read_text(encoding="utf-8")
    reworded = text.replace("Rất hài lòng", "Rất rất hài lòng", 1)
    assert reworded != text
    with province.app_context():
        row, what = questionnaires.load_text(text, "sipas-2023.yaml")
        assert what == "unchanged"
        add_answers("STP-2026", "HT-STP-01", dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 2))
        with pytest.raises(questionnaires.VersionConflict) as refused:
            questionnaires.load_text(reworded, "sipas-2023-sua.yaml")
        assert (refused.value.questionnaire_id, refused.value.version, refused.value.answers) == (
            "sipas-2023",
            "2023.1",
            2,
        )
        assert "already has answers" in str(refused.value)
        db.session.rollback()
        assert db.session.get(QuestionnaireVersion, row.id).content_hash == row.content_hash


def test_an_unanswered_version_is_replaced_and_both_loads_are_audited(app: Flask) -> None:
    text = SIPAS_2023.read_text(encoding="utf-8")
    with app.app_context():
        first, what = questionnaires.load_text(text, "sipas-2023.yaml")
        assert what == "loaded"
        old_hash = first.content_hash
        row, what = questionnaires.load_text(
            text.replace("Rất hài lòng", "Rất rất hài lòng", 1), "sipas-2023.yaml"
        )
        db.session.commit()
        assert what == "replaced" and row.id == first.id and row.content_hash != old_hash
        assert [
            e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ] == ["questionnaire.loaded", "questionnaire.replaced"]


# --------------------------------------------------------------------------- one campaign a day


def _add_stp(code: str, starts_on: dt.date, ends_on: dt.date, desks: list[str]) -> Campaign:
    return organisation.add_campaign(
        code, f"Khảo sát {code}", "HT-STP", "sipas-2023", "2023.1", starts_on, ends_on, desks
    )


def test_a_campaign_overlapping_another_at_one_of_its_desks_is_refused(province: Flask) -> None:
    """The issue's case: a second campaign at a desk silently took its QR poster over.
    The refusal names the other campaign, its period, the desks and the common days."""
    with province.app_context():
        with pytest.raises(SetupError) as refused:
            _add_stp("TT01-2026", dt.date(2026, 11, 15), dt.date(2027, 2, 28), ["HT-STP-02"])
        assert messages(refused) == [
            (
                "desks",
                "Trùng thời gian với đợt khảo sát STP-2026 (Khảo sát HT-STP 2026, 01/01/2026 – "
                "31/12/2026) tại HT-STP-02 (Quầy Sở Tư pháp số 2): cả hai đợt cùng diễn ra từ "
                "ngày 15/11/2026 đến ngày 31/12/2026. Mỗi quầy chỉ chạy một đợt khảo sát mỗi "
                "ngày (áp phích mã QR mở phiếu của đợt đó); vui lòng đổi thời gian hoặc bỏ quầy "
                "khỏi một trong hai đợt.",
            )
        ]
        assert db.session.scalar(select(Campaign).filter_by(code="TT01-2026")) is None
        assert "TT01-2026" not in [e.target for e in events("campaign.create")]
        # One day apart is no overlap; the last day in common (31/12) is one.
        _add_stp("TT01-2027", dt.date(2027, 1, 1), dt.date(2027, 2, 28), ["HT-STP-02"])
        with pytest.raises(SetupError, match="từ ngày 31/12/2026 đến ngày 31/12/2026"):
            _add_stp("LAST-DAY", dt.date(2026, 12, 31), dt.date(2026, 12, 31), ["HT-STP-01"])


def test_one_problem_per_other_campaign_naming_every_desk_in_common(province: Flask) -> None:
    with province.app_context():
        organisation.add_desk("HT-STP-03", "Quầy số 3", "HT-STP")
        _add_stp("Q3", dt.date(2026, 3, 1), dt.date(2026, 3, 31), ["HT-STP-03"])
        with pytest.raises(SetupError) as refused:
            _add_stp(
                "ALL",
                dt.date(2026, 3, 10),
                dt.date(2026, 4, 30),
                ["HT-STP-01", "HT-STP-02", "HT-STP-03"],
            )
        found = [message for _, message in messages(refused)]
        assert len(found) == 2
        assert found[0].startswith("Trùng thời gian với đợt khảo sát STP-2026")
        assert "tại HT-STP-01 (Quầy Sở Tư pháp tại Trung tâm), HT-STP-02 (Quầy" in found[0]
        assert "từ ngày 10/03/2026 đến ngày 30/04/2026" in found[0]
        assert found[1].startswith("Trùng thời gian với đợt khảo sát Q3 (Khảo sát Q3, 01/03/2026")
        assert (
            "tại HT-STP-03 (Quầy số 3): cả hai đợt cùng diễn ra từ ngày 10/03/2026 đến ngày "
            "31/03/2026" in found[1]
        )


def test_an_edit_may_not_make_campaigns_overlap_at_a_desk(province: Flask) -> None:
    with province.app_context():
        organisation.add_desk("HT-STP-03", "Quầy số 3", "HT-STP")
        _add_stp("STP-2027", dt.date(2027, 1, 1), dt.date(2027, 12, 31), ["HT-STP-02"])
        _add_stp("Q3-2027", dt.date(2027, 3, 1), dt.date(2027, 3, 31), ["HT-STP-03"])
        with pytest.raises(SetupError, match="đợt khảo sát STP-2026 .* tại HT-STP-02"):
            organisation.edit_campaign("STP-2027", starts_on=dt.date(2026, 12, 1))
        with pytest.raises(SetupError, match="đợt khảo sát STP-2027 .* tại HT-STP-02"):
            organisation.edit_campaign("STP-2026", ends_on=dt.date(2027, 1, 5))
        with pytest.raises(SetupError, match="đợt khảo sát Q3-2027 .* tại HT-STP-03"):
            organisation.edit_campaign("STP-2027", desk_codes=["HT-STP-02", "HT-STP-03"])
        # Its own period is no overlap: moving within it or renaming is fine.
        organisation.edit_campaign("STP-2026", starts_on=dt.date(2026, 2, 1), name="Mới")
        organisation.edit_campaign("STP-2027", desk_codes=["HT-STP-02", "HT-STP-01"])
        db.session.commit()
        assert [e.target for e in events("campaign.edit")][-2:] == ["STP-2026", "STP-2027"]


def test_an_overlap_set_up_before_the_check_does_not_block_fixing_it(province: Flask) -> None:
    """Databases set up before campaigns were checked may hold overlaps: an edit is
    refused only for an overlap it makes, so a desk can be taken out of one of them."""
    with province.app_context():
        sipas = db.session.scalar(select(Campaign).filter_by(code="SIPAS-2026"))
        stp01 = db.session.scalar(select(Desk).filter_by(code="HT-STP-01"))
        sipas.desks.append(stp01)  # as an older version let it be
        db.session.flush()
        organisation.edit_campaign("SIPAS-2026", name="Khảo sát SIPAS 2026 (đổi tên)")
        keep = [d.code for d in sipas.desks if d.code != "HT-STP-01"]
        organisation.edit_campaign("SIPAS-2026", desk_codes=keep)
        db.session.commit()
        assert "HT-STP-01" not in {d.code for d in sipas.desks}


def test_two_overlapping_campaigns_set_up_at_once_are_checked_in_turn(
    province: Flask, database_url: str
) -> None:
    """Adding a campaign locks its desks' rows: a second one for the same desk waits for
    the first to commit and is then refused, so both cannot pass the check at once."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; the row lock is PostgreSQL's")
    outcome: list[str] = []

    def other_official() -> None:
        with province.app_context():
            try:
                _add_stp("B-2027", dt.date(2027, 6, 1), dt.date(2027, 6, 30), ["HT-STP-02"])
                db.session.commit()
                outcome.append("added")
            except SetupError as error:
                db.session.rollback()
                outcome.append(str(error))

    with province.app_context():
        _add_stp("A-2027", dt.date(2027, 1, 1), dt.date(2027, 12, 31), ["HT-STP-02"])
        thread = threading.Thread(target=other_official)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive() and outcome == []  # waiting for the first one's lock
        db.session.commit()
    thread.join(timeout=10)
    assert len(outcome) == 1
    assert outcome[0].startswith("Trùng thời gian với đợt khảo sát A-2027")
