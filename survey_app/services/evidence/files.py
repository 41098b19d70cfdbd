"""The files of an evidence pack other than the report, the README and the manifest.

Each function returns the bytes of one file. The data a reader needs to recompute the
figures (answers, index tree, PAR criteria, margins) are plain CSV that ``reproduce.R``
reads with base R; the app's own figures are written with every digit (``repr``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scoring.par import ParCriterion, ParMapping, convert_points
from scoring.questionnaire import IndexNode
from survey_app.services.analysis import NodeResult, View, view_table, view_tree
from survey_app.services.comments import order_in_day
from survey_app.services.index_export import PAR_DIR, par_mappings
from survey_app.services.raw_export import codebook_frame

R_TEMPLATE = Path(__file__).with_name("reproduce.R")
# The answers file's columns besides the item and calibration columns.
DATA_META = ("response_id", "desk", "agency", "submitted_on", "in_domain")
DOMAIN_FLAG_TEXT = (
    "1 = phiếu thuộc kỳ và phạm vi cơ quan của bộ tài liệu; 0 = phiếu khác của đợt khảo sát, "
    "giữ lại vì thiết kế mẫu (tầng, cụm, hiệu chỉnh trọng số) tính trên cả đợt; câu trả lời "
    "của phiếu này để trống"
)
# Rows of agencies outside the pack's scope: the desk and agency, where the design's strata
# or cluster, as opaque labels with these prefixes (a number per desk or agency).
# Calibration margins never need the real desks or agencies: their variables are
# respondent questions with integer answer codes (weighting_settings.parse_margins).
HIDDEN_PREFIXES = {"desk": "khac-quay-", "agency": "khac-co-quan-"}
HIDDEN_TEXT = {
    "desk": (
        "Mã bộ phận một cửa. Phiếu của cơ quan ngoài phạm vi bộ tài liệu: nhãn ẩn danh "
        "khac-quay-NN (mỗi quầy một nhãn) khi thiết kế mẫu lấy quầy làm tầng hoặc cụm, "
        "nếu không thì để trống"
    ),
    "agency": (
        "Mã cơ quan của bộ phận một cửa. Phiếu của cơ quan ngoài phạm vi bộ tài liệu: nhãn "
        "ẩn danh khac-co-quan-NN (mỗi cơ quan một nhãn) khi thiết kế mẫu lấy cơ quan làm "
        "tầng hoặc cụm, nếu không thì để trống"
    ),
    "submitted_on": (
        "Ngày gửi phiếu (năm-tháng-ngày); để trống ở phiếu của cơ quan ngoài phạm vi bộ tài liệu"
    ),
}
FIGURE_COLUMNS = (
    "domain",
    "node",
    "label",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "n",
    "par_set",
    "par_criterion",
    "max_points",
    "index_percent",
    "par_points",
)
SCOPE_DOMAIN = "scope"


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], bom: bool = False) -> bytes:
    """UTF-8 CSV (a BOM when Excel should read Vietnamese text in it), LF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def number(value: float | None) -> str:
    """A figure with every digit (blank when missing), so R reads back the same double."""
    if value is None or not math.isfinite(value):
        return ""
    return repr(float(value))


# ------------------------------------------------------------------------------ answers
def index_items(view: View) -> list[str]:
    """Codes of the items the index tree reads, in questionnaire order."""
    assert view.questionnaire.index is not None
    used = set(view.questionnaire.index.item_codes())
    return [item.code for item in view.questionnaire.items if item.code in used]


def calibration_variables(view: View) -> list[str]:
    """Respondent variables of the calibration margins (none when nothing is calibrated)."""
    if calibration(view) == "none":
        return []
    return list(dict.fromkeys(v for m in view.settings.margins for v in m.variables))


def calibration(view: View) -> str:
    """What the design is calibrated by: ``none``, ``poststratify`` or ``rake``."""
    settings = view.settings
    if settings.calibration in ("poststratify", "rake") and settings.margins:
        return settings.calibration
    return "none"


