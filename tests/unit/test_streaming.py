"""Reports streamed to CSV and JSON (issue 9, target 5): the rows are written as they are
read, the text is the same as the whole report's, the totals are complete, and a report
that fails part-way leaves no file."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clinicledger import render
from clinicledger.render.formats import to_csv, to_json, to_json_data, write_csv, write_json
from clinicledger.reports.base import Report, collected, columns_of
from clinicledger.reports.receipts import _Dated, _days_in_order


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    when: dt.date
    client: str | None
    amount_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodRow:
    method: str
    amount_cents: int


ROWS = [
    Row(when=dt.date(2025, 3, 1), client="Ivy Marlowe", amount_cents=12_345),
    Row(when=dt.date(2025, 3, 2), client="=HYPERLINK()", amount_cents=-500),
    Row(when=dt.date(2025, 3, 2), client=None, amount_cents=7),
    Row(when=dt.date(2025, 3, 3), client='Zoë "Q" Ng', amount_cents=100_00),
]


def streamed(rows: list[Row], *, fail_after: int | None = None) -> tuple[Report, list[int]]:
    """A report whose rows are read as they are written, with a section built from them,
    as income-allocation and receipts are; and how many rows had been read when each was
    asked for."""
    totals: dict[str, int | str] = {"amount_cents": 0}
    section_totals: dict[str, int | str] = {"amount_cents": 0}
    read: list[int] = []

    def more() -> Iterator[Row]:
        total = 0
        for n, row in enumerate(rows):
            if fail_after is not None and n == fail_after:
                raise RuntimeError("the database went away")
            read.append(n)
            total += row.amount_cents
            yield row
        totals["amount_cents"] = total

    def by_client() -> Iterator[MethodRow]:
        yield MethodRow(method="all", amount_cents=int(totals["amount_cents"]))
        section_totals["amount_cents"] = totals["amount_cents"]

    report = Report(
        name="receipts",
        parameters={"from_date": "2025-03-01"},
        columns=columns_of(Row),
        rows=(),
        more=more(),
        totals=totals,
        sections=(
            Report(
                name="receipts by method",
                parameters={},
                columns=columns_of(MethodRow),
                rows=(),
                more=by_client(),
                totals=section_totals,
            ),
        ),
    )
    return report, read


def test_collected_reads_every_row_and_completes_the_totals_and_sections() -> None:
    report, _ = streamed(ROWS)
    whole = collected(report)
    assert whole.rows == tuple(ROWS)
    assert whole.more is None
    assert whole.totals == {"amount_cents": 21_852}
    assert whole.sections[0].rows == (MethodRow(method="all", amount_cents=21_852),)
    assert whole.sections[0].totals == {"amount_cents": 21_852}


def test_streamed_json_is_the_whole_reports_json_text() -> None:
    out = io.StringIO()
    write_json(streamed(ROWS)[0], out)
    whole = collected(streamed(ROWS)[0])
    assert out.getvalue() == json.dumps(to_json_data(whole), ensure_ascii=False)
    assert out.getvalue() == to_json(whole)
    data = json.loads(out.getvalue())
    assert data["totals"] == {"amount": "218.52"}
    assert [r["amount"] for r in data["rows"]] == ["123.45", "-5.00", "0.07", "100.00"]
    assert data["sections"][0]["rows"] == [{"method": "all", "amount": "218.52"}]


def test_streamed_json_of_no_rows_is_valid() -> None:
    out = io.StringIO()
    write_json(streamed([])[0], out)
    data = json.loads(out.getvalue())
    assert data["rows"] == [] and data["totals"] == {"amount": "0.00"}


def test_streamed_csv_is_the_whole_reports_csv() -> None:
    out = io.StringIO()
    write_csv(streamed(ROWS)[0], out)
    assert out.getvalue() == to_csv(collected(streamed(ROWS)[0]))
    assert out.getvalue().splitlines() == [
        "when,client,amount",
        "2025-03-01,Ivy Marlowe,123.45",
        "2025-03-02,'=HYPERLINK(),-5.00",
        "2025-03-02,,0.07",
        '2025-03-03,"Zoë ""Q"" Ng",100.00',
        "",
        "# receipts by method",
        "method,amount",
        "all,218.52",
    ]


def test_each_row_is_written_before_the_next_is_read() -> None:
    out = io.StringIO()
    seen: list[int] = []

    def more() -> Iterator[Row]:
        for row in ROWS:
            seen.append(out.getvalue().count("\n"))  # lines written before this row is read
            yield row

    report = Report(
        name="r", parameters={}, columns=columns_of(Row), rows=(), more=more(), totals={}
    )
    write_csv(report, out)
    assert seen == [1, 2, 3, 4]  # the header, then one more row each time


@pytest.mark.parametrize("format_", ["csv", "json"])
def test_a_report_failing_part_way_leaves_the_old_file_and_no_other(
    tmp_path: Path, format_: str
) -> None:
    target = tmp_path / f"report.{format_}"
    target.write_text("yesterday's report\n")
    report, read = streamed(ROWS, fail_after=2)
    with pytest.raises(RuntimeError, match="went away"):
        render.write(report, format_, str(target))
    assert read == [0, 1]
    assert target.read_text() == "yesterday's report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"report.{format_}"]


@pytest.mark.parametrize("format_", ["csv", "json", "table"])
def test_a_streamed_report_written_to_a_file_is_the_whole_reports_text(
    tmp_path: Path, format_: str
) -> None:
    render.write(streamed(ROWS)[0], format_, str(tmp_path / "streamed"))
    render.write(collected(streamed(ROWS)[0]), format_, str(tmp_path / "whole"))
    assert (tmp_path / "streamed").read_bytes() == (tmp_path / "whole").read_bytes()
    assert "218.52" in (tmp_path / "streamed").read_text()


def event(payment_id: int, day: int, kind: str = "payment") -> _Dated:
    """A receipt (or reversal) of 1.00 in cash entered on ``day`` April 2025, as the
    listing reads it: its date entered, payment id and kind first."""
    return (dt.date(2025, 4, day), payment_id, kind, 100, "cash", None, None)


def test_receipts_are_ordered_a_day_at_a_time_as_the_whole_listing_orders_them() -> None:
    recorded = [
        event(5, 5),
        event(3, 5, "payment_reversal"),  # however read, a payment comes before its reversal
        event(3, 5),
        event(2, 6),
        event(9, 5),  # a clock put back across midnight: entered on the 5th again
        event(1, 7),
        event(8, 9),
        event(4, 9),
    ]
    ordered = [event for day in _days_in_order(recorded) for event in day]
    whole = sorted(recorded, key=lambda e: (e[0], e[1], e[2] != "payment"))
    assert ordered == whole
    assert [(e[0].day, e[1], e[2]) for e in ordered][:2] == [
        (5, 3, "payment"),
        (5, 3, "payment_reversal"),
    ]
    assert [(e[0].day, e[1]) for e in ordered][:4] == [
        (5, 3),
        (5, 3),
        (5, 5),
        (5, 9),
    ]


ZONES = [
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Australia/Adelaide",
    "America/Santiago",
    "UTC",
    "Asia/Kolkata",
]


def as_stored(instant: dt.datetime) -> str:
    """A naive UTC instant as SQLite keeps it."""
    return instant.isoformat(" ", "microseconds")


@pytest.mark.parametrize("zone", ZONES)
def test_local_clock_is_local_time_across_every_change_of_offset(zone: str) -> None:
    """By the hour's offset where an hour has one offset; instant by instant where it
    changes (Lord Howe by half an hour, Santiago at midnight), to the same local time,
    offset and fold; and the same local date from the instant as SQLite keeps it."""
    from zoneinfo import ZoneInfo

    from clinicledger.reports.base import local_clock, local_dates, local_dates_of_text, local_time

    tz = ZoneInfo(zone)
    local, local_date, local_text = local_clock(tz), local_dates(tz), local_dates_of_text(tz)
    instant = dt.datetime(2024, 3, 30)
    checked = 0
    while instant < dt.datetime(2025, 4, 10):
        # two days around each April and October change, every 7 minutes 13.5 seconds
        if instant.month in (4, 9, 10) and instant.day <= 9:
            expected, got = local_time(instant, tz), local(instant)
            assert (got, got.utcoffset(), got.fold, got.isoformat()) == (
                expected,
                expected.utcoffset(),
                expected.fold,
                expected.isoformat(),
            ), instant
            assert local_date(instant) == expected.date(), instant
            assert local_text(as_stored(instant)) == expected.date(), instant
            checked += 1
            instant += dt.timedelta(minutes=7, seconds=13, microseconds=500_000)
        else:
            instant += dt.timedelta(days=1)
    assert checked > 5_000


def test_local_clock_is_the_same_whatever_order_instants_come_in() -> None:
    """The clock keeps the hour it last looked up; instants back and forth across a change
    of offset (Sydney, 6 April 2025, 03:00 back to 02:00) are each converted whole."""
    import random
    from zoneinfo import ZoneInfo

    from clinicledger.reports.base import local_clock, local_dates, local_dates_of_text, local_time

    tz = ZoneInfo("Australia/Sydney")
    start = dt.datetime(2025, 4, 5, 14)  # UTC: 01:00 local, an hour before the change
    instants = [start + dt.timedelta(minutes=13 * n, seconds=n % 60) for n in range(40)]
    random.Random(7).shuffle(instants)
    local, local_date, local_text = local_clock(tz), local_dates(tz), local_dates_of_text(tz)
    for instant in instants:
        expected = local_time(instant, tz)
        got = local(instant)
        assert (got, got.utcoffset(), got.fold) == (expected, expected.utcoffset(), expected.fold)
        assert local_date(instant) == expected.date()
        assert local_text(as_stored(instant)) == expected.date()


@pytest.mark.parametrize("zone", ZONES)
def test_a_local_date_read_off_the_stored_text_turns_at_local_midnight(zone: str) -> None:
    """Either side of every local midnight of two years (half an hour into a UTC hour in
    Adelaide, Kolkata and Lord Howe), to the microsecond, in the order recorded."""
    from zoneinfo import ZoneInfo

    from clinicledger.reports.base import local_dates_of_text, local_time

    tz = ZoneInfo(zone)
    local_text = local_dates_of_text(tz)
    tick = dt.timedelta(microseconds=1)
    day = dt.date(2024, 1, 1)
    while day < dt.date(2026, 1, 1):
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)
        utc = midnight.replace(tzinfo=None)
        for instant in (utc - tick, utc, utc + tick):
            assert local_text(as_stored(instant)) == local_time(instant, tz).date(), instant
        day += dt.timedelta(days=1)
