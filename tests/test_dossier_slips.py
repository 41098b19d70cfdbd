"""Slips at the counter: printed to PDF, read back as a phone reads them, and answered once.

The PDFs are drawn by poppler (``pdftoppm``) and their QR codes read by zxing-cpp; the
links they carry are then opened as a citizen's phone would, through the test client.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, DossierCode, Submission
from survey_app.services import dossier_codes, slips
from tests.citizen_support import Survey, full_answers, running_survey, walk
from tests.pdf_support import page_images, pdf_fonts, pdf_text, qr_codes
from tests.staff_support import add_user, csrf_token, sign_in

CODE = re.compile(r"[23456789BCFGHJKLMNPQRTVX]{5}-[23456789BCFGHJKLMNPQRTVX]{5}")
REFS = [f"000.00.23.H23-251203-{n:04d}" for n in range(1, 11)]


@pytest.fixture
def survey(app: Flask) -> Survey:
    return running_survey(app)


@pytest.fixture
def officer(app: Flask, survey: Survey) -> FlaskClient:
    with app.app_context():
        add_user("canbo", "officer", "P-S")
    client = app.test_client()
    sign_in(client, "canbo")
    return client


def _post(client: FlaskClient, url: str, data: dict[str, object], **kwargs: object):  # type: ignore[no-untyped-def]
    """A staff form's POST, with the CSRF token a signed-in page carries."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/staff/")}, **kwargs)


def _codes(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(DossierCode.id))) or 0


def test_a_days_slips_print_eight_to_a_page_and_each_qr_opens_its_dossier_form(
    app: Flask, officer: FlaskClient, survey: Survey, tmp_path: Path
) -> None:
    pasted = "\n".join([*REFS[:6], "", f"  {REFS[0]}  "])
    # A spreadsheet's export: a heading, then the number in the first column.
    uploaded = "Số hồ sơ;Ngày nhận\n" + "\n".join(f"{ref};03/12/2026" for ref in REFS[6:])
    response = _post(
        officer,
        f"/staff/desks/{survey.desk_code}/slips",
        data={"dossiers": pasted, "list_file": (io.BytesIO(uploaded.encode()), "ds.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    assert re.fullmatch(
        r'attachment; filename="phieu-ma-danh-gia-D1-\d{4}-\d\d-\d\d\.pdf"',
        response.headers["Content-Disposition"],
    )
    pdf = response.data

    pages = page_images(pdf, tmp_path)
    decoded = [qr_codes(page) for page in pages]
    assert [len(found) for found in decoded] == [8, 2]  # ten dossiers, the repeated one once
    urls = sum(decoded, [])
    assert all(re.fullmatch(r"http://survey\.test/c/" + CODE.pattern, url) for url in urls)

    # What a person reads on each slip: the same code as the QR, the dossier, the desk,
    # the instruction, in Vietnamese as typed (the PDF's fonts carry every diacritic).
    text = pdf_text(pdf, tmp_path)
    printed = CODE.findall(text)
    assert sorted(printed) == sorted(url.rsplit("/", 1)[1] for url in urls)
    flat = " ".join(text.split())
    for ref in REFS:
        assert flat.count(ref) == 1, ref
    assert flat.count("SỞ TƯ PHÁP") == 10
    assert flat.count("Quầy Sở Tư pháp") == 10
    assert "Quét mã QR, hoặc vào survey.test và nhập mã, để đánh giá việc giải quyết hồ sơ" in flat
    assert "Dùng được đến hết ngày" in flat
    fonts = pdf_fonts(pdf, tmp_path)
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert {row[0].split("+", 1)[1] for row in rows} == {
        "Liberation-Sans",
        "Liberation-Sans-Bold",
        "DejaVu-Sans-Mono-Bold",
    }
    assert all(row[-5] == "yes" for row in rows)  # every font embedded (a subset)

    # Codes are matched to dossiers in the order listed; each QR opens its dossier's form.
    with app.app_context():
        claims = [dossier_codes.verify(url.rsplit("/", 1)[1]) for url in urls]
        assert [c.code for c in claims] == [dossier_codes.stored_hash(ref) for ref in REFS]
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith("dossier_code"))
        ).all()
    assert [(e.action, e.target, e.detail) for e in events] == [
        ("dossier_code.issue_slips", "D1", {"count": 10})
    ]
    phone = app.test_client()
    path = urls[3].removeprefix("http://survey.test")
    stored, last = walk(phone, path, full_answers())
    assert stored.status_code == 303
    assert last.action == f"{path}/submit"
    with app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        assert submission.route == "dossier"
        assert submission.dossier_code == dossier_codes.stored_hash(REFS[3])
    again = app.test_client().get(path)
    assert again.status_code == 409