def in_scope(view: View) -> pd.Series:
    """Rows of the pack's agency scope, whatever their day: what the dashboard of this scope
    shows anyway. Every row when the scope is every agency."""
    frame = view.frame
    if view.agency_codes is None:
        return pd.Series(True, index=frame.index)
    return frame["agency"].isin(view.agency_codes)


def design_columns(view: View) -> list[str]:
    """The strata and cluster columns of the design (``desk``, ``agency``), if any."""
    return [c for c in (view.settings.strata, view.settings.cluster) if c is not None]


def opaque_labels(values: pd.Series, prefix: str, taken: set[str]) -> dict[str, str]:
    """A label per distinct value, ``prefix`` and a number in the values' sorted order:
    one to one, so the design's strata and clusters stay the same, and never a value
    shown in the pack (``taken``)."""
    distinct = sorted(set(values.astype(str)))
    width = max(2, len(str(len(distinct))))
    while True:
        labels = {v: f"{prefix}{k:0{width}d}" for k, v in enumerate(distinct, start=1)}
        if not taken & set(labels.values()):
            return labels
        prefix += "x"


def data_csv(view: View) -> bytes:
    """Every response of the campaign (the design's rows), answers only inside the domain.

    The design, its strata, clusters and calibration are those of the whole campaign, and
    the pack's scope is a domain of it (R ``subset()``), so every row is listed. A row of
    the scope's agencies (any day) carries its desk, agency and day (what the raw export
    and the dashboard of this scope show), the domain flag and the calibration variables.
    A row of another agency carries only what the design needs (:data:`HIDDEN_TEXT`):
    the desk and agency only where they are the design's strata or cluster, and then as
    opaque labels (``khac-quay-01``, ``khac-co-quan-01``, one per desk or agency, the same
    in the whole pack); no day; the calibration variables (the margins calibrate every
    row). Answers to the index items are given for the rows of the domain only.

    The scope's rows come first by day and, within a day, in a keyed order (as the raw
    export: a row's place beside its desk does not tell who came when), then the other
    rows grouped by their labels and calibration codes, so that no row's place tells its
    day.
    """
    frame = view.frame
    inside = pd.Series(view.mask, index=frame.index)
    visible = in_scope(view)
    hidden = ~visible
    columns: dict[str, pd.Series] = {
        "desk": frame["desk"].astype(str),
        "agency": frame["agency"].astype(str),
        "submitted_on": frame["submitted_at"].dt.strftime("%Y-%m-%d"),
        "in_domain": inside.astype(int),
    }
    used = design_columns(view)
    for column, prefix in HIDDEN_PREFIXES.items():
        shown = columns[column]
        if column in used:
            labels = opaque_labels(shown[hidden], prefix, set(shown[visible]))
            columns[column] = shown.where(visible, shown.map(labels))
        else:
            columns[column] = shown.where(visible, "")
    columns["submitted_on"] = columns["submitted_on"].where(visible, "")
    for code in calibration_variables(view):
        columns[code] = frame[code].astype("Int64")
    for code in index_items(view):
        columns[code] = frame[code].where(inside).astype("Int64")
    table = pd.DataFrame(columns)
    scope_rows = table[visible].assign(
        _key=[order_in_day(int(i)) for i in frame.loc[visible, "submission_id"]]
    )
    scope_rows = scope_rows.sort_values(["submitted_on", "_key"]).drop(columns="_key")
    order = ["agency", "desk", *calibration_variables(view)]
    table = pd.concat(
        [scope_rows, table[hidden].sort_values(order, kind="stable")], ignore_index=True
    )
    table.insert(0, "response_id", range(1, len(table) + 1))
    # Codes only (no text): plain UTF-8, written by pandas in one pass (200,000 rows).
    text = table.to_csv(index=False, na_rep="", lineterminator="\n")
    return text.encode("utf-8")


