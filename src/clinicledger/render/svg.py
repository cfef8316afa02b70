"""Charts as SVG, drawn on the server from a report's figures: text that a page puts
inline and a PDF prints as it is (WeasyPrint draws SVG), with no script and no style
attribute (the pages' CSP refuses inline style; colours are SVG presentation attributes).
No plotting library: a bar chart is a few rectangles, and a page must not wait for one.

Amounts come in integer cents; floats only place pixels (a bar's height), never sum money
or show it: every label is formatted from the cents by the caller's ``money``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

COLOURS = ("#1f7a8c", "#e0b000", "#e07000", "#c0282d", "#6a4c93", "#4c9a2a", "#8a6d3b", "#5b6675")
WIDTH = 760
HEIGHT = 320
LEFT = 78  # room for the amounts of the axis
RIGHT_LEGEND = 170
TOP = 34
BOTTOM = 62  # room for the categories, turned


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    name: str
    cents: tuple[int, ...]  # one per category


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    """Bars, one per category, each the stack of its series' amounts (negatives below
    the axis)."""

    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]

    def __post_init__(self) -> None:
        for one in self.series:
            if len(one.cents) != len(self.categories):
                raise ValueError(f"series {one.name!r} has not one amount per category")

    @property
    def empty(self) -> bool:
        return not self.categories or all(c == 0 for s in self.series for c in s.cents)


def _step(span_cents: int) -> int:
    """A round step between the axis's lines (1, 2 or 5 times a power of ten dollars, or
    cents below a dollar) giving at most five of them over ``span_cents``."""
    rough = max(span_cents // 5, 1)
    power = int(10 ** (len(str(rough)) - 1))
    for factor in (1, 2, 5, 10):
        if factor * power >= rough:
            return factor * power
    return 10 * power


def bar_chart(chart: Chart, money: Callable[[int], str]) -> str:
    """``chart`` as an ``<svg>`` element; ``money`` formats the axis's amounts."""
    n = max(len(chart.categories), 1)
    ups = [sum(max(s.cents[k], 0) for s in chart.series) for k in range(len(chart.categories))]
    downs = [sum(min(s.cents[k], 0) for s in chart.series) for k in range(len(chart.categories))]
    high, low = max([*ups, 0]), min([*downs, 0])
    step = _step(max(high - low, 100))
    top = math.ceil(high / step) * step if high else 0
    bottom = math.floor(low / step) * step if low else 0
    if top == bottom:
        top = step
    plot_w = WIDTH - LEFT - RIGHT_LEGEND
    plot_h = HEIGHT - TOP - BOTTOM

    def y(cents: int) -> float:
        return TOP + plot_h * (top - cents) / (top - bottom)

    slot = plot_w / n
    bar = min(slot * 0.7, 48.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label={quoteattr(chart.title)} '
        f'font-family="DejaVu Sans, Arial, sans-serif" class="chart">',
        f"<title>{escape(chart.title)}</title>",
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="700" fill="#1d2530">'
        f"{escape(chart.title)}</text>",
    ]
    for level in range(bottom, top + 1, step):
        at = y(level)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{at:.1f}" y2="{at:.1f}" '
            f'stroke="{"#8a96a3" if level == 0 else "#e3e7ec"}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{at + 4:.1f}" font-size="11" fill="#5b6675" '
            f'text-anchor="end">{escape(money(level))}</text>'
        )
    for k, category in enumerate(chart.categories):
        x = LEFT + slot * k + (slot - bar) / 2
        up, down = 0, 0
        for index, series in enumerate(chart.series):
            cents = series.cents[k]
            if cents == 0:
                continue
            if cents > 0:
                y0, y1 = y(up + cents), y(up)
                up += cents
            else:
                y0, y1 = y(down), y(down + cents)
                down += cents
            parts.append(
                f'<rect x="{x:.1f}" y="{y0:.1f}" width="{bar:.1f}" '
                f'height="{max(y1 - y0, 0.5):.1f}" '
                f'fill="{COLOURS[index % len(COLOURS)]}">'
                f"<title>{escape(category)}: {escape(series.name)} {escape(money(cents))}</title>"
                f"</rect>"
            )
        cx = x + bar / 2
        ly = TOP + plot_h + 14
        parts.append(
            f'<text x="{cx:.1f}" y="{ly:.1f}" font-size="11" fill="#5b6675" '
            f'text-anchor="end" transform="rotate(-35 {cx:.1f} {ly:.1f})">{escape(category)}</text>'
        )
    for index, series in enumerate(chart.series):
        ly = TOP + 4 + 20 * index
        lx = WIDTH - RIGHT_LEGEND + 16
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" '
            f'fill="{COLOURS[index % len(COLOURS)]}"/>'
            f'<text x="{lx + 18}" y="{ly + 10}" font-size="12" fill="#1d2530">'
            f"{escape(series.name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
