"""Server-rendered SVG charts: confidence-interval bars, counts over time, comparisons.

Biểu đồ. No JavaScript and no CDN: every chart is inline SVG with a <title>,
a <desc> and its numbers printed as text, so it reads on a phone, prints, and
makes sense to a screen reader. Values are percentages on a 0-100 axis.

Each chart has two layouts. The wide one (laptop, printed report) puts the
labels in a column left of the plot. The compact one (phone) is
:data:`COMPACT_WIDTH` units wide and puts each label above its bar, so shown
full width on a 360 px screen its text keeps about its nominal size (13 and 12
units) instead of shrinking to 5 px; :func:`for_screen` renders both and the
stylesheet shows one. Labels are wrapped over lines, never cut: two different
labels always read differently (II.0.2 and II.0.3 share their first 30 letters).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask_babel import gettext
from markupsafe import Markup, escape

from survey_app.i18n import number

# Wide layout, in SVG user units; the SVG scales to its container (at most 900 px wide).
ROW_HEIGHT = 26
LABEL_WIDTH = 260
VALUE_WIDTH = 210
PLOT_WIDTH = 330
WIDTH = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
WIDE_FONT = 12
# Compact layout: about a phone's content width in CSS pixels, so 1 unit is ~1 px there.
COMPACT_WIDTH = 300
COMPACT_PLOT = 190
COMPACT_FONT = 13
COMPACT_SMALL = 12
LINE_HEIGHT = 1.25  # of the font size
PALETTE = ("#1f5f99", "#c0392b")
WIDE_COLOUR = "#b9770e"
P_FLOOR = 0.001


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


def p_value(p: float | None, *, named: bool = True) -> str:
    """A p-value as people read it: ``p = 0,012``, ``p < 0,001`` (never ``p = 0,000``).

    Three decimals in the locale's way; below 0.001 only the bound is meaningful.
    ``named=False`` leaves out the ``p`` (a table column headed p): ``0,012``, ``< 0,001``.
    """
    prefix = "p " if named else ""
    if not _finite(p):
        return "p = –" if named else "–"
    assert p is not None
    if p < P_FLOOR:
        return f"{prefix}< {number(P_FLOOR, 3)}"
    return f"{prefix}= {number(p, 3)}" if named else number(p, 3)


# ------------------------------------------------------------------ labels over lines
def _em(char: str) -> float:
    """A character's advance in em, roughly, in a sans-serif font (diacritics add nothing)."""
    base = unicodedata.normalize("NFD", char)[:1] or char
    if base in " .,:;'!|iIjlt()[]/":
        return 0.32
    if base in "mwMW%—":
        return 0.85
    if base.isupper() or base in "–":
        return 0.68
    return 0.55


# DejaVu Sans (Debian's sans-serif, among the widest) measured in chromium runs up to 10%
# wider than the table above: estimates err on the wide side so lines never overrun.
WIDTH_MARGIN = 1.12


def text_width(text: str, size: float) -> float:
    """An estimate of ``text``'s width in user units at font size ``size``."""
    return sum(_em(c) for c in text) * size * WIDTH_MARGIN


def wrap(label: str, width: float, size: float) -> list[str]:
    """``label`` in lines at most ``width`` units wide, broken at spaces only.

    Joined with single spaces the lines give back the label (whitespace collapsed):
    nothing is cut, so distinct labels stay distinct. A word wider than a line has
    its own line; :func:`_lines` squeezes it to fit.
    """
    lines: list[str] = []
    for word in label.split():
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _lines(label: str, x: float, y: float, width: float, size: float, extra: str = "") -> str:
    """A ``<text class="label">`` of the wrapped label, its first baseline at ``y``."""
    spans = []
    for k, line in enumerate(wrap(label, width, size)):
        squeeze = (
            f' textLength="{width:.0f}" lengthAdjust="spacingAndGlyphs"'
            if text_width(line, size) > width
            else ""
        )
        dy = "0" if k == 0 else f"{LINE_HEIGHT}em"
        spans.append(f'<tspan x="{x:.1f}" dy="{dy}"{squeeze}>{escape(line)}</tspan>')
    # A space between the lines: the label reads as one text when copied or read out.
    return (
        f'<text class="label" x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="#222"{extra}>'
        + " ".join(spans)
        + "</text>"
    )