def codebook_csv(view: View) -> bytes:
    """The raw export's codebook (Vietnamese) for the answers file's columns."""
    codebook = codebook_frame(view.questionnaire)
    wanted = set(index_items(view)) | set(calibration_variables(view))
    column = codebook.columns[0]
    meta = codebook[codebook[column].isin(DATA_META)].copy()
    wording = codebook.columns[2]
    meta[wording] = [
        HIDDEN_TEXT.get(c, w) for c, w in zip(meta[column], meta[wording], strict=True)
    ]
    flag = pd.DataFrame([["in_domain", "", DOMAIN_FLAG_TEXT, "", "0 / 1", "", ""]])
    flag.columns = codebook.columns
    items = codebook[codebook[codebook.columns[1]].isin(wanted)]
    table = pd.concat([meta, flag, items], ignore_index=True)
    rows = ([("" if pd.isna(v) else str(v)) for v in row] for row in table.itertuples(False))
    return csv_bytes([str(c) for c in table.columns], rows, bom=True)


# --------------------------------------------------------------------------- index tree
def tree_csv(view: View) -> bytes:
    """The index tree, one row per node, parents first: what ``reproduce.R`` computes.

    The same tree as ``bo_cau_hoi.yaml``'s ``index``, with each item's valid codes and the
    satisfied codes it inherits written out.
    """
    q = view.questionnaire
    assert q.index is not None
    rows = []

    def visit(node: IndexNode, parent: str, depth: int) -> None:
        valid = satisfied = ""
        if node.is_leaf and node.item is not None:
            valid = " ".join(str(c) for c in sorted(q.item(node.item).valid_codes))
            satisfied = " ".join(str(c) for c in sorted(node.satisfied))
        low, high = node.range if node.range is not None else (None, None)
        rows.append(
            [
                node.code,
                parent,
                str(depth),
                node.aggregate,
                node.item or "",
                number(node.weight),
                number(low),
                number(high),
                satisfied,
                valid,
                node.label.get("vi", node.code),
            ]
        )
        for child in node.children:
            visit(child, node.code, depth + 1)

    visit(q.index, "", 0)
    header = (
        "node",
        "parent",
        "depth",
        "aggregate",
        "item",
        "weight",
        "range_low",
        "range_high",
        "satisfied",
        "valid",
        "label",
    )
    return csv_bytes(header, rows, bom=True)


# ---------------------------------------------------------------------------------- PAR
@dataclass(frozen=True)
class ParUse:
    """A PAR criterion fed by a node of this questionnaire, and the file it comes from."""

    mapping: ParMapping
    criterion: ParCriterion
    path: Path


def par_uses(view: View) -> list[ParUse]:
    """The criteria of the PAR mappings fed by the view's questionnaire."""
    out = []
    for mapping in par_mappings(view.questionnaire.id):
        path = PAR_DIR / mapping.filename
        for criterion in mapping.criteria:
            if criterion.questionnaire == view.questionnaire.id:
                out.append(ParUse(mapping, criterion, path))
    return out


def par_csv(uses: list[ParUse]) -> bytes:
    """The PAR criteria as ``reproduce.R`` reads them (the YAML files are in the pack too)."""
    rows = [
        [
            u.mapping.id,
            u.criterion.code,
            u.criterion.label.get("vi", u.criterion.code),
            u.criterion.index,
            str(u.criterion.max_points),
            str(u.criterion.decimals),
            u.criterion.rounding,
            "" if u.criterion.percent_decimals is None else str(u.criterion.percent_decimals),
            str(u.criterion.index_max),
            u.path.name,
        ]
        for u in uses
    ]
    header = (
        "par_set",
        "criterion",
        "label",
        "node",
        "max_points",
        "decimals",
        "rounding",
        "percent_decimals",
        "index_max",
        "file",
    )
    return csv_bytes(header, rows, bom=True)


# ------------------------------------------------------------------------------ figures
def _figure(domain: str, node: NodeResult) -> list[str]:
    return [
        domain,
        node.code,
        node.label,
        number(node.estimate),
        number(node.se),
        number(node.ci_low),
        number(node.ci_high),
        str(node.df),
        str(node.n),
    ]


