"""Hostile paper files: refused while streaming, within budgets, with a Vietnamese reason.

Each case is a class of input (a million rows in a tiny XLSX, a declared or real 16,384-
column sheet, a zip bomb, too many members, XML entities, broken packages, enormous CSV
lines), refused by ``paper_files.read_rows`` and answered 400 by the import page on both
databases, with nothing stored.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import ImportBatch, Submission
from survey_app.services.paper_files import Budgets, FileRefused, read_rows
from tests.adversarial.paper_files_support import SHEET, numbered_rows, sheet_xml, xlsx_with
from tests.staff_support import add_user, csrf_token, login, seed_province

CAMPAIGN = "STP-2026"


def _refused(filename: str, body: bytes, budgets: Budgets | None = None) -> str:
    with pytest.raises(FileRefused) as refused:
        read_rows(filename, body, budgets)
    return str(refused.value)


def test_a_tiny_xlsx_with_two_hundred_thousand_rows_is_refused_early() -> None:
    body = xlsx_with({SHEET: sheet_xml(numbered_rows(200_000))})
    assert len(body) < 2_000_000
    # Early means within a memory budget (the rows past the limit are never held), not a
    # clock: a slow machine takes longer, and no test fails for that.
    tracemalloc.start()
    try:
        message = _refused("a.xlsx", body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16_000_000, peak  # measured: 7 MB; reading all 200,000 rows takes 30 MB
    assert message.startswith("Tệp có quá nhiều dòng: tối đa 20.000 dòng phiếu")


def test_the_declared_dimension_is_ignored_and_costs_nothing() -> None:
    body = xlsx_with({SHEET: sheet_xml(numbered_rows(3), dimension="A1:XFD1048576")})
    tracemalloc.start()
    try:
        table = read_rows("a.xlsx", body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert table == [["1"], ["2"], ["3"]]
    assert peak < 20_000_000


def test_a_value_in_the_last_column_is_refused_as_too_many_columns() -> None:
    rows = '<row r="1"><c r="XFD1" t="inlineStr"><is><t>x</t></is></c></row>'
    assert _refused("a.xlsx", xlsx_with({SHEET: sheet_xml(rows)})) == (
        "Dòng 1 có quá nhiều cột: tối đa 300 cột mỗi dòng."
    )


def test_a_row_of_a_million_cells_is_refused_before_it_is_held() -> None:
    cells = "".join(f'<c t="inlineStr"><is><t>{n}</t></is></c>' for n in range(400))
    message = _refused("a.xlsx", xlsx_with({SHEET: sheet_xml(f"<row>{cells}</row>")}))
    assert "quá nhiều cột" in message


def test_empty_styled_cells_far_right_are_ignored() -> None:
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="XFD1" s="0"/></row>'
    assert read_rows("a.xlsx", xlsx_with({SHEET: sheet_xml(rows)})) == [["a"]]


def test_a_value_on_the_last_row_is_refused_without_a_million_empty_rows() -> None:
    rows = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    message = _refused("a.xlsx", xlsx_with({SHEET: sheet_xml(numbered_rows(1) + rows)}))
    assert message.startswith("Tệp có dữ liệu ở dòng 1.048.576")


def test_a_zip_bomb_member_is_refused_by_its_packing_ratio() -> None:
    bomb = sheet_xml("<row/>" * 5_000_000)
    message = _refused("a.xlsx", xlsx_with({SHEET: bomb}))
    assert "nén bất thường" in message


def test_the_unpacked_total_is_a_budget() -> None:
    body = xlsx_with({SHEET: sheet_xml(numbered_rows(20_000))})
    message = _refused("a.xlsx", body, Budgets(unpacked_bytes=500_000))
    assert message.startswith("Tệp Excel khi giải nén vượt quá 0.5 MB")


def test_too_many_zip_members_are_refused_before_the_member_list_is_read() -> None:
    body = xlsx_with({}, extra=[(f"x/{n}.bin", b"") for n in range(500)])
    assert "quá nhiều phần (509; tối đa 200)" in _refused("a.xlsx", body)


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
    'uniqueCount="1"><si><t>&lol3;</t></si></sst>'
)
EXTERNAL = (
    '<?xml version="1.0"?><!doctype w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    "</sheetData></worksheet>"
)


@pytest.mark.parametrize(
    ("member", "xml"),
    [("xl/sharedStrings.xml", BILLION_LAUGHS), (SHEET, EXTERNAL)],
    ids=["entity-expansion", "external-entity"],
)
def test_xml_entities_and_doctypes_are_refused(member: str, xml: str) -> None:
    body = xlsx_with({member: xml.encode()})
    assert "DOCTYPE/ENTITY" in _refused("a.xlsx", body)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


BROKEN = {
    "not-a-zip": b"desk,submitted_on\r\nHT,2026-01-01\r\n",
    "empty": b"",
    "old-xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
    "truncated": xlsx_with({})[:700],
    "zip-without-workbook": _zip({"hello.txt": b"hi"}),
    "bad-xml-sheet": xlsx_with({SHEET: b"<worksheet><sheetData><row>"}),
    "bad-row-number": xlsx_with({SHEET: sheet_xml('<row r="x"><c r="A1"><v>1</v></c></row>')}),
    "bad-shared-string-index": xlsx_with({SHEET: sheet_xml('<row><c t="s"><v>99</v></c></row>')}),
    "corrupt-member": xlsx_with({}).replace(b"worksheet", b"workshXXt", 1),
}


@pytest.mark.parametrize("body", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_xlsx_is_a_clear_refusal(body: bytes) -> None:
    message = _refused("a.xlsx", body)
    assert message.startswith("Tệp")


def test_csv_budgets_rows_columns_and_line_length() -> None:
    rows = b"form_id,desk\r\n" + b"1,HT\r\n" * 25_000
    assert _refused("a.csv", rows).startswith("Tệp có quá nhiều dòng: tối đa 20.000")
    wide = b"a" + b",x" * 400 + b"\r\n"
    assert _refused("a.csv", wide) == "Dòng 1 có quá nhiều cột: tối đa 300 cột mỗi dòng."
    assert "dài hơn" in _refused("a.csv", b"a" * 1_000_000)
    assert "ô quá dài" in _refused("a.csv", b'"' + b"a" * 200_000 + b'"\r\n')
    assert "quá nhiều dòng" in _refused("a.csv", b"\n" * 2_000_000)


# --------------------------------------------------------------------------- the import page


@pytest.fixture
def officer(app: Flask, client: FlaskClient) -> FlaskClient:
    with app.app_context():
        seed_province()
        add_user("an", "officer", "HT-STP")
    login(client, "an")
    return client


def _upload(client: FlaskClient, body: bytes, filename: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/staff/campaigns/{CAMPAIGN}/import")
    return client.post(
        f"/staff/campaigns/{CAMPAIGN}/import",
        data={"csrf_token": token, "file": (io.BytesIO(body), filename)},
        content_type="multipart/form-data",
    )


HOSTILE = {
    **{f"{name}.xlsx": body for name, body in BROKEN.items()},
    "rows.xlsx": xlsx_with({SHEET: sheet_xml(numbered_rows(50_000))}),
    "entities.xlsx": xlsx_with({"xl/sharedStrings.xml": BILLION_LAUGHS.encode()}),
    "nul.csv": b"form_id,desk\r\n\x00" * 3,
    "latin1.csv": "số".encode("latin-1", "replace") + b"\xff\r\n",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_the_import_page_answers_a_hostile_file_with_400_and_stores_nothing(
    app: Flask, officer: FlaskClient, name: str
) -> None:
    response = _upload(officer, HOSTILE[name], name)
    assert response.status_code in (400, 422), response.status_code
    assert "Tệp" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Submission.id))) == 0
        assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


def test_the_row_budget_is_a_setting(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PAPER_MAX_ROWS=2)
    with app.app_context():
        db.create_all()
        seed_province()
        add_user("an", "officer", "HT-STP")
    client = app.test_client()
    login(client, "an")
    body = b"form_id,desk,submitted_on\r\n1,HT-STP-01,2026-03-15\r\n" * 1
    body += b"2,HT-STP-01,2026-03-15\r\n3,HT-STP-01,2026-03-15\r\n"
    response = _upload(client, body, "a.csv")
    assert response.status_code == 400
    assert "tối đa 2 dòng phiếu" in response.get_data(as_text=True)
