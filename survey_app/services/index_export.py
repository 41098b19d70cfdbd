"""Index and PAR exports (xuất chỉ số, bảng điểm CCHC): CSV and XLSX for people, JSON for
programs.

The files are read by officials: Vietnamese headers, indices in percent with 2 decimals
(XLSX: numeric cells holding the share rounded to 4 decimals, shown with the ``0.00%``
format; CSV: the percent as ``80.11``, a dot before the decimals), an interval and an n
beside every index. The JSON API (:func:`indices_json`) is for programs: scoring's
numbers, unrounded, so it reads back equal to what :mod:`scoring` computes on the same
data and settings. Every export records an audit event (the caller's request commits it).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from scoring.par import ParMapping, load_par_mapping, par_points
from scoring.spreadsheet import append_row, csv_row
from scoring.text import printable
from survey_app.models import Agency, Desk
from survey_app.services import audit
from survey_app.services.analysis import (
    LEAF_LEVEL,
    LEVEL_NAMES,
    NodeResult,
    View,
    names,
    view_table,
)

PAR_DIR = Path(__file__).resolve().parents[2] / "questionnaires" / "par"
# Columns of an index row and how each is written: "share" an index or a bound (percent,
# 2 decimals), "points" a standard error (percentage points, 2 decimals), "int" a count,
# "ratio" a design effect (2 decimals), "text" as is.
INDEX_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("level", "Cấp", "text"),
    ("node", "Mã", "text"),
    ("label", "Tên", "text"),
    ("estimate", "Chỉ số (%)", "share"),
    ("ci_low", "KTC dưới (%)", "share"),
    ("ci_high", "KTC trên (%)", "share"),
    ("n", "Số phiếu hợp lệ (n)", "int"),
    ("se", "Sai số chuẩn (điểm %)", "points"),
    ("df", "Bậc tự do", "int"),
    ("deff", "Hiệu ứng thiết kế", "ratio"),
)
INDEX_HEADERS_VI = tuple(header for _, header, _ in INDEX_COLUMNS)
SHEETS = (*LEVEL_NAMES, LEAF_LEVEL)
GROUP_SHEETS = {"agency": "Cơ quan × tiêu chí", "desk": "Quầy × tiêu chí"}
GROUP_HEADERS = {
    "agency": ("Mã cơ quan", "Cơ quan"),
    "desk": ("Mã quầy", "Quầy"),
}
GROUP_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("node", "Mã tiêu chí", "text"),
    ("label", "Tiêu chí", "text"),
    ("estimate", "Chỉ số (%)", "share"),
    ("ci_low", "KTC dưới (%)", "share"),
    ("ci_high", "KTC trên (%)", "share"),
    ("n", "Số phiếu hợp lệ (n)", "int"),
)
PAR_HEADERS_VI = (
    "Cơ quan",
    "Mã cơ quan",
    "Mã tiêu chí CCHC",
    "Tên tiêu chí",
    "Điểm tối đa",
    "Chỉ số (%)",
    "Điểm đạt",
    "KTC chỉ số dưới (%)",
    "KTC chỉ số trên (%)",
    "Điểm theo KTC dưới",
    "Điểm theo KTC trên",
    "Số phiếu hợp lệ (n)",
)
XLSX_FORMATS = {"share": "0.00%", "points": "0.00%", "ratio": "0.00", "int": "0"}


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _xlsx_number(value: Any, kind: str) -> Any:
    """A cell's value as the XLSX holds it: shares rounded to 4 decimals (2 in percent),
    so no float noise (1.000000000000001) reaches a reader."""
    if value is None or kind == "text":
        return value
    number = float(value)
    if not math.isfinite(number):
        return None
    if kind in ("share", "points"):
        return round(number, 4) + 0.0  # + 0.0: never a negative zero
    if kind == "ratio":
        return round(number, 2) + 0.0
    return int(number)


def _csv_number(value: Any, kind: str) -> Any:
    """A cell as the CSV writes it: percents with 2 decimals (``80.11``), counts whole."""
    if value is None or kind == "text":
        return value
    number = float(value)
    if not math.isfinite(number):
        return None
    if kind in ("share", "points"):
        return f"{number * 100:.2f}"
    if kind == "ratio":
        return f"{number:.2f}"
    return str(int(number))


def index_rows(tree: NodeResult) -> list[dict[str, Any]]:
    """One row per node of the tree, parents before children (figures unrounded)."""
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
    """UTF-8 CSV with a BOM (Excel opens Vietnamese text correctly); '#' lines describe it.
    The columns of the XLSX's level sheets, every level in one table."""
    out = io.StringIO()
    writer = csv.writer(out)
    _write_preamble(out, view)
    writer.writerow(csv_row(INDEX_HEADERS_VI))
    for row in index_rows(tree):
        writer.writerow(csv_row(_csv_number(row[c], kind) for c, _, kind in INDEX_COLUMNS))
    _audit(view, "indices", "csv")
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _write_preamble(out: io.StringIO, view: View) -> None:
    # Comment lines, written raw: a quoted "# ..." cell would hide the marker from readers.
    # They begin with '#', so no formula; each stays one printable line.
    for line in _preamble(view):
        out.write(printable(line[0]).replace("\n", " ") + "\r\n")