def figures_csv(view: View, uses: list[ParUse]) -> bytes:
    """The app's figures: every node of the scope, then each agency's PAR points.

    Scope rows (``domain = scope``) are the dashboard's tree of the view. PAR rows
    (``domain`` = an agency code) hold the agency's index node feeding each criterion and
    its points, as the PAR points table (``diem_cchc.xlsx``) converts them.
    """
    rows = [[*_figure(SCOPE_DOMAIN, node), "", "", "", "", ""] for node in view_tree(view).walk()]
    if uses:
        table = view_table(view, "agency")
        labels = {n.code: n.label for n in view_tree(view).walk()}
        for agency in sorted(str(a) for a in table["level"].unique()):
            part = table[table["level"] == agency]
            for use in uses:
                found = part[part["node"] == use.criterion.index]
                if found.empty:
                    continue
                record = found.iloc[0].to_dict()
                node = NodeResult.from_row(
                    record, use.criterion.index, labels.get(use.criterion.index, ""), 0, False
                )
                if node.n == 0 or not math.isfinite(node.estimate):
                    continue
                percent, points = convert_points(node.estimate, use.criterion)
                rows.append(
                    [
                        *_figure(agency, node),
                        use.mapping.id,
                        use.criterion.code,
                        str(use.criterion.max_points),
                        str(percent),
                        str(points),
                    ]
                )
    return csv_bytes(FIGURE_COLUMNS, rows, bom=True)


# ------------------------------------------------------------------- settings and margins
def margin_files(view: View) -> dict[str, bytes]:
    """One CSV per calibration margin: its variables' codes and the population ``Freq``."""
    if calibration(view) == "none":
        return {}
    out = {}
    for k, margin in enumerate(view.settings.margins, start=1):
        rows = [[*map(str, cell), number(count)] for cell, count in margin.cells.items()]
        out[f"bien_dan_so_{k}.csv"] = csv_bytes([*margin.variables, "Freq"], rows)
    return out


def settings_json(view: View, scope: str) -> bytes:
    """The weighting and interval settings, margins included, with what they describe."""
    q = view.questionnaire
    body = {
        "campaign": {"code": view.campaign.code, "name": view.campaign.name},
        "period": {
            "code": view.period.code,
            "label": view.period.label,
            "start": view.period.start.isoformat(),
            "end": view.period.end.isoformat(),
        },
        "scope": {
            "name": scope,
            "agencies": None if view.agency_codes is None else sorted(view.agency_codes),
        },
        "questionnaire": {"id": q.id, "version": q.version, "content_hash": q.content_hash},
        "responses_in_scope": view.n,
        "responses_in_design": len(view.frame),
        "weighting": view.settings.to_json(),
        "lonely_psu": "adjust",
        "description": view.settings_text,
    }
    return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# ------------------------------------------------------------------------------ reproduce.R
def _r(value: str | float | None) -> str:
    """An R literal: a double-quoted string (JSON escapes are R escapes), a number or NA."""
    if value is None:
        return "NA"
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value)


def _r_vector(values: Sequence[str]) -> str:
    return f"c({', '.join(_r(v) for v in values)})" if values else "character(0)"


def reproduce_r(view: View, margins: Sequence[str]) -> bytes:
    """``reproduce.R``: the settings of this pack as R assignments, then the fixed method."""
    scope = "NULL" if view.agency_codes is None else _r_vector(sorted(view.agency_codes))
    settings = view.settings
    header = [
        "# Tạo bởi ứng dụng SIPAS cho bộ tài liệu kiểm chứng này (generated for this pack).",
        f"CAMPAIGN <- {_r(view.campaign.code)}",
        f"PERIOD <- {_r(view.period.code)}",
        f"PERIOD_START <- {_r(view.period.start.isoformat())}",
        f"PERIOD_END <- {_r(view.period.end.isoformat())}",
        f"SCOPE <- {scope}  # agency codes of the scope; NULL: every agency",
        f"STRATA <- {_r(settings.strata)}",
        f"CLUSTER <- {_r(settings.cluster)}",
        f"CALIBRATION <- {_r(calibration(view))}",
        f"CALIBRATION_VARIABLES <- {_r_vector(calibration_variables(view))}",
        f"MARGIN_FILES <- {_r_vector(list(margins))}",
        f"CI_METHOD <- {_r(settings.ci_method)}",
        f"LEVEL <- {_r(float(settings.level))}",
        "TOLERANCE <- 1e-8",
        "",
    ]
    return ("\n".join(header) + R_TEMPLATE.read_text(encoding="utf-8")).encode("utf-8")
