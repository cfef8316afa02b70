"""Charts drawn on the server from a report's rows: PNG files, with matplotlib's
non-interactive Agg canvas (imported only when a chart is drawn)."""

from __future__ import annotations

import io

from clinicledger.reports.base import Report


def aging_chart(report: Report) -> bytes:
    """Draw ``report`` (an aging trend) as a stacked bar chart, one bar per month end, as
    PNG (the caller writes it: render/files.py)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    brackets = [c for c in report.columns if c.key.startswith("days_")]
    labels = [row.month_end.strftime("%Y-%m") for row in report.rows]
    figure = Figure(figsize=(max(7.0, 0.6 * len(labels) + 3.0), 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bottoms = [0] * len(labels)
    colours = ("#4c9a2a", "#e0b000", "#e07000", "#c0282d")
    positions = list(range(len(labels)))
    for column, colour in zip(brackets, colours, strict=True):
        cents = [int(getattr(row, column.field)) for row in report.rows]
        # Floats only to place pixels: dollars = cents / 100, never summed or shown as money.
        axes.bar(
            positions,
            [c / 100 for c in cents],
            bottom=[b / 100 for b in bottoms],
            color=colour,
            label=column.key.removeprefix("days_").replace("_plus", "+").replace("_", "-")
            + " days",
        )
        bottoms = [b + c for b, c in zip(bottoms, cents, strict=True)]
    # Headroom above the tallest bar, so that its top is never cut by the frame.
    axes.set_ylim(0, max([*bottoms, 100]) / 100 * 1.08)
    axes.set_xticks(positions, labels, rotation=45, ha="right")
    axes.set_ylabel("owing ($)")
    axes.set_title("Receivables by age at month end")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.tight_layout()
    drawn = io.BytesIO()
    figure.savefig(drawn, format="png")
    return drawn.getvalue()
