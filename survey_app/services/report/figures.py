"""The report's charts: the dashboard's SVG charts (:mod:`survey_app.charts`) of its figures."""

from __future__ import annotations

from markupsafe import Markup

from survey_app import charts
from survey_app.services.analysis import GroupRow, NodeResult
from survey_app.services.report.content import Report


def ci_row(label: str, node: NodeResult) -> charts.CIRow:
    return charts.CIRow(
        label, node.pct(), node.pct("ci_low"), node.pct("ci_high"), node.n, node.wide
    )


def _groups(rows: list[GroupRow], title: str) -> Markup:
    return charts.ci_bars([ci_row(r.label, r.result) for r in rows], title)


def report_charts(report: Report) -> dict[str, object]:
    """Charts by name: groups, criteria, change, desks, agencies, breakdowns, months."""
    tree = report.tree
    out: dict[str, object] = {
        "groups": charts.ci_bars(
            [ci_row(f"{n.code} {n.label}", n) for n in tree.children], "Chỉ số theo nhóm"
        ),
        "criteria": charts.ci_bars(
            [ci_row(f"{n.code} {n.label}", n) for n in report.criteria], "Chỉ số các tiêu chí"
        ),
        "desks": _groups(report.desks, "Theo quầy"),
        "agencies": _groups(report.agencies, "Theo cơ quan"),
        "breakdowns": [
            (label, _groups(rows, f"Theo {label}")) for label, rows in report.breakdowns
        ],
        "months": charts.count_bars(
            [(c.label, c.count) for c in report.by_month], "Số phiếu theo tháng"
        ),
        "change": None,
    }
    if report.previous is not None and report.comparison is not None:
        out["change"] = charts.paired_ci_bars(
            [
                (ci_row(f"{c.code} {c.label}", c.current), ci_row(c.label, c.previous))
                for c in report.changes
                if c.current.depth <= 1
            ],
            "So sánh với kỳ trước",
            (report.view.period.label, report.comparison.label),
        )
    return out