def _table_sheet(
    sheet: Any,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    kinds: Sequence[str],
    widths: dict[int, float],
) -> None:
    """A sheet of numbers for people: bold wrapped header, frozen, filterable, each
    column's number format from its kind."""
    append_row(sheet, headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        append_row(sheet, [_xlsx_number(v, k) for v, k in zip(row, kinds, strict=True)])
        for k, kind in enumerate(kinds, start=1):
            if kind in XLSX_FORMATS:
                sheet.cell(sheet.max_row, k).number_format = XLSX_FORMATS[kind]
    for k in range(1, len(headers) + 1):
        letter = sheet.cell(1, k).column_letter
        sheet.column_dimensions[letter].width = widths.get(k, 12)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def group_rows(view: View, tree: NodeResult, by: str) -> list[list[Any]]:
    """The overall index and every criterion's, per agency or desk of the view: a row per
    (group, node), groups by code, nodes in the tree's order."""
    table = view_table(view, by)
    if table.empty:
        return []
    wanted = [n for n in tree.walk() if n is tree or n.is_criterion]
    order = {n.code: k for k, n in enumerate(wanted)}
    labels = {n.code: n.label for n in wanted}
    table = table[table["node"].isin(list(order))]
    model = Agency if by == "agency" else Desk
    group_names = names(model, table["level"].astype(str).unique())
    table = table.assign(
        _group=table["level"].astype(str), _order=table["node"].map(order)
    ).sort_values(["_group", "_order"])
    return [
        [
            r["_group"],
            group_names.get(r["_group"], r["_group"]),
            r["node"],
            labels[r["node"]],
            r["estimate"],
            r["ci_low"],
            r["ci_high"],
            r["n"],
        ]
        for r in table.to_dict("records")
    ]


def indices_xlsx(view: View, tree: NodeResult) -> bytes:
    """A sheet per level (Tổng thể, Nhóm, Tiêu chí, Câu hỏi), agency x criterion and desk x
    criterion, and the settings."""
    book = Workbook()
    first = True
    rows = index_rows(tree)
    kinds = [kind for _, _, kind in INDEX_COLUMNS]
    for sheet_name in SHEETS:
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = sheet_name
        _table_sheet(
            sheet,
            INDEX_HEADERS_VI,
            ([row[c] for c, _, _ in INDEX_COLUMNS] for row in rows if row["level"] == sheet_name),
            kinds,
            {1: 10, 2: 10, 3: 60},
        )
    group_kinds = ["text", "text", *(kind for _, _, kind in GROUP_COLUMNS)]
    for by, sheet_name in GROUP_SHEETS.items():
        _table_sheet(
            book.create_sheet(sheet_name),
            (*GROUP_HEADERS[by], *(header for _, header, _ in GROUP_COLUMNS)),
            group_rows(view, tree, by) if view.n else [],
            group_kinds,
            {1: 12, 2: 32, 3: 10, 4: 50},
        )
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
        (
            "Cách đọc",
            "Chỉ số và khoảng tin cậy (KTC) tính theo phần trăm, làm tròn 2 chữ số thập phân; "
            "sai số chuẩn tính theo điểm phần trăm; n là số phiếu trả lời hợp lệ. Số liệu "
            "không làm tròn có trong API JSON (/api/v1/campaigns/<mã>/indices).",
        ),
    ):
        append_row(info, [key, value])
    info.column_dimensions["A"].width = 16
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