def _line_count(label: str, width: float, size: float) -> int:
    return len(wrap(label, width, size))


# ------------------------------------------------------------------ shared pieces
def _open(width: float, height: float, title: str, desc: str, compact: bool) -> list[str]:
    kind = "chart-compact" if compact else "chart-wide"
    return [
        f'<svg class="chart {kind}" role="img" viewBox="0 0 {width:.0f} {height:.0f}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(desc)}</desc>",
    ]


def _ci_desc(rows: Sequence[CIRow]) -> str:
    return "; ".join(
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


class _Scale:
    """Percent 0-100 onto ``left``..``left + width``."""

    def __init__(self, left: float, width: float) -> None:
        self.left, self.width = left, width

    def __call__(self, value: float) -> float:
        return self.left + max(0.0, min(100.0, value)) / 100.0 * self.width


def _axis(x: _Scale, top: float, bottom: float, size: float, ticks: Sequence[int]) -> list[str]:
    """Gridlines from ``top`` to ``bottom`` with the tick values above them."""
    parts = []
    for tick in ticks:
        at = x(tick)
        parts.append(
            f'<line x1="{at:.1f}" y1="{top:.1f}" x2="{at:.1f}" y2="{bottom:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{at:.1f}" y="{top - 4:.1f}" font-size="{size}" text-anchor="middle" '
            f'fill="#555">{tick}</text>'
        )
    return parts


def _estimate(x: _Scale, row: CIRow, mid: float, colour: str, bar: float | None) -> list[str]:
    """The estimate as a dot (and a pale bar of height ``bar``) with its interval whisker."""
    parts = []
    if bar is not None and _finite(row.estimate):
        parts.append(
            f'<rect x="{x.left:.1f}" y="{mid - bar / 2:.1f}" '
            f'width="{x(row.estimate) - x.left:.1f}" height="{bar:.1f}" '
            f'fill="{colour}" fill-opacity="0.35"/>'
        )
    if _finite(row.low) and _finite(row.high):
        x1, x2 = x(row.low), x(row.high)
        parts.append(
            f'<line x1="{x1:.1f}" y1="{mid:.1f}" x2="{x2:.1f}" y2="{mid:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<line x1="{x1:.1f}" y1="{mid - 6:.1f}" x2="{x1:.1f}" y2="{mid + 6:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<line x1="{x2:.1f}" y1="{mid - 6:.1f}" x2="{x2:.1f}" y2="{mid + 6:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
    if _finite(row.estimate):
        parts.append(f'<circle cx="{x(row.estimate):.1f}" cy="{mid:.1f}" r="4" fill="{colour}"/>')
    return parts


def _percent(x: float) -> str:
    """``72,50%``, or a dash alone for a period without answers."""
    return f"{fmt(x)}%" if _finite(x) else fmt(x)


def for_screen(draw: Callable[..., Markup]) -> Markup:
    """Both layouts of one chart (``draw(compact=...)``); the dashboard's stylesheet shows
    the compact one on narrow screens and the wide one elsewhere."""
    return Markup('<div class="chart-set">{}{}</div>').format(
        draw(compact=False), draw(compact=True)
    )


# ------------------------------------------------------------------ charts
def ci_bars(rows: Sequence[CIRow], title: str, *, compact: bool = False) -> Markup:
    """Horizontal bars (the estimate) with the confidence interval as a whisker."""
    if compact:
        return _ci_bars_compact(rows, title)
    label_room = LABEL_WIDTH - 12
    heights = [max(ROW_HEIGHT, _line_count(r.label, label_room, WIDE_FONT) * 15 + 11) for r in rows]
    height = 20 + (sum(heights) if rows else ROW_HEIGHT)
    x = _Scale(LABEL_WIDTH, PLOT_WIDTH)
    parts = _open(WIDTH, height, title, _ci_desc(rows), False)
    parts += _axis(x, 14, height - 4, 10, (0, 25, 50, 75, 100))
    top = 18.0
    for row, row_height in zip(rows, heights, strict=True):
        mid = top + row_height / 2
        lines = _line_count(row.label, label_room, WIDE_FONT)
        first = mid + 4 - (lines - 1) * 15 / 2
        parts.append(_lines(row.label, 4, first, label_room, WIDE_FONT))
        colour = WIDE_COLOUR if row.wide else PALETTE[0]
        parts += _estimate(x, row, mid, colour, ROW_HEIGHT - 12)
        parts.append(
            f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 8}" y="{mid + 4:.1f}" font-size="12" '
            f'fill="#222">{fmt(row.estimate)}% '
            f'<tspan fill="#555" font-size="11">[{fmt(row.low, 1)}–{fmt(row.high, 1)}] '
            f"n={row.n}</tspan></text>"
        )
        top += row_height
    parts.append("</svg>")
    return Markup("".join(parts))


def _ci_bars_compact(rows: Sequence[CIRow], title: str) -> Markup:
    """Phone layout: the label over its bar, the figures beside and under it."""
    step = COMPACT_FONT * LINE_HEIGHT
    heights = [
        _line_count(r.label, COMPACT_WIDTH - 8, COMPACT_FONT) * step + 22 + 16 + 12 for r in rows
    ]
    height = 24 + sum(heights)
    x = _Scale(6, COMPACT_PLOT)
    parts = _open(COMPACT_WIDTH, height, title, _ci_desc(rows), True)
    parts += _axis(x, 18, 22, COMPACT_SMALL, (0, 50, 100))
    top = 24.0
    for row, row_height in zip(rows, heights, strict=True):
        lines = _line_count(row.label, COMPACT_WIDTH - 8, COMPACT_FONT)
        parts.append(_lines(row.label, 4, top + COMPACT_FONT, COMPACT_WIDTH - 8, COMPACT_FONT))
        mid = top + lines * step + 13
        colour = WIDE_COLOUR if row.wide else PALETTE[0]
        parts.append(
            f'<rect x="{x.left:.1f}" y="{mid - 8:.1f}" width="{COMPACT_PLOT}" height="16" '
            'fill="#eef1f4"/>'
            f'<line x1="{x(50):.1f}" y1="{mid - 8:.1f}" x2="{x(50):.1f}" y2="{mid + 8:.1f}" '
            'stroke="#ccd3d9" stroke-width="1"/>'
        )
        parts += _estimate(x, row, mid, colour, 10)
        detail = escape(
            gettext(
                "KTC %(low)s–%(high)s · n = %(n)s",
                low=fmt(row.low, 1),
                high=fmt(row.high, 1),
                n=row.n,
            )
            if _finite(row.low) and _finite(row.high)
            else f"n = {row.n}"
        )
        parts.append(
            f'<text x="{x(100) + 8:.1f}" y="{mid + 5:.1f}" font-size="{COMPACT_FONT}" '
            f'font-weight="600" fill="#222">{_percent(row.estimate)}</text>'
            f'<text x="4" y="{mid + 8 + COMPACT_SMALL + 2:.1f}" font-size="{COMPACT_SMALL}" '
            f'fill="#555">{detail}</text>'
        )
        top += row_height
    parts.append("</svg>")
    return Markup("".join(parts))


def count_bars(buckets: Sequence[tuple[str, int]], title: str, *, compact: bool = False) -> Markup:
    """Bars of counts (responses per week or month), each with its number: vertical in
    the wide layout, one row per bucket in the compact one."""
    desc = "; ".join(f"{label}: {c}" for label, c in buckets)
    top_value = max([c for _, c in buckets] + [1])
    if compact:
        row = 22
        height = 8 + row * max(1, len(buckets))
        left, room = 64, COMPACT_WIDTH - 64 - 44
        parts = _open(COMPACT_WIDTH, height, title, desc, True)
        for i, (label, value) in enumerate(buckets):
            mid = 4 + i * row + row / 2
            w = room * value / top_value
            parts.append(
                f'<text x="4" y="{mid + 4:.1f}" font-size="{COMPACT_SMALL}" fill="#222">'
                f"{escape(label)}</text>"
                f'<rect x="{left}" y="{mid - 7:.1f}" width="{w:.1f}" height="14" '
                f'fill="{PALETTE[0]}"/>'
                f'<text x="{left + w + 4:.1f}" y="{mid + 4:.1f}" font-size="{COMPACT_SMALL}" '
                f'fill="#222">{value}</text>'
            )
        parts.append("</svg>")
        return Markup("".join(parts))
    count = max(1, len(buckets))
    width = max(WIDTH, 44 * count)
    plot_h = 140
    slot = (width - 20) / count
    parts = _open(width, plot_h + 60, title, desc, False)
    parts.append(
        f'<line x1="10" y1="{plot_h + 20}" x2="{width - 10:.0f}" y2="{plot_h + 20}" stroke="#999"/>'
    )
    for i, (label, value) in enumerate(buckets):
        h = plot_h * value / top_value
        x = 10 + i * slot
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{plot_h + 20 - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{x + slot / 2:.1f}" y="{plot_h + 16 - h:.1f}" font-size="11" '
            f'text-anchor="middle" fill="#222">{value}</text>'
            f'<text x="{x + slot / 2:.1f}" y="{plot_h + 35}" font-size="11" '
            f'text-anchor="middle" fill="#555">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def paired_ci_bars(
    rows: Sequence[tuple[CIRow, CIRow | None]],
    title: str,
    names: tuple[str, str],
    *,
    compact: bool = False,
) -> Markup:
    """Two intervals per label, this period above the comparison period."""
    desc = "; ".join(
        f"{a.label}: {names[0]} {fmt(a.estimate)}%"
        + (f", {names[1]} {fmt(b.estimate)}%" if b is not None else "")
        for a, b in rows
    )
    if compact:
        return _paired_compact(rows, title, names, desc)
    label_room = LABEL_WIDTH - 12
    heights = [
        max(2 * ROW_HEIGHT, _line_count(a.label, label_room, WIDE_FONT) * 15 + 11) for a, _ in rows
    ]
    height = 58 + (sum(heights) if rows else 2 * ROW_HEIGHT)
    x = _Scale(LABEL_WIDTH, PLOT_WIDTH)
    parts = _open(WIDTH, height, title, desc, False)
    parts += _axis(x, 14, height - 40, 10, (0, 25, 50, 75, 100))
    for k, name in enumerate(names):  # one line each: a campaign's name can be long
        y = height - 34 + 16 * k
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="10" height="10" fill="{PALETTE[k]}"/>'
            f'<text x="{LABEL_WIDTH + 14}" y="{y + 9}" font-size="11">{escape(name)}</text>'
        )
    top = 18.0
    for (current, previous), row_height in zip(rows, heights, strict=True):
        lines = _line_count(current.label, label_room, WIDE_FONT)
        first = top + row_height / 2 + 4 - (lines - 1) * 15 / 2
        parts.append(_lines(current.label, 4, first, label_room, WIDE_FONT))
        for k, row in enumerate((current, previous)):
            if row is None:
                continue
            mid = top + row_height / 2 + (k - 0.5) * ROW_HEIGHT * 0.8
            parts += _period_mark(x, row, k, mid, LABEL_WIDTH + PLOT_WIDTH + 8, 11)
        top += row_height
    parts.append("</svg>")
    return Markup("".join(parts))


