"""Saved report settings: a report and its parameters to JSON and back (no database)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicledger.domain.errors import InvalidInput
from clinicledger.reports.base import ReportParams
from clinicledger.reports.favourites import favourite_data, favourite_from_data

D = dt.date


def test_receipts_favourite_round_trips_through_json() -> None:
    params = ReportParams(
        from_date=D(2024, 10, 2),
        to_date=D(2024, 10, 2),
        as_known_at=dt.datetime(2024, 10, 2, 7, 30, 15),
        location="MAIN",
        provider="DR1",
        options={"by": "service", "by_provider": True, "interval_days": 30, "unused": None},
    )
    data = favourite_data("receipts", params)
    assert data == {
        "version": 1,
        "report": "receipts",
        "parameters": {
            "from_date": "2024-10-02",
            "to_date": "2024-10-02",
            "as_known_at": "2024-10-02T07:30:15",
            "provider": "DR1",
            "location": "MAIN",
            "options": {"by": "service", "by_provider": True, "interval_days": 30},
        },
    }
    report, back = favourite_from_data(json.loads(json.dumps(data)))
    assert report == "receipts"
    assert back == ReportParams(
        from_date=D(2024, 10, 2),
        to_date=D(2024, 10, 2),
        as_known_at=dt.datetime(2024, 10, 2, 7, 30, 15),
        location="MAIN",
        provider="DR1",
        options={"by": "service", "by_provider": True, "interval_days": 30},
    )


def test_an_aware_as_known_at_is_stored_as_utc() -> None:
    aware = dt.datetime(2024, 10, 2, 17, 30, tzinfo=dt.timezone(dt.timedelta(hours=10)))
    data = favourite_data("debtors", ReportParams(as_known_at=aware))
    assert data["parameters"] == {"as_known_at": "2024-10-02T07:30:00"}


def test_a_preset_is_resolved_on_the_day_it_is_run() -> None:
    """The end-of-day listing is saved once; each run lists that day's receipts."""
    data = favourite_data("receipts", ReportParams(location="MAIN"), preset="today")
    assert data["preset"] == "today"
    assert "from_date" not in data["parameters"]
    _, params = favourite_from_data(data, today=D(2024, 10, 3))
    assert (params.from_date, params.to_date) == (D(2024, 10, 3), D(2024, 10, 3))
    _, params = favourite_from_data(
        favourite_data("receipts", ReportParams(), preset="last-month"), today=D(2024, 10, 3)
    )
    assert (params.from_date, params.to_date) == (D(2024, 9, 1), D(2024, 9, 30))
    with pytest.raises(InvalidInput) as caught:
        favourite_from_data(data)
    assert caught.value.field == "preset"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"version": 2, "report": "receipts"}, "version", "favourite version 2 is not 1"),
        ({"version": 1}, "report", "a report name is required"),
        (
            {"version": 1, "report": "receipts", "colour": "red"},
            "colour",
            "is not a key of a favourite",
        ),
        (
            {"version": 1, "report": "receipts", "parameters": {"to": "2024-10-02"}},
            "to",
            "is not a key of a favourite's parameters",
        ),
        (
            {"version": 1, "report": "receipts", "parameters": {"from_date": "2 Oct"}},
            "from_date",
            "'2 Oct' is not a date (YYYY-MM-DD)",
        ),
        (
            {
                "version": 1,
                "report": "receipts",
                "parameters": {"as_known_at": "2024-10-02T07:30:00+10:00"},
            },
            "as_known_at",
            "'2024-10-02T07:30:00+10:00' is not a UTC time (YYYY-MM-DDTHH:MM:SS)",
        ),
        (
            {"version": 1, "report": "receipts", "parameters": {"options": {"ratio": 0.5}}},
            "ratio",
            "an option of type float cannot be saved",
        ),
        (
            {"version": 1, "report": "receipts", "preset": "yesterday"},
            "preset",
            "'yesterday' is not one of: today, this-week, this-month, last-month, "
            "this-quarter, this-financial-year, last-financial-year",
        ),
        (
            {
                "version": 1,
                "report": "receipts",
                "preset": "today",
                "parameters": {"from_date": "2024-10-02"},
            },
            "preset",
            "a favourite has a preset or dates, not both",
        ),
    ],
)
def test_a_damaged_favourite_is_refused_naming_the_field(data, field, message) -> None:
    with pytest.raises(InvalidInput) as caught:
        favourite_from_data(data, today=D(2024, 10, 3))
    assert caught.value.field == field
    assert caught.value.reason == message


def test_saving_refuses_what_cannot_be_read_back() -> None:
    with pytest.raises(InvalidInput) as caught:
        favourite_data("receipts", ReportParams(from_date=D(2024, 10, 1)), preset="today")
    assert caught.value.field == "preset"
    with pytest.raises(InvalidInput) as caught:
        favourite_data("receipts", ReportParams(options={"when": D(2024, 10, 1)}))
    assert caught.value.reason == "an option of type date cannot be saved"


codes = st.none() | st.text("ABC123-", min_size=1, max_size=8)
dates = st.none() | st.dates(D(2000, 1, 1), D(2099, 12, 31))
options = st.dictionaries(
    st.sampled_from(["by", "by_provider", "detail", "interval_days", "billed_to"]),
    st.text(max_size=5) | st.booleans() | st.integers(-(10**9), 10**9),
    max_size=4,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dates,
    dates,
    dates,
    st.none() | st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 1, 1)),
    codes,
    codes,
    codes,
    codes,
    options,
)
def test_any_parameters_round_trip(
    from_date, to_date, as_of, as_known_at, provider, location, patient, payer, opts
) -> None:
    params = ReportParams(
        from_date=from_date,
        to_date=to_date,
        as_of=as_of,
        as_known_at=as_known_at,
        provider=provider,
        location=location,
        patient=patient,
        payer=payer,
        options=opts,
    )
    text = json.dumps(favourite_data("debtors", params))
    assert favourite_from_data(json.loads(text)) == ("debtors", params)