def par_table(
    view: View, agency_names: dict[object, str], table: pd.DataFrame | None = None
) -> pd.DataFrame:
    """PAR points per agency (criterion, max points, index %, points), from scoring.par;
    beside them the index's interval and n, and the points each bound of the interval
    would earn (``points_low``, ``points_high``: the same conversion and rounding, the bound
    kept within [0, 1]). ``table``: the view's index table by agency when the caller
    computed it."""
    if table is None:
        table = view_table(view, "agency")
    frames = []
    for mapping in par_mappings(view.questionnaire.id):
        index = table.rename(columns={"level": "agency"})
        index = index.assign(questionnaire=view.questionnaire.id)
        index = index[index["n"] > 0]
        if index.empty:
            continue
        columns = ["agency", "questionnaire", "node", "estimate"]
        points = par_points(mapping, index[columns])
        for bound in ("ci_low", "ci_high"):
            known = index[index[bound].notna()]
            # An interval can reach past 0 or 1 (a design's t interval): a share cannot.
            shares = known[bound].clip(0.0, 1.0)
            at_bound = par_points(mapping, known[columns[:3]].assign(estimate=shares))
            points[f"points_{bound[3:]}"] = points.merge(
                at_bound[["agency", "criterion", "points"]],
                on=["agency", "criterion"],
                how="left",
                suffixes=("", "_bound"),
            )["points_bound"].to_numpy()
        nodes = {c.code: c.index for c in mapping.criteria}
        points["node"] = points["criterion"].map(nodes)
        points = points.merge(
            index[["agency", "node", "ci_low", "ci_high", "n"]], on=["agency", "node"], how="left"
        )
        decimals = {c.code: c.decimals for c in mapping.criteria}
        points["decimals"] = [decimals[c] for c in points["criterion"]]
        frames.append(points)
    if not frames:
        return pd.DataFrame(
            columns=[
                "agency_name",
                "agency",
                "criterion",
                "node",
                "label",
                "max_points",
                "index_percent",
                "points",
                "ci_low",
                "ci_high",
                "points_low",
                "points_high",
                "n",
                "decimals",
            ]
        )
    result = pd.concat(frames, ignore_index=True)
    result.insert(0, "agency_name", [agency_names.get(a, str(a)) for a in result["agency"]])
    return result


def _percent(share: Any) -> float | None:
    """A share as a percent with 2 decimals (the PAR form's way), None when missing."""
    if share is None or not math.isfinite(float(share)):
        return None
    return round(float(share) * 100, 2) + 0.0


def _par_records(table: pd.DataFrame, text: bool = False) -> list[list[Any]]:
    """Rows of the PAR table; ``text`` writes numbers as text with their decimals (CSV)."""
    out: list[list[Any]] = []
    for r in table.to_dict("records"):
        decimals = int(r["decimals"])
        points = [_num(float(r[c])) for c in ("points", "points_low", "points_high")]
        percents = [_num(float(r["index_percent"])), _percent(r["ci_low"]), _percent(r["ci_high"])]
        n = None if pd.isna(r["n"]) else int(r["n"])
        if text:
            percents = [None if p is None else f"{p:.2f}" for p in percents]  # type: ignore[misc]
            points = [None if p is None else f"{p:.{decimals}f}" for p in points]  # type: ignore[misc]
        out.append(
            [
                r["agency_name"],
                r["agency"],
                r["criterion"],
                r["label"],
                r["max_points"],
                percents[0],
                points[0],
                percents[1],
                percents[2],
                points[1],
                points[2],
                n,
            ]
        )
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
    """One sheet laid out as the PAR scoring form: an agency per row, the points with the
    index, its interval, the points at the interval's bounds and n beside them."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Điểm CCHC"
    for line in _preamble(view):
        append_row(sheet, [line[0].lstrip("# ")])
    append_row(sheet, PAR_HEADERS_VI)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for record, decimals in zip(_par_records(table), table["decimals"], strict=True):
        append_row(sheet, record)
        points_format = "0." + "0" * int(decimals) if int(decimals) else "0"
        for column in (6, 8, 9):
            sheet.cell(sheet.max_row, column).number_format = "0.00"
        for column in (7, 10, 11):
            sheet.cell(sheet.max_row, column).number_format = points_format
    widths = {"A": 36, "B": 12, "C": 10, "D": 44}
    for k in range(1, len(PAR_HEADERS_VI) + 1):
        letter = sheet.cell(1, k).column_letter
        sheet.column_dimensions[letter].width = widths.get(letter, 12)
    _audit(view, "par", "xlsx")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
