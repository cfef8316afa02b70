"""The table format on a narrow terminal: text wraps, figures never do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from clinicledger.render.formats import to_text
from clinicledger.reports.base import Report, columns_of


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    debtor: str
    code: str
    recorded: dt.datetime
    sessions: int
    owing_cents: int


def report(rows: list[Row]) -> Report:
    return Report(
        name="debtors",
        parameters={"as_of": "2024-03-02", "location": "MAIN"},
        columns=columns_of(Row),
        rows=tuple(rows),
        totals={"owing_cents": sum(r.owing_cents for r in rows)},
    )


IVY = Row(
    debtor="Ivy Marlowe of the Harbourside Allied Health Fund",
    code="PT0001",
    recorded=dt.datetime(2024, 3, 2, 10, 15),
    sessions=12,
    owing_cents=123456789,
)


def test_at_40_columns_the_name_wraps_and_every_figure_stays_whole() -> None:
    text = to_text(report([IVY]), width=40)
    lines = text.splitlines()
    assert lines[0] == "debtors, as of 2024-03-02, location MAIN"
    for figure in ("PT0001", "2024-03-02 10:15:00", "12", "1234567.89"):
        assert any(figure in line for line in lines), (figure, text)
    assert "Ivy" in lines[3] and "Fund" not in lines[3]  # the name goes on over lines


def test_without_a_width_every_row_is_one_line() -> None:
    lines = to_text(report([IVY, IVY])).splitlines()
    assert lines[0] == "debtors, as of 2024-03-02, location MAIN"
    assert sum("1234567.89" in line for line in lines) == 2
    assert len(lines) == 1 + 1 + 1 + 2 + 1 + 0  # title, header, rule, rows, totals


@given(
    names=st.lists(st.text("abcdefghij ", min_size=1, max_size=60), min_size=1, max_size=4),
    cents=st.lists(st.integers(0, 10**14), min_size=4, max_size=4),
    width=st.integers(20, 120),
)
def test_no_width_cuts_an_amount_or_a_code(names: list[str], cents: list[int], width: int) -> None:
    rows = [
        Row(debtor=n, code=f"PT{k:04d}", recorded=IVY.recorded, sessions=k, owing_cents=c)
        for k, (n, c) in enumerate(zip(names, cents, strict=False))
    ]
    text = to_text(report(rows), width=width)
    for row in rows:
        assert f"{row.owing_cents // 100}.{row.owing_cents % 100:02d}" in text
        assert row.code in text
