"""Server-rendered SVG charts: confidence-interval bars, counts over time, comparisons.

Biểu đồ. No JavaScript and no CDN: every chart is inline SVG with a <title>,
a <desc> and its numbers printed as text, so it reads on a phone, prints, and
makes sense to a screen reader. Values are percentages on a 0-100 axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext
from markupsafe import Markup, escape

from survey_app.i18n import number

# Layout in SVG user units; the SVG scales to its container's width.
ROW_HEIGHT = 26
LABEL_WIDTH = 230
VALUE_WIDTH = 210
PLOT_WIDTH = 360
WIDTH = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
PALETTE = ("#1f5f99", "#c0392b")


@dataclass(frozen=True)
class CIRow:
    """One estimate with its interval, in percent; ``low``/``high`` may be NaN."""

    label: str
    estimate: float
    low: float
    high: float
    n: int
    wide: bool = False


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def fmt(x: float | None, digits: int = 2, *, signed: bool = False) -> str:
    """A figure in the locale's way (``72,50`` in Vietnamese); a dash for a missing value."""
    if not _finite(x):
        return "–"
    assert x is not None
    return number(x, digits, signed=signed)


def _x(value: float) -> float:
    return LABEL_WIDTH + max(0.0, min(100.0, value)) / 100.0 * PLOT_WIDTH


def _axis(height: float) -> list[str]:
    parts = []
    for tick in (0, 25, 50, 75, 100):
        x = _x(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="14" x2="{x:.1f}" y2="{height - 4:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{x:.1f}" y="10" font-size="10" text-anchor="middle" '
            f'fill="#555">{tick}</text>'
        )
    return parts


def _shorten(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def ci_bars(rows: Sequence[CIRow], title: str) -> Markup:
    """Horizontal bars (the estimate) with the confidence interval as a whisker."""
    height = 20 + ROW_HEIGHT * max(1, len(rows))
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
        "<desc>"
        + escape(
            "; ".join(
                gettext(
                    "%(label)s: %(estimate)s%% (KTC %(low)s–%(high)s), n=%(n)s",
                    label=r.label,
                    estimate=fmt(r.estimate),
                    low=fmt(r.low),
                    high=fmt(r.high),
                    n=r.n,
                )
                for r in rows
            )
        )
        + "</desc>",
        *_axis(height),
    ]
    for i, row in enumerate(rows):
        top = 18 + i * ROW_HEIGHT
        mid = top + ROW_HEIGHT / 2
        parts.append(
            f'<text x="4" y="{mid + 4:.1f}" font-size="12" fill="#222">'
            f"<title>{escape(row.label)}</title>{escape(_shorten(row.label))}</text>"
        )
        colour = "#b9770e" if row.wide else PALETTE[0]
        if _finite(row.estimate):
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{top + 6:.1f}" '
                f'width="{_x(row.estimate) - LABEL_WIDTH:.1f}" height="{ROW_HEIGHT - 12}" '
                f'fill="{colour}" fill-opacity="0.35"/>'
            )
        if _finite(row.low) and _finite(row.high):
            x1, x2 = _x(row.low), _x(row.high)
            parts.append(
                f'<line x1="{x1:.1f}" y1="{mid:.1f}" x2="{x2:.1f}" y2="{mid:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
                f'<line x1="{x1:.1f}" y1="{mid - 6:.1f}" x2="{x1:.1f}" y2="{mid + 6:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
                f'<line x1="{x2:.1f}" y1="{mid - 6:.1f}" x2="{x2:.1f}" y2="{mid + 6:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
        if _finite(row.estimate):
            parts.append(
                f'<circle cx="{_x(row.estimate):.1f}" cy="{mid:.1f}" r="4" fill="{colour}"/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 8}" y="{mid + 4:.1f}" font-size="12" '
            f'fill="#222">{fmt(row.estimate)}% '
            f'<tspan fill="#666" font-size="10">[{fmt(row.low, 1)}–{fmt(row.high, 1)}] '
            f"n={row.n}</tspan></text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def count_bars(buckets: Sequence[tuple[str, int]], title: str) -> Markup:
    """Vertical bars of counts (responses per week or month), each with its number."""
    count = max(1, len(buckets))
    width = max(WIDTH, 40 * count)
    plot_h = 140
    slot = (width - 20) / count
    top_value = max([c for _, c in buckets] + [1])
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width:.0f} {plot_h + 60}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
        "<desc>" + escape("; ".join(f"{label}: {c}" for label, c in buckets)) + "</desc>",
        f'<line x1="10" y1="{plot_h + 20}" x2="{width - 10:.0f}" y2="{plot_h + 20}" '
        'stroke="#999"/>',
    ]
    for i, (label, value) in enumerate(buckets):
        h = plot_h * value / top_value
        x = 10 + i * slot
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{plot_h + 20 - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{x + slot / 2:.1f}" y="{plot_h + 16 - h:.1f}" font-size="10" '
            f'text-anchor="middle" fill="#222">{value}</text>'
            f'<text x="{x + slot / 2:.1f}" y="{plot_h + 34}" font-size="10" '
            f'text-anchor="middle" fill="#555">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def paired_ci_bars(
    rows: Sequence[tuple[CIRow, CIRow | None]], title: str, names: tuple[str, str]
) -> Markup:
    """Two intervals per label, this period above the comparison period."""
    height = 40 + 2 * ROW_HEIGHT * max(1, len(rows))
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
        "<desc>"
        + escape(
            "; ".join(
                f"{a.label}: {names[0]} {fmt(a.estimate)}%"
                + (f", {names[1]} {fmt(b.estimate)}%" if b is not None else "")
                for a, b in rows
            )
        )
        + "</desc>",
        *_axis(height - 20),
    ]
    for k, name in enumerate(names):
        parts.append(
            f'<rect x="{LABEL_WIDTH + 180 * k}" y="{height - 14}" width="10" height="10" '
            f'fill="{PALETTE[k]}"/><text x="{LABEL_WIDTH + 14 + 180 * k}" y="{height - 5}" '
            f'font-size="11">{escape(name)}</text>'
        )
    for i, (current, previous) in enumerate(rows):
        top = 18 + i * 2 * ROW_HEIGHT
        parts.append(
            f'<text x="4" y="{top + ROW_HEIGHT + 4:.1f}" font-size="12">'
            f"<title>{escape(current.label)}</title>{escape(_shorten(current.label))}</text>"
        )
        for k, row in enumerate((current, previous)):
            if row is None:
                continue
            mid = top + ROW_HEIGHT * (k + 0.5) + 6 * (1 if k else 0)
            colour = PALETTE[k]
            if _finite(row.low) and _finite(row.high):
                parts.append(
                    f'<line x1="{_x(row.low):.1f}" y1="{mid:.1f}" x2="{_x(row.high):.1f}" '
                    f'y2="{mid:.1f}" stroke="{colour}" stroke-width="2"/>'
                )
            if _finite(row.estimate):
                parts.append(
                    f'<circle cx="{_x(row.estimate):.1f}" cy="{mid:.1f}" r="4" fill="{colour}"/>'
                )
            parts.append(
                f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 8}" y="{mid + 4:.1f}" font-size="11" '
                f'fill="{colour}">{fmt(row.estimate)}% n={row.n}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
