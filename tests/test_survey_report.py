"""The survey report (báo cáo kết quả khảo sát): read back from the DOCX (python-docx) and
the PDF (poppler's pdftotext), its figures equal to scoring's and to the dashboard's, and
the dashboard's access rules on its downloads and on the command line."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from survey_app.extensions import db
from survey_app.models import AuditEvent
from survey_app.services.report.comments import MASK, mask, quoted_comments
from tests.dashboard_setup import login, province, scoring_frame

URL = "/staff/campaigns/SIPAS-2026"
PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(
    PDFTOTEXT is None, reason="pdftotext (Debian poppler-utils, `make debian`) is not installed"
)
HEADINGS = (
    "I. MỤC ĐÍCH VÀ PHƯƠNG PHÁP",
    "II. MẪU KHẢO SÁT",
    "III. CHỈ SỐ SIPAS",
    "IV. CÁC TIÊU CHÍ THẤP ĐIỂM",
    "V. THAY ĐỔI SO VỚI KỲ TRƯỚC",
    "VI. SO SÁNH CÁC CƠ QUAN VÀ QUẦY",
    "VII. THEO NHÓM NGƯỜI TRẢ LỜI",
    "VIII. Ý KIẾN GÓP Ý CỦA NGƯỜI DÂN",
    "PHỤ LỤC 1. CHỈ SỐ THEO CƠ QUAN VÀ TIÊU CHÍ",
    "PHỤ LỤC 2. CHỈ SỐ THEO QUẦY VÀ TIÊU CHÍ",
    "PHỤ LỤC 3. BẢNG ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH (PAR INDEX)",
)


def percent(value: float) -> str:
    """A share as the dashboard prints it: 0.76871 -> 76,87 (written out here, not the app's)."""
    return f"{value * 100:.2f}".replace(".", ",")


def interval(row: pd.Series) -> str:
    return f"{percent(row['ci_low'])} – {percent(row['ci_high'])}"


@pytest.fixture
def loaded(app: Flask, client: FlaskClient) -> FlaskClient:
    province(app, 300, previous=200)
    return client


def docx_text(body: bytes) -> tuple[list[str], str, list[list[str]]]:
    """Top-level headings, all paragraph text, and every table row (cell texts) of a .docx."""
    doc = Document(io.BytesIO(body))
    headings = [
        p.text for p in doc.paragraphs if p.style is not None and p.style.name == "Heading 1"
    ]
    text = "\n".join(p.text for p in doc.paragraphs)
    rows = [[c.text for c in row.cells] for table in doc.tables for row in table.rows]
    return headings, text, rows


def docx_masthead(body: bytes) -> str:
    """The text of the header table (issuing body, motto, date line)."""
    cells = Document(io.BytesIO(body)).tables[0].rows[0].cells
    return "\n".join(cell.text for cell in cells)


def pdf_text(body: bytes, tmp_path: Path) -> str:
    assert PDFTOTEXT is not None
    path = tmp_path / "report.pdf"
    path.write_bytes(body)
    done = subprocess.run(
        [PDFTOTEXT, "-layout", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        check=True,
    )
    return done.stdout.decode("utf-8")


def scoring_table(app: Flask, agency: str | None = None) -> pd.DataFrame:
    """Scoring's index table of the campaign (or of one agency's domain), from a frame built
    independently of the app's loader."""
    frame, q = scoring_frame(app)
    design = SurveyDesign.from_dataframe(frame)
    if agency is None:
        return compute_index_tree(q, design)
    table = compute_index_tree(q, design, ["agency"])
    return table[table["level"] == agency]


def lowest_criterion(table: pd.DataFrame) -> pd.Series:
    return table[table["depth"] == 2].sort_values("estimate").iloc[0]


def test_docx_headings_and_figures_are_scorings_as_the_dashboard_prints_them(
    app: Flask, loaded: FlaskClient
) -> None:
    table = scoring_table(app)
    root = table[table["node"] == "SIPAS"].iloc[0]
    weak = lowest_criterion(table)
    login(loaded, "admin")
    page = loaded.get(f"{URL}/dashboard").text
    response = loaded.get(f"{URL}/report.docx")
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    assert "bao-cao-SIPAS-2026-all.docx" in response.headers["Content-Disposition"]
    headings, text, rows = docx_text(response.data)
    assert headings == list(HEADINGS)
    masthead = docx_masthead(response.data)
    assert "TỈNH HÀ TĨNH" in masthead and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in masthead
    assert "Độc lập - Tự do - Hạnh phúc" in masthead and "Hà Tĩnh, ngày " in masthead
    # The overall index with its interval and n, as on the dashboard.
    overall = f"{percent(root['estimate'])}%, khoảng tin cậy {interval(root)}%"
    assert overall in text
    assert f"n = {int(root['n'])} phiếu" in text
    assert f"{percent(root['estimate'])}%" in page and f"{interval(root)}%" in page
    # The weakest criterion: its row in the weak-criteria table (estimate, CI, n).
    weak_rows = [r for r in rows if r[0].startswith(f"{weak['node']} ")]
    assert [percent(weak["estimate"]), interval(weak), str(int(weak["n"]))] in [
        [r[1], r[2].removesuffix(" ⚠"), r[3]] for r in weak_rows
    ]
    assert f">{weak['node']} " in page and interval(weak) in page
    # Sample counts and the settings line.
    assert ["Tổng số", "300", "100,0"] in rows
    assert "Trọng số: không (mỗi phiếu như nhau); KTC 95% logit" in text
    assert "Khoảng tin cậy 95% của mỗi chỉ số là khoảng logit" in text


@needs_pdftotext
def test_pdf_text_holds_the_dashboards_figures(
    app: Flask, loaded: FlaskClient, tmp_path: Path
) -> None:
    table = scoring_table(app)
    root = table[table["node"] == "SIPAS"].iloc[0]
    weak = lowest_criterion(table)
    login(loaded, "viewer")
    page = loaded.get(f"{URL}/dashboard").text
    response = loaded.get(f"{URL}/report.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = pdf_text(response.data, tmp_path)
    for figure in (f"{percent(root['estimate'])}%", f"{interval(root)}%"):
        assert figure in text and figure in page
    assert re.search(
        rf"{re.escape(str(weak['node']))} .*{percent(weak['estimate'])}\s+{interval(weak)}", text
    )
    assert interval(weak) in page
    for heading in ("BÁO CÁO", "Độc lập - Tự do - Hạnh phúc", "III. CHỈ SỐ SIPAS", "PHỤ LỤC 3"):
        assert heading in text
    # The Vietnamese letters survive the fonts (no missing glyph or decomposed accent), set
    # in Liberation Serif (Times New Roman's metrics) as the CSS declares.
    assert "Kết quả khảo sát sự hài lòng của người dân" in text
    pdffonts = str(Path(PDFTOTEXT).with_name("pdffonts"))  # the same poppler-utils
    path = tmp_path / "report.pdf"
    fonts = subprocess.run([pdffonts, str(path)], capture_output=True, check=True).stdout
    assert b"Liberation-Serif" in fonts


@needs_pdftotext
def test_officer_report_covers_the_own_agency_and_agrees_with_the_officers_dashboard(
    app: Flask, loaded: FlaskClient, tmp_path: Path
) -> None:
    stp = scoring_table(app, "HT-STP")
    root = stp[stp["node"] == "SIPAS"].iloc[0]
    login(loaded, "stp")
    page = loaded.get(f"{URL}/dashboard").text
    assert f"{percent(root['estimate'])}%" in page
    for query in ("", "?agency=HT-STP"):
        response = loaded.get(f"{URL}/report.pdf{query}")
        assert response.status_code == 200
        text = pdf_text(response.data, tmp_path)
        assert f"{percent(root['estimate'])}%" in text
        assert f"{interval(root)}%" in text
        assert "SỞ TƯ PHÁP" in text and "Quầy STP-01" in text
        assert "Quầy SXD-01" not in text and "Sở Xây dựng" not in text


def test_officer_cannot_get_another_agencys_report(app: Flask, loaded: FlaskClient) -> None:
    login(loaded, "stp")
    for fmt in ("pdf", "docx"):
        for agency in ("HT-SXD", "HT", "NO-SUCH"):
            response = loaded.get(f"{URL}/report.{fmt}?agency={agency}")
            assert response.status_code == 404
            assert f"Không có cơ quan mã “{agency}” trong phạm vi bạn được xem." in response.text
    login(loaded, "admin")
    assert loaded.get(f"{URL}/report.docx?agency=HT-SXD").status_code == 200


def test_anonymous_and_unknown_campaign_and_format(app: Flask, loaded: FlaskClient) -> None:
    response = loaded.get(f"{URL}/report.pdf")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    login(loaded, "admin")
    assert loaded.get("/staff/campaigns/NOPE/report.pdf").status_code == 404
    assert loaded.get(f"{URL}/report.odt").status_code == 404


def test_bad_period_is_refused_in_vietnamese_and_a_good_one_is_used(
    app: Flask, loaded: FlaskClient
) -> None:
    login(loaded, "admin")
    response = loaded.get(f"{URL}/report.docx?period=2026-Q9")
    assert response.status_code == 404
    assert "Kỳ “2026-Q9” không có trong đợt khảo sát SIPAS-2026" in response.text
    assert "2026-Q1, 2026-Q2, 2026-01" in response.text
    response = loaded.get(f"{URL}/report.docx?period=2026-Q2")
    assert response.status_code == 200
    _, text, _ = docx_text(response.data)
    assert "Quý 2/2026" in text and "So với Quý 1/2026" in text


def test_dashboard_names_the_valid_periods_for_a_bad_one(app: Flask, loaded: FlaskClient) -> None:
    login(loaded, "viewer")
    response = loaded.get(f"{URL}/dashboard?period=2030-Q1")
    assert response.status_code == 404
    assert "Kỳ “2030-Q1” không có trong đợt khảo sát SIPAS-2026" in response.text


def test_scope_without_responses_gives_a_report_that_says_so(
    app: Flask, loaded: FlaskClient, tmp_path: Path
) -> None:
    from survey_app.services import organisation

    with app.app_context():
        organisation.add_agency("HT-SYT", "Sở Y tế", "department", "HT")
        db.session.commit()
    login(loaded, "admin")
    response = loaded.get(f"{URL}/report.docx?agency=HT-SYT")
    assert response.status_code == 200
    headings, text, _ = docx_text(response.data)
    assert headings == list(HEADINGS)
    assert "SỞ Y TẾ" in docx_masthead(response.data)
    assert "Chưa có phiếu nào trong kỳ này." in text
    if PDFTOTEXT is not None:
        pdf = loaded.get(f"{URL}/report.pdf?agency=HT-SYT")
        assert pdf.status_code == 200
        assert "Chưa có phiếu nào trong kỳ này." in pdf_text(pdf.data, tmp_path)


def test_download_is_audited(app: Flask, loaded: FlaskClient) -> None:
    login(loaded, "stp")
    assert loaded.get(f"{URL}/report.docx?period=2026-Q1").status_code == 200
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export.report")
        ).one()
        assert event.target == "SIPAS-2026"
        assert event.detail["period"] == "2026-Q1" and event.detail["agencies"] == ["HT-STP"]


def test_dashboard_links_to_the_report_of_its_period(app: Flask, loaded: FlaskClient) -> None:
    login(loaded, "viewer")
    page = loaded.get(f"{URL}/dashboard?period=2026-Q1").text
    assert f'href="{URL}/report.pdf?period=2026-Q1"' in page
    assert f'href="{URL}/report.docx?period=2026-Q1"' in page


def test_cli_writes_the_report_and_refuses_bad_codes_in_vietnamese(
    app: Flask, loaded: FlaskClient, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    table = scoring_table(app, "HT-SXD")
    root = table[table["node"] == "SIPAS"].iloc[0]
    out = tmp_path / "bao-cao.docx"
    args = ["report", "SIPAS-2026", "--agency", "HT-SXD", "--format", "docx", "-o", str(out)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    _, text, _ = docx_text(out.read_bytes())
    assert f"{percent(root['estimate'])}%, khoảng tin cậy {interval(root)}%" in text
    bad = tmp_path / "x.pdf"
    for extra, message in (
        (["--period", "2027"], "Kỳ “2027” không có trong đợt khảo sát SIPAS-2026"),
        (["--agency", "HT-XYZ"], "Không có cơ quan mã “HT-XYZ”"),
    ):
        result = runner.invoke(
            args=["report", "SIPAS-2026", *extra, "--format", "pdf", "-o", str(bad)]
        )
        assert result.exit_code == 1
        assert message in result.output
        assert not bad.exists()
    result = runner.invoke(args=["report", "NOPE", "--format", "pdf", "-o", str(bad)])
    assert result.exit_code == 1 and "Không có đợt khảo sát mã 'NOPE'" in result.output


def test_report_comments_carry_no_desk_or_time(app: Flask, loaded: FlaskClient) -> None:
    login(loaded, "admin")
    _, text, _ = docx_text(loaded.get(f"{URL}/report.docx").data)
    section = text[text.index("VIII. Ý KIẾN GÓP Ý") :]
    section = section[: section.index("Nơi nhận") if "Nơi nhận" in section else None]
    assert "Quầy" not in section and "STP-0" not in section
    assert not re.search(r"\d{1,2}:\d{2}", section)


# ------------------------------------------------------------------ comment rules (no app)
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        (
            "Chị Lan ở quầy số 3 rất nhiệt tình",
            f"Chị {MASK} ở quầy {MASK} rất nhiệt tình",
        ),
        ("Lúc 9h30 ngày 12/3 tôi phải chờ lâu", f"Lúc {MASK} ngày {MASK} tôi phải chờ lâu"),
        ("Gọi cho tôi: 0912 345 678 hoặc a.b@mail.vn", f"Gọi cho tôi: {MASK} hoặc {MASK}"),
        ("Tôi là Nguyễn Văn An, hồ sơ 000123456789", f"Tôi là {MASK}, hồ sơ {MASK}"),
        ("anh ấy rất tốt, 2 ngày là xong", "anh ấy rất tốt, 2 ngày là xong"),
        (
            "Ở quầy STP-01 phải chờ, Bàn A2 thì nhanh",
            f"Ở quầy {MASK} phải chờ, Bàn {MASK} thì nhanh",
        ),
        ("Bộ phận Tiếp nhận Hộ tịch làm chậm", f"Bộ phận {MASK} làm chậm"),
    ],
)
def test_comment_masks_what_identifies_a_person_desk_or_moment(comment: str, expected: str) -> None:
    assert mask(comment, ["STP-01", "Tiếp nhận Hộ tịch"]) == expected


def test_comments_are_withheld_in_a_small_scope_and_never_ordered_by_submission() -> None:
    texts = [f"Góp ý số {k}" for k in range(30)]
    comments = pd.DataFrame({"submission_id": range(30), "text": texts})
    ids = pd.Series(range(30))
    assert quoted_comments(comments, ids, responses=9) == []
    quoted = quoted_comments(comments, ids, responses=30)
    assert 0 < len(quoted) <= 15
    assert quoted != texts[: len(quoted)]  # hash order, not submission order
    assert set(quoted) <= set(texts)
    only_two = quoted_comments(comments, pd.Series([3, 4]), responses=30)
    assert sorted(only_two) == ["Góp ý số 3", "Góp ý số 4"]
