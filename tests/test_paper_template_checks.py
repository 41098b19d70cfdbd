"""The XLSX paper template checks cells as they are typed: a drop-down of the codes of each
single-choice column and of the desks, number ranges, text lengths, and an input message on
every column; read back from the file as Excel would."""

from __future__ import annotations

import io

import openpyxl
from flask import Flask
from flask.testing import FlaskClient
from openpyxl.worksheet.datavalidation import DataValidation

from scoring.questionnaire import parse_questionnaire
from survey_app.services import paper_import
from tests.citizen_support import SMALL
from tests.staff_support import add_user, seed_province, sign_in


def _checks(body: bytes) -> dict[str, DataValidation]:
    """Header of the "Phiếu" sheet -> the data validation on its column."""
    sheet = openpyxl.load_workbook(io.BytesIO(body))["Phiếu"]
    header = {cell.column_letter: cell.value for cell in sheet[1]}
    found = {}
    for check in sheet.data_validations.dataValidation:
        ranges = str(check.sqref).split()
        assert len(ranges) == 1
        letter = ranges[0].split(":")[0].rstrip("0123456789")
        assert ranges[0] == f"{letter}2:{letter}{1 + paper_import.MAX_ROWS}"
        found[header[letter]] = check
    return found


def test_each_kind_of_column_is_checked_as_it_is_typed() -> None:
    q = parse_questionnaire(SMALL, "small.yaml")
    checks = _checks(paper_import.template_xlsx(q, [("D1", "Quầy một"), ("D2", "Quầy hai")]))
    assert list(checks) == paper_import.template_columns(q)
    # Single choice: a drop-down of its codes, invalid ones (9 = không biết) included.
    a = checks["a"]
    assert (a.type, a.formula1, a.showErrorMessage) == ("list", '"1,2,9"', True)
    assert a.promptTitle == "a" and a.prompt.startswith("Hài lòng không? — 1 = Có; 2 = Không")
    assert a.error.startswith("Chỉ nhận: ")
    # Multiple choice (1;3): no list, only what to write.
    m = checks["m"]
    assert m.type is None and not m.showErrorMessage and "1;3" in m.prompt
    # Numbers: whole or decimal, within the item's range.
    visits, hours = checks["visits"], checks["hours"]
    assert (visits.type, visits.operator, visits.formula1, visits.formula2) == (
        "whole",
        "between",
        "0",
        "20",
    )
    assert (hours.type, hours.operator, hours.formula1) == ("decimal", "lessThanOrEqual", "100")
    t = checks["t"]
    assert (t.type, t.operator, t.formula1) == ("textLength", "lessThanOrEqual", "10")
    # The desk: a drop-down of the desk sheet's codes.
    desk = checks["desk"]
    assert desk.type == "list" and desk.formula1 == "'Bộ phận một cửa'!$A$2:$A$3"
    assert checks["form_id"].type is None and "Số phiếu" in checks["form_id"].prompt
    assert all(c.allow_blank for c in checks.values())
    assert all(len(c.prompt) <= 255 and len(c.promptTitle) <= 32 for c in checks.values())


def test_the_downloaded_template_of_a_campaign_has_its_desks_and_sipas_codes(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        seed_province()
        add_user("an", "officer", "HT-STP")
    sign_in(client, "an")
    response = client.get("/staff/campaigns/STP-2026/import/template.xlsx")
    assert response.status_code == 200
    checks = _checks(response.data)
    assert checks["I.1.1"].type == "list" and checks["I.1.1"].formula1.startswith('"1,2,3,4,5')
    assert checks["gender"].formula1 == '"1,2"'
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    desks = [row[0] for row in book["Bộ phận một cửa"].iter_rows(min_row=2, values_only=True)]
    assert checks["desk"].formula1 == f"'Bộ phận một cửa'!$A$2:$A${len(desks) + 1}"
    assert desks == ["HT-STP-01"]
