"""Charts as SVG (render/svg.py): bars stand on the axis in proportion to their cents,
negatives hang below it, the axis steps are round, and nothing in it is script or style."""

from __future__ import annotations

import re

import pytest

from clinicledger.render.svg import HEIGHT, TOP, Chart, Series, _step, bar_chart


def money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def rects(svg: str) -> list[tuple[float, float, float]]:
    """(y, height, ...) of each bar (the legend's squares are 12 high and have no title)."""
    return [
        (float(y), float(h), float(x))
        for x, y, h in re.findall(
            r'<rect x="([\d.]+)" y="([\d.-]+)" width="[\d.]+" height="([\d.]+)"', svg
        )
    ]


@pytest.mark.parametrize(
    ("span", "step"), [(100, 20), (20_500, 5_000), (1_000_000, 200_000), (99_999, 20_000)]
)
def test_the_axis_steps_are_round(span: int, step: int) -> None:
    assert _step(span) == step
    assert span / step <= 5


def test_bars_are_in_proportion_and_stacked() -> None:
    chart = Chart(
        title="T",
        categories=("a", "b"),
        series=(Series(name="x", cents=(10_000, 5_000)), Series(name="y", cents=(10_000, 0))),
    )
    svg = bar_chart(chart, money)
    bars = rects(svg)[:3]  # a: x, y stacked; b: x
    a_x, a_y, b_x = bars
    assert a_x[1] == pytest.approx(a_y[1]) == pytest.approx(2 * b_x[1], rel=0.01)
    assert a_y[0] + a_y[1] == pytest.approx(a_x[0], abs=0.2)  # y sits on top of x
    assert "<title>a: y $100.00</title>" in svg and "style=" not in svg and "<script" not in svg


def test_a_negative_hangs_below_the_axis() -> None:
    svg = bar_chart(
        Chart(title="T", categories=("a",), series=(Series(name="x", cents=(-500,)),)), money
    )
    zero = re.search(r'y1="([\d.]+)"[^>]*stroke="#8a96a3"', svg)
    assert zero is not None
    y, height, _ = rects(svg)[0]
    assert y == pytest.approx(float(zero.group(1)), abs=0.2) and TOP < y + height <= HEIGHT


def test_a_series_must_have_an_amount_per_category() -> None:
    with pytest.raises(ValueError, match="one amount per category"):
        Chart(title="T", categories=("a", "b"), series=(Series(name="x", cents=(1,)),))


def test_labels_are_escaped() -> None:
    svg = bar_chart(
        Chart(title="<b>", categories=("a&b",), series=(Series(name="<i>", cents=(1,)),)), money
    )
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "a&amp;b" in svg and "&lt;i&gt;" in svg
