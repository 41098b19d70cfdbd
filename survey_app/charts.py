"""Server-rendered SVG charts: confidence-interval bars, counts over time, comparisons.

Biểu đồ. No JavaScript and no CDN: every chart is inline SVG with a <title>,
a <desc> and its numbers printed as text, so it reads on a phone, prints, and
makes sense to a screen reader. Values are percentages on a 0-100 axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
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


def _heading(title: str, rows: Sequence[CIRow]) -> str:
    """A chart's <title> and a <desc> that reads out every estimate with its interval."""
    desc = "; ".join(
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
    return f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"


def ci_bars(rows: Sequence[CIRow], title: str) -> Markup:
    """Horizontal bars (the estimate) with the confidence interval as a whisker."""
    height = 20 + ROW_HEIGHT * max(1, len(rows))
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        _heading(title, rows),
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


# Heat-map cells (bảng nhiệt): five bands of the index, PuOr from ColorBrewer (readable
# with every common colour-vision deficiency); each band's text colour has a contrast of
# 4.5:1 or more on it (dashboard.css). The value is always printed in the cell.
HEAT_BANDS = (60.0, 70.0, 80.0, 90.0)


def heat_band(estimate: float) -> int:
    """The band (1-5) of an index in percent: below 60, 60-70, 70-80, 80-90, 90 and above."""
    return 1 + sum(estimate >= edge for edge in HEAT_BANDS)


# The trend chart, in SVG user units.
TREND_SLOT = 80
TREND_LEFT = 46
TREND_TOP = 30
TREND_PLOT = 200
# Characters per line of an x label: labels wrap whole words, they are never cut.
TREND_LABEL_CHARS = 11


def _wrap(label: str, chars: int = TREND_LABEL_CHARS) -> list[str]:
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _trend_range(rows: Sequence[CIRow]) -> tuple[float, float, float]:
    """Bottom, top and step of the y axis: the intervals with a margin, in tens (fives for
    a narrow range), within 0-100."""
    values = [v for r in rows for v in (r.low, r.high, r.estimate) if _finite(v)]
    if not values:
        return 0.0, 100.0, 25.0
    bottom = max(0.0, math.floor(min(values) / 10) * 10)
    top = min(100.0, math.ceil(max(values) / 10) * 10)
    if top - bottom < 20:
        bottom, top = max(0.0, top - 20), max(top, 20.0)
    step = 5.0 if top - bottom <= 30 else 10.0
    return bottom, top, step


def trend_chart(segments: Sequence[Sequence[CIRow]], title: str) -> Markup:
    """The index over time: a point per period with its interval as a vertical bar.

    Points of one segment (the periods of a campaign) are joined by a line; segments
    (campaigns) are apart, with a dashed rule between them. A point too uncertain to
    conclude is an open diamond, not only another colour; every point has its value
    and n printed under it.
    """
    rows = [r for segment in segments for r in segment]
    count = max(1, len(rows))
    lines = max([len(_wrap(r.label)) for r in rows] + [1])
    width = TREND_LEFT + TREND_SLOT * count + 44  # room for the last value
    axis_y = TREND_TOP + TREND_PLOT
    height = axis_y + 22 + 14 * lines + 18
    bottom, top, step = _trend_range(rows)

    def y(value: float) -> float:
        clipped = max(bottom, min(top, value))
        return axis_y - (clipped - bottom) / (top - bottom) * TREND_PLOT

    parts = [
        # Drawn at its natural size (width, height) and scrolled on a narrow screen, so
        # that its text stays as large as the page's small print.
        f'<svg class="chart trend" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        _heading(title, rows),
    ]
    tick = bottom
    while tick <= top + 1e-9:
        parts.append(
            f'<line x1="{TREND_LEFT}" y1="{y(tick):.1f}" x2="{width - 10}" y2="{y(tick):.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{TREND_LEFT - 6}" y="{y(tick) + 4:.1f}" font-size="12" '
            f'text-anchor="end" fill="#555">{tick:.0f}</text>'
        )
        tick += step
    parts.append(
        f'<text x="4" y="{TREND_TOP - 14}" font-size="12" fill="#555">%</text>'
        f'<line x1="{TREND_LEFT}" y1="{axis_y}" x2="{width - 10}" y2="{axis_y}" stroke="#999"/>'
    )
    position = 0
    for k, segment in enumerate(segments):
        if k and segment:
            rule = TREND_LEFT + TREND_SLOT * position
            parts.append(
                f'<line x1="{rule}" y1="{TREND_TOP - 10}" x2="{rule}" y2="{height - 4}" '
                'stroke="#999" stroke-dasharray="4 4"/>'
            )
        joined = [
            (TREND_LEFT + TREND_SLOT * (position + i + 0.5), y(r.estimate))
            for i, r in enumerate(segment)
            if _finite(r.estimate)
        ]
        if len(joined) > 1:
            path = " ".join(f"{x:.1f},{v:.1f}" for x, v in joined)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" '
                'stroke-width="2" stroke-opacity="0.5"/>'
            )
        for i, row in enumerate(segment):
            x = TREND_LEFT + TREND_SLOT * (position + i + 0.5)
            parts.append(_trend_point(row, x, y))
            # A space between the lines: the label reads as one text when copied or read out.
            label = " ".join(
                f'<tspan x="{x:.1f}" dy="{0 if j == 0 else 14}">{escape(line)}</tspan>'
                for j, line in enumerate(_wrap(row.label))
            )
            parts.append(
                f'<text x="{x:.1f}" y="{axis_y + 18}" font-size="11" text-anchor="middle" '
                f'fill="#222">{label}</text>'
                f'<text x="{x:.1f}" y="{axis_y + 18 + 14 * lines}" font-size="11" '
                f'text-anchor="middle" fill="#555">n={row.n}</text>'
            )
        position += len(segment)
    parts.append("</svg>")
    return Markup("".join(parts))


def _trend_point(row: CIRow, x: float, y: Callable[[float], float]) -> str:
    """One point: its interval bar, the mark and the value above it."""
    if not _finite(row.estimate):
        return (
            f'<text x="{x:.1f}" y="{y(0) - 8:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#555">–</text>'
        )
    colour = "#b9770e" if row.wide else PALETTE[0]
    out = []
    if _finite(row.low) and _finite(row.high):
        y1, y2 = y(row.high), y(row.low)
        out.append(
            f'<line x1="{x:.1f}" y1="{y1:.1f}" x2="{x:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="2"/><line x1="{x - 6:.1f}" y1="{y1:.1f}" x2="{x + 6:.1f}" '
            f'y2="{y1:.1f}" stroke="{colour}" stroke-width="2"/><line x1="{x - 6:.1f}" '
            f'y1="{y2:.1f}" x2="{x + 6:.1f}" y2="{y2:.1f}" stroke="{colour}" stroke-width="2"/>'
        )
    mid = y(row.estimate)
    if row.wide:
        out.append(
            f'<path d="M{x:.1f} {mid - 6:.1f} L{x + 6:.1f} {mid:.1f} L{x:.1f} {mid + 6:.1f} '
            f'L{x - 6:.1f} {mid:.1f} Z" fill="#fff" stroke="{colour}" stroke-width="2"/>'
        )
    else:
        out.append(f'<circle cx="{x:.1f}" cy="{mid:.1f}" r="5" fill="{colour}"/>')
    out.append(
        f'<text x="{x + 9:.1f}" y="{mid + 4:.1f}" font-size="12" fill="#222" '
        f'paint-order="stroke" stroke="#fff" stroke-width="3">{fmt(row.estimate, 1)}%</text>'
    )
    return "".join(out)
