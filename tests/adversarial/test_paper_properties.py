"""Property tests of the paper import: any file is stored whole or not at all, never a 500.

Cells are drawn from what people and attackers put in spreadsheets: control characters,
formulas, huge and odd numbers, dates in any form, empty cells; files are also random
bytes named .xlsx or .csv, and valid files cut short.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Campaign, ImportBatch, PaperForm, Submission
from survey_app.services import paper_import
from survey_app.services.questionnaires import definition
from tests.staff_support import add_user, csrf_token, login, seed_province

CAMPAIGN = "STP-2026"
DESK = "HT-STP-01"

_cells = st.one_of(
    st.sampled_from(["4", "5", "9", "1;3", "", " 4 ", "=1+1", "@SUM(A1)", "-4", "+4", "4.0"]),
    st.text(max_size=12),
    st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=6),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["2026-03-15", "15/03/2026", "2026-02-30", "31/12/9999", "0000-01-01"]),
)


@pytest.fixture
def officer(app: Flask) -> tuple[Flask, FlaskClient, list[str], dict[str, str]]:
    with app.app_context():
        seed_province()
        add_user("an", "officer", "HT-STP")
        campaign = db.session.scalar(select(Campaign).filter_by(code=CAMPAIGN))
        questionnaire = definition(campaign.questionnaire_version)
        header = paper_import.template_columns(questionnaire)
        valid = {i.code: "4" for i in questionnaire.items if i.required and i.show_if is None}
        valid.update({"II.4.0": "2", "gender": "2", "desk": DESK, "submitted_on": "2026-03-15"})
    client = app.test_client()
    login(client, "an")
    return app, client, header, valid


def _counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(  # type: ignore[return-value]
            db.session.scalar(select(func.count(model.id))) or 0
            for model in (Submission, ImportBatch, PaperForm)
        )


def _upload(client: FlaskClient, body: bytes, name: str) -> int:
    token = csrf_token(client, f"/staff/campaigns/{CAMPAIGN}/import")
    response = client.post(
        f"/staff/campaigns/{CAMPAIGN}/import",
        data={"csrf_token": token, "file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )
    return response.status_code


def _file(header: list[str], rows: list[dict[str, str]], xlsx: bool) -> bytes:
    if xlsx:
        book = openpyxl.Workbook()
        book.active.title = "Phiếu"
        book.active.append(header)
        for row in rows:
            book.active.append([row.get(h, "") or None for h in header])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return text.getvalue().encode("utf-8", "surrogatepass")


_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_SETTINGS
@given(
    data=st.lists(
        st.dictionaries(
            st.sampled_from(
                ["form_id", "submitted_on", "I.1.1", "II.2.1", "comment", "gender", "desk"]
            ),
            _cells,
            max_size=4,
        ),
        min_size=1,
        max_size=4,
    ),
    xlsx=st.booleans(),
    salt=st.integers(0, 10**9),
)
def test_any_paper_file_is_stored_whole_or_not_at_all(officer, data, xlsx, salt) -> None:  # type: ignore[no-untyped-def]
    app, client, header, valid = officer
    rows = [{**valid, "form_id": f"{salt}-{n}", **changes} for n, changes in enumerate(data)]
    try:
        body = _file(header, rows, xlsx)
    except (ValueError, UnicodeEncodeError, openpyxl.utils.exceptions.IllegalCharacterError):
        event("not writable")
        return  # not a file a spreadsheet program can write
    before = _counts(app)
    status = _upload(client, body, "p.xlsx" if xlsx else "p.csv")
    after = _counts(app)
    event(f"status {status}")
    assert status in (302, 400, 409, 422), status
    if status == 302:
        assert after == (before[0] + len(rows), before[1] + 1, before[2] + len(rows))
    else:
        assert after == before


@_SETTINGS
@given(body=st.binary(max_size=3000), xlsx=st.booleans(), cut=st.integers(0, 100_000))
def test_random_bytes_and_cut_files_are_refused_cleanly(officer, body, xlsx, cut) -> None:  # type: ignore[no-untyped-def]
    app, client, header, valid = officer
    if cut % 2:
        whole = _file(header, [{**valid, "form_id": "x"}], xlsx)
        body = whole[: cut % len(whole)] + body[:50]
    before = _counts(app)
    status = _upload(client, body, "p.xlsx" if xlsx else "p.csv")
    assert status in (302, 400, 409, 422), status
    if status != 302:
        assert _counts(app) == before
