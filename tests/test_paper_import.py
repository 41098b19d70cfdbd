"""Paper-survey import: template round trip, all-or-nothing with per-row errors, re-import."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Agency, AuditEvent, Campaign, ImportBatch, Submission
from survey_app.services import paper_import
from survey_app.services.questionnaires import definition
from tests.staff_support import add_user, csrf_token, login, seed_province

CAMPAIGN = "STP-2026"
DESK = "HT-STP-01"


@pytest.fixture
def officer(app: Flask, client: FlaskClient) -> FlaskClient:
    with app.app_context():
        seed_province()
        add_user("an", "officer", "HT-STP")
    login(client, "an")
    return client


def _answers(**overrides: str) -> dict[str, str]:
    """A complete, valid sipas-2023 paper form: 4 everywhere, no feedback filed (II.4.0=2)."""
    with_codes: dict[str, str] = {}
    campaign = db.session.scalar(select(Campaign).filter_by(code=CAMPAIGN))
    q = definition(campaign.questionnaire_version)
    for item in q.items:
        if item.required and item.show_if is None:
            with_codes[item.code] = "4"
    with_codes["II.4.0"] = "2"
    with_codes["gender"] = "2"
    with_codes["comment"] = "Cán bộ nhiệt tình, chu đáo"
    with_codes.update(overrides)
    return with_codes


def _fill_xlsx(template: bytes, rows: list[dict[str, str]]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book["Phiếu"]
    header = [c.value for c in sheet[1]]
    for row in rows:
        sheet.append([row.get(h, "") or None for h in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fill_csv(template: bytes, rows: list[dict[str, str]], delimiter: str = ",") -> bytes:
    header = next(csv.reader(io.StringIO(template.decode("utf-8-sig"))))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return out.getvalue().encode("utf-8-sig")


def _upload(client: FlaskClient, body: bytes, filename: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/staff/campaigns/{CAMPAIGN}/import")
    return client.post(
        f"/staff/campaigns/{CAMPAIGN}/import",
        data={"csrf_token": token, "file": (io.BytesIO(body), filename)},
        content_type="multipart/form-data",
    )


def _count(route: str = "paper") -> int:
    return db.session.scalar(select(func.count(Submission.id)).filter_by(route=route)) or 0


def test_xlsx_template_filled_and_uploaded_stores_every_row_as_paper(
    app: Flask, officer: FlaskClient
) -> None:
    template = officer.get(f"/staff/campaigns/{CAMPAIGN}/import/template.xlsx")
    assert template.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(template.data))
    assert book.sheetnames == ["Phiếu", "Hướng dẫn", "Bộ phận một cửa"]
    header = [c.value for c in book["Phiếu"][1]]
    assert header[:3] == ["form_id", "desk", "submitted_on"] and "II.2.1" in header
    guide = {r[0]: r for r in book["Hướng dẫn"].iter_rows(min_row=2, values_only=True)}
    assert "9 = Không có ý kiến / Không biết (không hợp lệ)" in guide["II.2.1"][5]
    assert guide["II.4.1"][4] == "Chỉ trả lời khi câu II.4.0 có mã 1"
    with app.app_context():
        rows = [
            {"form_id": "1", "desk": DESK, "submitted_on": "2026-03-15", **_answers()},
            {
                "form_id": "2",
                "desk": DESK,
                "submitted_on": "16/03/2026",
                **_answers(
                    **{"II.2.1": "5", "II.4.0": "1", "II.4.1": "3", "II.4.2": "9", "II.4.3": "4"}
                ),
            },
            {
                "form_id": "3",
                "desk": DESK,
                "submitted_on": "2026-03-17",
                **_answers(**{"II.2.1": "9", "comment": ""}),
            },
        ]
    response = _upload(officer, _fill_xlsx(template.data, rows), "phieu-thang-3.xlsx")
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        subs = db.session.scalars(select(Submission).order_by(Submission.submitted_at)).all()
        assert [s.route for s in subs] == ["paper"] * 3
        # The form's date is a day in Vietnam (UTC+7): stored as the UTC instant it begins.
        assert [s.submitted_at for s in subs] == [
            dt.datetime(2026, 3, d) - dt.timedelta(hours=7) for d in (15, 16, 17)
        ]
        assert all(s.desk.code == DESK and s.import_batch_id is not None for s in subs)
        assert subs[1].answers["II.2.1"] == 5 and subs[1].answers["II.4.2"] == 9
        assert "comment" not in subs[2].answers
        [batch] = db.session.scalars(select(ImportBatch)).all()
        assert batch.row_count == 3 and batch.filename == "phieu-thang-3.xlsx"
        [event] = db.session.scalars(select(AuditEvent).filter_by(action="import.paper")).all()
        assert event.username == "an" and event.detail["rows"] == 3
    page = officer.get(f"/staff/campaigns/{CAMPAIGN}").get_data(as_text=True)
    assert "Phiếu giấy" in page


def test_csv_template_round_trip_with_semicolons_as_excel_writes_them(
    app: Flask, officer: FlaskClient
) -> None:
    template = officer.get(f"/staff/campaigns/{CAMPAIGN}/import/template.csv")
    assert template.data.startswith(b"\xef\xbb\xbf")
    with app.app_context():
        rows = [
            {"form_id": str(n), "desk": DESK, "submitted_on": "2026-05-02", **_answers()}
            for n in range(2)
        ]
    response = _upload(officer, _fill_csv(template.data, rows, ";"), "phieu.csv")
    assert response.status_code == 302
    with app.app_context():
        assert _count() == 2


def test_any_row_error_stores_nothing_and_reports_each_row_in_vietnamese(
    app: Flask, officer: FlaskClient
) -> None:
    template = officer.get(f"/staff/campaigns/{CAMPAIGN}/import/template.xlsx").data
    with app.app_context():
        rows = [
            {"form_id": "1", "desk": DESK, "submitted_on": "2026-03-15", **_answers()},
            {
                "form_id": "2",
                "desk": DESK,
                "submitted_on": "2026-03-15",
                **_answers(**{"II.2.1": "6"}),
            },
            {"form_id": "3", "desk": "HT-SXD-01", "submitted_on": "2026-03-15", **_answers()},
            {
                "form_id": "4",
                "desk": DESK,
                "submitted_on": "2025-12-31",
                **_answers(**{"I.1.1": ""}),
            },
            {"form_id": "4", "desk": DESK, "submitted_on": "hôm qua", **_answers()},
            {
                "form_id": "5",
                "desk": DESK,
                "submitted_on": "2026-03-15",
                **_answers(**{"II.4.1": "5"}),
            },
        ]
    response = _upload(officer, _fill_xlsx(template, rows), "loi.xlsx")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in (
        "Dòng 3, cột II.2.1: mã 6 không có trong thang đo (các mã hợp lệ: 1, 2, 3, 4, 5, 9)",
        "Dòng 4, cột desk: bộ phận một cửa “HT-SXD-01” không thuộc đợt khảo sát này",
        "Dòng 5, cột submitted_on: ngày 31/12/2025 nằm ngoài thời gian đợt khảo sát",
        "Dòng 5, cột I.1.1: câu bắt buộc nhưng ô để trống",
        "Dòng 6, cột form_id: số phiếu 4 trùng với dòng 5",
        "Dòng 6, cột submitted_on: ngày “hôm qua” không hợp lệ",
        "Dòng 7, cột II.4.1: chỉ trả lời khi câu II.4.0 có mã 1; hãy để trống ô này",
    ):
        assert message in page
    assert "Dòng 2" not in page
    with app.app_context():
        assert _count() == 0
        assert db.session.scalar(select(func.count(ImportBatch.id))) == 0
        [event] = db.session.scalars(
            select(AuditEvent).filter_by(action="import.paper.rejected")
        ).all()
        assert event.detail["errors"] == 7


def test_unknown_or_missing_columns_are_reported_before_rows(
    app: Flask, officer: FlaskClient
) -> None:
    body = b"desk,II.9.9\r\nHT-STP-01,4\r\n"
    page = _upload(officer, body, "cot.csv").get_data(as_text=True)
    assert "Dòng 1: cột “II.9.9” không có trong phiếu sipas-2023 2023.1." in page
    assert "Dòng 1: thiếu cột bắt buộc “submitted_on”." in page


def test_importing_the_same_file_twice_stores_nothing_new(app: Flask, officer: FlaskClient) -> None:
    template = officer.get(f"/staff/campaigns/{CAMPAIGN}/import/template.xlsx").data
    with app.app_context():
        rows = [{"form_id": "1", "desk": DESK, "submitted_on": "2026-03-15", **_answers()}]
    body = _fill_xlsx(template, rows)
    assert _upload(officer, body, "a.xlsx").status_code == 302
    again = _upload(officer, body, "a-copy.xlsx")
    assert again.status_code == 409
    assert "Tệp này đã được nhập vào đợt khảo sát" in again.get_data(as_text=True)
    with app.app_context():
        assert _count() == 1
        assert db.session.scalar(select(func.count(ImportBatch.id))) == 1


def test_rows_may_not_name_desks_outside_the_importers_subtree(app: Flask) -> None:
    with app.app_context():
        seed_province()
        campaign = db.session.scalar(select(Campaign).filter_by(code="SIPAS-2025"))
        stp = db.session.scalar(select(Agency).filter_by(code="HT-STP"))
        header = paper_import.template_columns(definition(campaign.questionnaire_version))
        rows = []
        for desk in ("HT-STP-01", "HT-SXD-01"):
            values = {"form_id": "1", "desk": desk, "submitted_on": "2025-06-01", **_answers()}
            rows.append([values.get(h, "") for h in header])
        out = io.StringIO()
        csv.writer(out).writerows([header, *rows])
        with pytest.raises(paper_import.ImportRejected) as rejected:
            paper_import.import_file(
                campaign, "x.csv", out.getvalue().encode(), visible_agency_ids={stp.id}
            )
        assert [e[:20] for e in rejected.value.errors] == ["Dòng 3, cột desk: bộ"]


def test_cli_imports_a_paper_file_and_refuses_it_twice(app: Flask, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        seed_province()
        template = paper_import.template_csv(
            definition(
                db.session.scalar(select(Campaign).filter_by(code=CAMPAIGN)).questionnaire_version
            )
        )
        rows = [
            {"form_id": str(n), "desk": DESK, "submitted_on": "2026-04-01", **_answers()}
            for n in range(3)
        ]
    path = tmp_path / "phieu.csv"
    path.write_bytes(_fill_csv(template, rows))
    result = runner.invoke(args=["import", "paper", CAMPAIGN, str(path)])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["import", "paper", CAMPAIGN, str(path)])
    assert again.exit_code != 0 and "đã được nhập" in again.output
    with app.app_context():
        assert _count() == 3
        uids = {s.uid for s in db.session.scalars(select(Submission))}
        assert len(uids) == 3
        [event] = db.session.scalars(select(AuditEvent).filter_by(action="import.paper")).all()
        assert event.username == "cli"