def test_a_list_with_a_bad_line_prints_nothing_and_names_the_line(
    app: Flask, officer: FlaskClient, survey: Survey
) -> None:
    response = _post(
        officer,
        f"/staff/desks/{survey.desk_code}/slips",
        data={"dossiers": f"{REFS[0]}\n{'9' * 65}\nHS-\x1b-3"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Dòng 2: số hồ sơ dài quá 64 ký tự." in page
    assert "Dòng 3: số hồ sơ có ký tự không được phép (U+001B)." in page
    assert REFS[0] in page  # the list stays in the box to be corrected
    assert _codes(app) == 0


def test_an_empty_list_a_list_too_long_or_a_file_not_utf8_is_refused(
    app: Flask, officer: FlaskClient, survey: Survey
) -> None:
    url = f"/staff/desks/{survey.desk_code}/slips"
    empty = _post(officer, url, data={"dossiers": "\n  \n"})
    assert "Danh sách chưa có số hồ sơ nào" in empty.get_data(as_text=True)
    many = "\n".join(f"HS-{n}" for n in range(slips.MAX_BATCH + 1))
    too_long = _post(officer, url, data={"dossiers": many})
    assert f"danh sách có {slips.MAX_BATCH + 1} hồ sơ" in too_long.get_data(as_text=True)
    # "HS-Đà-1" as Windows-1258 writes it: not UTF-8.
    latin1 = _post(
        officer,
        url,
        data={"dossiers": "", "list_file": (io.BytesIO(b"HS-\xd0\xe0-1\n"), "ds.txt")},
        content_type="multipart/form-data",
    )
    assert "Không đọc được tệp danh sách" in latin1.get_data(as_text=True)
    assert {empty.status_code, too_long.status_code, latin1.status_code} == {400}
    assert _codes(app) == 0


def test_the_desk_page_shows_the_slip_with_the_link_as_text_only(
    app: Flask, officer: FlaskClient, survey: Survey, tmp_path: Path
) -> None:
    response = _post(
        officer, f"/staff/desks/{survey.desk_code}/dossier-codes", data={"dossier_ref": REFS[0]}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    [code] = set(CODE.findall(page)) - {"BKQ7M-X4T2J"}
    url = f"http://survey.test/c/{code}"
    assert f'<code class="mono">{url}</code>' in page
    assert f'href="{url}"' not in page and f'href="/c/{code}"' not in page
    assert "<svg" in page  # the QR, drawn in the page
    assert REFS[0] not in url

    # The slip of that code as a PDF: the same code, no new one.
    pdf = _post(
        officer,
        f"/staff/desks/{survey.desk_code}/slip.pdf",
        data={"code": code, "dossier_ref": REFS[0]},
    )
    assert pdf.mimetype == "application/pdf"
    [png] = page_images(pdf.data, tmp_path)
    assert qr_codes(png) == [url]
    assert _codes(app) == 1


def test_a_slip_is_printed_again_only_for_its_own_dossier_and_desk(
    app: Flask, officer: FlaskClient, survey: Survey
) -> None:
    with app.app_context():
        code = dossier_codes.issue(survey.desk_code, REFS[0])
        db.session.commit()
    wrong = _post(
        officer,
        f"/staff/desks/{survey.desk_code}/slip.pdf",
        data={"code": code, "dossier_ref": REFS[1]},
    )
    assert wrong.status_code == 303
    assert wrong.headers["Location"] == f"/staff/desks/{survey.desk_code}"
    assert "Mã khảo sát không hợp lệ." in officer.get(wrong.headers["Location"]).get_data(
        as_text=True
    )


def test_a_viewer_cannot_issue_slips(app: Flask, survey: Survey) -> None:
    with app.app_context():
        add_user("xem", "viewer", "P-S")
    client = app.test_client()
    sign_in(client, "xem")
    response = _post(client, f"/staff/desks/{survey.desk_code}/slips", data={"dossiers": REFS[0]})
    assert response.status_code == 403
    assert _codes(app) == 0


def test_the_cli_writes_a_days_slips(app: Flask, survey: Survey, tmp_path: Path) -> None:
    listing = tmp_path / "ds.txt"
    listing.write_text("\n".join(REFS[:3]), encoding="utf-8")
    out = tmp_path / "slips.pdf"
    result = app.test_cli_runner().invoke(
        args=["dossier-code", "slips", survey.desk_code, str(listing), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    [png] = page_images(out.read_bytes(), tmp_path)
    assert len(qr_codes(png)) == 3
    assert _codes(app) == 3
