"""Paper import: each agency sees its own imports; a form is stored once, by its number."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Campaign, ImportBatch, PaperForm, Submission
from survey_app.services import paper_import
from survey_app.services.questionnaires import definition
from tests.staff_support import add_user, csrf_token, login, paper_csv, seed_province

PROVINCE = "SIPAS-2025"  # province-wide: desks HT-STP-01 and HT-SXD-01 among others


def _csv(campaign_code: str, rows: list[tuple[str, str]], day: str = "2025-06-01") -> bytes:
    """A paper CSV of forms (form number, desk code), all answered 4."""
    return paper_csv(campaign_code, rows, day)


def _upload(client: FlaskClient, body: bytes, filename: str, campaign: str = PROVINCE):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/staff/campaigns/{campaign}/import")
    return client.post(
        f"/staff/campaigns/{campaign}/import",
        data={"csrf_token": token, "file": (io.BytesIO(body), filename)},
        content_type="multipart/form-data",
    )


def _count() -> int:
    return db.session.scalar(select(func.count(Submission.id)).filter_by(route="paper")) or 0


@pytest.fixture
def province(app: Flask) -> Flask:
    with app.app_context():
        seed_province()
        add_user("an", "officer", "HT-STP")
        add_user("binh", "officer", "HT-SXD")
        add_user("lan", "admin")
    return app


def _client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


# --------------------------------------------------------------------------- agencies


def test_officers_see_only_their_own_agencys_imports(province: Flask) -> None:
    an, binh = _client(province, "an"), _client(province, "binh")
    with province.app_context():
        stp = _csv(PROVINCE, [("1", "HT-STP-01")])
        sxd = _csv(PROVINCE, [("1", "HT-SXD-01"), ("2", "HT-SXD-01")])
    assert _upload(an, stp, "so-tu-phap-bi-mat.csv").status_code == 302
    assert _upload(binh, sxd, "so-xay-dung.csv").status_code == 302
    for username, own, other in (
        ("binh", "so-xay-dung.csv", "so-tu-phap-bi-mat.csv"),
        ("an", "so-tu-phap-bi-mat.csv", "so-xay-dung.csv"),
    ):
        page = _client(province, username).get(f"/staff/campaigns/{PROVINCE}/import")
        text = page.get_data(as_text=True)
        assert own in text and other not in text, username
    admin = _client(province, "lan").get(f"/staff/campaigns/{PROVINCE}/import")
    assert "so-xay-dung.csv" in admin.get_data(as_text=True)
    assert "so-tu-phap-bi-mat.csv" in admin.get_data(as_text=True)


def test_reuploading_another_agencys_file_names_neither_file_nor_time(province: Flask) -> None:
    an, binh = _client(province, "an"), _client(province, "binh")
    with province.app_context():
        stp = _csv(PROVINCE, [("1", "HT-STP-01")])
    assert _upload(an, stp, "so-tu-phap-bi-mat.csv").status_code == 302
    again = _upload(binh, stp, "copy.csv")
    assert again.status_code in (409, 422)
    text = again.get_data(as_text=True)
    assert "so-tu-phap-bi-mat" not in text and "1 phiếu)" not in text
    with province.app_context():
        assert _count() == 1
        assert db.session.scalar(select(func.count(ImportBatch.id))) == 1


def test_a_duplicate_batch_out_of_sight_is_refused_without_its_details(province: Flask) -> None:
    """An administrator's batch covering two agencies: an officer of one of them is told
    the file is in, not when, by whom or under which name."""
    with province.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code=PROVINCE))
        body = _csv(PROVINCE, [("1", "HT-STP-01"), ("1", "HT-SXD-01")])
        paper_import.import_file(campaign, "hai-so.csv", body)
        db.session.commit()
        batch = db.session.scalars(select(ImportBatch)).one()
        stp = {d.agency_id for d in campaign.desks if d.code == "HT-STP-01"}
        assert paper_import.visible_batches(campaign, stp) == []
        assert paper_import.visible_batches(campaign, None) == [batch]
        refusal = paper_import._duplicate(campaign, batch, stp)
        assert "hai-so" not in str(refusal) and "Tệp này đã được nhập" in str(refusal)
        assert "hai-so" in str(paper_import._duplicate(campaign, batch, None))


# --------------------------------------------------------------------------- forms by number


def test_the_same_forms_resaved_with_another_line_break_are_refused_by_number(
    province: Flask,
) -> None:
    an = _client(province, "an")
    with province.app_context():
        body = _csv(PROVINCE, [("17", "HT-STP-01"), ("18", "HT-STP-01")])
    assert _upload(an, body, "a.csv").status_code == 302
    again = _upload(an, body + b"\r\n", "a-luu-lai.csv")
    assert again.status_code == 409
    text = again.get_data(as_text=True)
    assert "Tất cả 2 phiếu trong tệp đã được nhập trước đây" in text
    assert "17 (HT-STP-01), 18 (HT-STP-01)" in text
    with province.app_context():
        assert _count() == 2
        assert db.session.scalar(select(func.count(ImportBatch.id))) == 1


def test_the_same_forms_as_xlsx_with_leading_zeros_are_the_same_forms(province: Flask) -> None:
    import openpyxl

    an = _client(province, "an")
    with province.app_context():
        body = _csv(PROVINCE, [("0017", "HT-STP-01")])
    assert _upload(an, body, "a.csv").status_code == 302
    rows = list(csv.reader(io.StringIO(body.decode())))
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append([int(c) if c.isdigit() else c for c in row])
    out = io.BytesIO()
    book.save(out)
    again = _upload(an, out.getvalue(), "a.xlsx")
    assert again.status_code == 409
    assert "17 (HT-STP-01)" in again.get_data(as_text=True)
    with province.app_context():
        assert _count() == 1


def test_a_file_mixing_new_and_stored_forms_stores_none_and_lists_the_stored(
    province: Flask,
) -> None:
    an = _client(province, "an")
    with province.app_context():
        first = _csv(PROVINCE, [("1", "HT-STP-01"), ("2", "HT-STP-01")])
        mixed = _csv(PROVINCE, [("2", "HT-STP-01"), ("3", "HT-STP-01"), ("4", "HT-STP-01")])
    assert _upload(an, first, "a.csv").status_code == 302
    response = _upload(an, mixed, "b.csv")
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "1 trong 3 phiếu của tệp đã được nhập trước đây" in text
    assert "2 (HT-STP-01)" in text and "3 (HT-STP-01)" not in text
    with province.app_context():
        assert _count() == 2
        assert db.session.scalar(select(func.count(PaperForm.id))) == 2


def test_two_desks_may_each_have_a_form_one(province: Flask) -> None:
    an, binh = _client(province, "an"), _client(province, "binh")
    with province.app_context():
        stp = _csv(PROVINCE, [("1", "HT-STP-01")])
        sxd = _csv(PROVINCE, [("1", "HT-SXD-01")], day="2025-06-02")
    assert _upload(an, stp, "a.csv").status_code == 302
    assert _upload(binh, sxd, "b.csv").status_code == 302
    with province.app_context():
        assert _count() == 2


def test_the_form_number_is_required(province: Flask) -> None:
    an = _client(province, "an")
    with province.app_context():
        body = _csv(PROVINCE, [("", "HT-STP-01"), ("5", "HT-STP-01")])
        no_column = "\r\n".join(
            ",".join(row[1:]) for row in csv.reader(io.StringIO(body.decode()))
        ).encode()
    text = _upload(an, body, "a.csv").get_data(as_text=True)
    assert "Dòng 2, cột form_id: thiếu số phiếu" in text and "Dòng 3" not in text
    text = _upload(an, no_column, "b.csv").get_data(as_text=True)
    assert "Dòng 1: thiếu cột bắt buộc “form_id”." in text
    with province.app_context():
        assert _count() == 0


def test_the_guide_says_the_form_number_is_required_and_unique(province: Flask) -> None:
    with province.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code=PROVINCE))
        [row] = [
            r
            for r in paper_import.guide_rows(definition(campaign.questionnaire_version))
            if r[0] == "form_id"
        ]
    assert row[3] == "có" and "không trùng" in row[5]
    page = _client(province, "an").get(f"/staff/campaigns/{PROVINCE}/import")
    assert "không lưu phiếu nào của tệp" in page.get_data(as_text=True)


def test_a_form_stored_by_a_racing_import_is_refused_by_the_unique_constraint(
    province: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other import commits between our look-up and our INSERT: UNIQUE decides."""
    with province.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code=PROVINCE))
        paper_import.import_file(campaign, "a.csv", _csv(PROVINCE, [("9", "HT-STP-01")]))
        db.session.commit()
        real = paper_import._forms_present
        calls = []

        def first_sees_nothing(*args):  # type: ignore[no-untyped-def]
            calls.append(1)
            return [] if len(calls) == 1 else real(*args)

        monkeypatch.setattr(paper_import, "_forms_present", first_sees_nothing)
        body = _csv(PROVINCE, [("9", "HT-STP-01"), ("10", "HT-STP-01")], day="2025-06-03")
        with pytest.raises(paper_import.DuplicateForms) as refused:
            paper_import.import_file(campaign, "b.csv", body)
        assert refused.value.present == [("HT-STP-01", "9")]
        db.session.rollback()
        assert _count() == 1
        assert db.session.scalar(select(func.count(ImportBatch.id))) == 1


def test_the_database_refuses_a_form_number_twice_at_a_desk(province: Flask) -> None:
    with province.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code=PROVINCE))
        paper_import.import_file(campaign, "a.csv", _csv(PROVINCE, [("9", "HT-STP-01")]))
        db.session.commit()
        batch_id, desk_id = db.session.execute(
            select(PaperForm.import_batch_id, PaperForm.desk_id)
        ).one()
        db.session.add(
            PaperForm(
                campaign_id=campaign.id, desk_id=desk_id, form_id="9", import_batch_id=batch_id
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()
