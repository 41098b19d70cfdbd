"""Index and PAR exports (xuất chỉ số, bảng điểm CCHC): CSV, XLSX and JSON.

The numbers are scoring's, unrounded, so an export read back equals what
:mod:`scoring` computes on the same data and settings. Every export records
an audit event (the caller's request commits it).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from scoring.par import ParMapping, load_par_mapping, par_points
from scoring.spreadsheet import append_row, csv_row
from scoring.text import printable
from survey_app.services import audit
from survey_app.services.analysis import (
    LEAF_LEVEL,
    LEVEL_NAMES,
    NodeResult,
    View,
    view_table,
)

PAR_DIR = Path(__file__).resolve().parents[2] / "questionnaires" / "par"
INDEX_COLUMNS = (
    "level",
    "node",
    "label",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n",
    "df",
    "deff",
)
INDEX_HEADERS_VI = (
    "Cấp",
    "Mã",
    "Tên",
    "Chỉ số (tỷ lệ)",
    "Sai số chuẩn",
    "KTC dưới",
    "KTC trên",
    "Số phiếu hợp lệ",
    "Bậc tự do",
    "Hiệu ứng thiết kế",
)
SHEETS = (*LEVEL_NAMES, LEAF_LEVEL)
PAR_HEADERS_VI = (
    "Cơ quan",
    "Mã cơ quan",
    "Mã tiêu chí CCHC",
    "Tên tiêu chí",
    "Điểm tối đa",
    "Chỉ số (%)",
    "Điểm đạt",
)


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None


def index_rows(tree: NodeResult) -> list[dict[str, Any]]:
    """One row per node of the tree, parents before children."""
    return [
        {
            "level": node.level_name,
            "node": node.code,
            "label": node.label,
            "estimate": _num(node.estimate),
            "se": _num(node.se),
            "ci_low": _num(node.ci_low),
            "ci_high": _num(node.ci_high),
            "n": node.n,
            "df": node.df,
            "deff": _num(node.deff),
        }
        for node in tree.walk()
    ]


def _audit(view: View, kind: str, fmt: str) -> None:
    audit.record(
        f"export.{kind}",
        view.campaign.code,
        format=fmt,
        period=view.period.code,
        settings=view.settings_text,
        agencies=None if view.agency_codes is None else sorted(view.agency_codes),
        desk=view.desk_code,
    )


def _preamble(view: View) -> list[list[str]]:
    q = view.questionnaire
    return [
        [f"# {view.campaign.name} ({view.campaign.code}); {view.period.label}"],
        [f"# Bộ câu hỏi {q.id} phiên bản {q.version}; {view.settings_text}"],
    ]


def indices_csv(view: View, tree: NodeResult) -> bytes:
    """UTF-8 CSV with a BOM (Excel opens Vietnamese text correctly); '#' lines describe it."""
    out = io.StringIO()
    writer = csv.writer(out)
    _write_preamble(out, view)
    writer.writerow(csv_row(INDEX_COLUMNS))
    for row in index_rows(tree):
        writer.writerow(csv_row(_cell(row[c]) for c in INDEX_COLUMNS))
    _audit(view, "indices", "csv")
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _write_preamble(out: io.StringIO, view: View) -> None:
    # Comment lines, written raw: a quoted "# ..." cell would hide the marker from readers.
    # They begin with '#', so no formula; each stays one printable line.
    for line in _preamble(view):
        out.write(printable(line[0]).replace("\n", " ") + "\r\n")


def _cell(value: Any) -> Any:
    # repr keeps every digit of a float, so reading back gives the same number.
    return repr(value) if isinstance(value, float) else value


def indices_xlsx(view: View, tree: NodeResult) -> bytes:
    """One sheet per level: Tổng thể, Nhóm, Tiêu chí, Câu hỏi; and the settings."""
    book = Workbook()
    first = True
    rows = index_rows(tree)
    for sheet_name in SHEETS:
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = sheet_name
        append_row(sheet, INDEX_HEADERS_VI)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            if row["level"] == sheet_name:
                append_row(sheet, [row[c] for c in INDEX_COLUMNS])
        sheet.column_dimensions["C"].width = 60
        sheet.freeze_panes = "A2"
    info = book.create_sheet("Thông tin")
    q = view.questionnaire
    for key, value in (
        ("Đợt khảo sát", f"{view.campaign.name} ({view.campaign.code})"),
        ("Kỳ", view.period.label),
        ("Bộ câu hỏi", f"{q.id} phiên bản {q.version}"),
        ("Cài đặt", view.settings_text),
        (
            "Phạm vi",
            "Tất cả cơ quan" if view.agency_codes is None else ", ".join(sorted(view.agency_codes)),
        ),
        ("Quầy", view.desk_code or "Tất cả quầy"),
    ):
        append_row(info, [key, value])
    info.column_dimensions["B"].width = 90
    _audit(view, "indices", "xlsx")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def indices_json(view: View, tree: NodeResult) -> dict[str, Any]:
    """The node tree with estimate, se, ci_low, ci_high, n, df, deff; settings and version."""

    def node(n: NodeResult) -> dict[str, Any]:
        return {
            "code": n.code,
            "label": n.label,
            "level": n.level_name,
            "estimate": _num(n.estimate),
            "se": _num(n.se),
            "ci_low": _num(n.ci_low),
            "ci_high": _num(n.ci_high),
            "n": n.n,
            "df": n.df,
            "deff": _num(n.deff),
            "children": [node(c) for c in n.children],
        }

    q = view.questionnaire
    _audit(view, "indices", "json")
    return {
        "campaign": view.campaign.code,
        "period": {
            "code": view.period.code,
            "start": view.period.start.isoformat(),
            "end": view.period.end.isoformat(),
        },
        "questionnaire": {"id": q.id, "version": q.version},
        "settings": view.settings.to_json() | {"description": view.settings_text},
        "scope": None if view.agency_codes is None else sorted(view.agency_codes),
        "desk": view.desk_code,
        "index": node(tree),
    }


# ------------------------------------------------------------------ PAR
def par_mappings(questionnaire_id: str) -> list[ParMapping]:
    """The PAR mappings in questionnaires/par/ with a criterion fed by this questionnaire."""
    out = []
    for path in sorted(PAR_DIR.glob("*.yaml")):
        mapping = load_par_mapping(path)
        if any(c.questionnaire == questionnaire_id for c in mapping.criteria):
            out.append(mapping)
    return out


def par_table(view: View, agency_names: dict[object, str]) -> pd.DataFrame:
    """PAR points per agency (criterion, max points, index %, points), from scoring.par."""
    table = view_table(view, "agency")
    frames = []
    for mapping in par_mappings(view.questionnaire.id):
        index = table.rename(columns={"level": "agency"})
        index = index.assign(questionnaire=view.questionnaire.id)
        index = index[index["n"] > 0]
        if index.empty:
            continue
        points = par_points(mapping, index[["agency", "questionnaire", "node", "estimate"]])
        decimals = {c.code: c.decimals for c in mapping.criteria}
        points["decimals"] = [decimals[c] for c in points["criterion"]]
        frames.append(points)
    if not frames:
        return pd.DataFrame(
            columns=["agency", "criterion", "label", "max_points", "index_percent", "points"]
        )
    result = pd.concat(frames, ignore_index=True)
    result.insert(0, "agency_name", [agency_names.get(a, str(a)) for a in result["agency"]])
    return result


def _par_records(table: pd.DataFrame, text: bool = False) -> list[list[Any]]:
    """Rows of the PAR table; ``text`` formats points with the criterion's decimals (CSV)."""
    out: list[list[Any]] = []
    for r in table.to_dict("records"):
        percent, points = _num(float(r["index_percent"])), _num(float(r["points"]))
        shown: list[Any] = [percent, points]
        if text:
            shown = [
                None if percent is None else f"{percent:.2f}",
                None if points is None else f"{points:.{int(r['decimals'])}f}",
            ]
        out.append([r["agency_name"], r["agency"], r["criterion"], r["label"], r["max_points"]])
        out[-1].extend(shown)
    return out


def par_csv(view: View, table: pd.DataFrame) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    _write_preamble(out, view)
    writer.writerow(csv_row(PAR_HEADERS_VI))
    for record in _par_records(table, text=True):
        writer.writerow(csv_row(record))
    _audit(view, "par", "csv")
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def par_xlsx(view: View, table: pd.DataFrame) -> bytes:
    """One sheet laid out as the PAR scoring form: an agency per row block, points to enter."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Điểm CCHC"
    for line in _preamble(view):
        append_row(sheet, [line[0].lstrip("# ")])
    append_row(sheet, PAR_HEADERS_VI)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for record in _par_records(table):
        append_row(sheet, record)
        sheet.cell(sheet.max_row, 6).number_format = "0.00"
        sheet.cell(sheet.max_row, 7).number_format = "0.00"
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["D"].width = 50
    _audit(view, "par", "xlsx")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