def _period_mark(x: _Scale, row: CIRow, k: int, mid: float, at: float, size: float) -> list[str]:
    """One period's interval and estimate with its figure, in the period's colour."""
    return [
        *_estimate(x, row, mid, PALETTE[k], None),
        f'<text x="{at:.1f}" y="{mid + 4:.1f}" font-size="{size}" fill="{PALETTE[k]}">'
        f"{fmt(row.estimate)}% n={row.n}</text>",
    ]


def _paired_compact(
    rows: Sequence[tuple[CIRow, CIRow | None]], title: str, names: tuple[str, str], desc: str
) -> Markup:
    """Phone layout: a legend on top, then each label over its two bars."""
    step = COMPACT_FONT * LINE_HEIGHT
    legend_lines = [_line_count(n, COMPACT_WIDTH - 24, COMPACT_SMALL) for n in names]
    legend_height = sum(legend_lines) * COMPACT_SMALL * LINE_HEIGHT + 8
    heights = [
        _line_count(a.label, COMPACT_WIDTH - 8, COMPACT_FONT) * step + 2 * 20 + 10 for a, _ in rows
    ]
    height = legend_height + 24 + sum(heights)
    x = _Scale(6, COMPACT_PLOT)
    parts = _open(COMPACT_WIDTH, height, title, desc, True)
    y = 4.0
    for k, name in enumerate(names):
        parts.append(
            f'<rect x="4" y="{y + 2:.1f}" width="11" height="11" fill="{PALETTE[k]}"/>'
            + _lines(name, 20, y + COMPACT_SMALL, COMPACT_WIDTH - 24, COMPACT_SMALL)
        )
        y += legend_lines[k] * COMPACT_SMALL * LINE_HEIGHT
    top = legend_height + 24
    parts += _axis(x, top - 6, top - 2, COMPACT_SMALL, (0, 50, 100))
    for (current, previous), row_height in zip(rows, heights, strict=True):
        lines = _line_count(current.label, COMPACT_WIDTH - 8, COMPACT_FONT)
        parts.append(_lines(current.label, 4, top + COMPACT_FONT, COMPACT_WIDTH - 8, COMPACT_FONT))
        for k, row in enumerate((current, previous)):
            mid = top + lines * step + 12 + 20 * k
            parts.append(
                f'<rect x="{x.left:.1f}" y="{mid - 8:.1f}" width="{COMPACT_PLOT}" height="16" '
                'fill="#eef1f4"/>'
            )
            if row is not None:
                parts += _period_mark(x, row, k, mid, x(100) + 8, COMPACT_SMALL)
        top += row_height
    parts.append("</svg>")
    return Markup("".join(parts))


def _heading(title: str, rows: Sequence[CIRow]) -> str:
    """A chart's <title> and a <desc> that reads out every estimate with its interval."""
    return f"<title>{escape(title)}</title><desc>{escape(_ci_desc(rows))}</desc>"


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


def trend_chart(
    segments: Sequence[Sequence[CIRow]], title: str, *, compact: bool = False
) -> Markup:
    """The index over time: a point per period with its interval as a vertical bar.

    Points of one segment (the periods of a campaign) are joined by a line; segments
    (campaigns) are apart, with a dashed rule between them. A point too uncertain to
    conclude is an open diamond, not only another colour; every point has its value
    and n printed under it. On a phone (``compact``) time runs down the screen: a row
    per period, as the other charts' phone layout, so nothing scrolls sideways.
    """
    rows = [r for segment in segments for r in segment]
    if compact:
        return _ci_bars_compact(rows, title)
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
        f'<svg class="chart chart-wide trend" role="img" viewBox="0 0 {width} {height}" '
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
