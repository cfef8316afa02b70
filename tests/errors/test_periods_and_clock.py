"""Dates and the clock: closed periods, future dates, and ``--now`` (or CLINICLEDGER_NOW)
earlier than the latest recorded entry."""

from __future__ import annotations

import pytest

from .commands import (
    SERVICE,
    TODAY,
    adjust,
    allocate,
    close,
    invoice,
    record,
    refund,
    transfer,
)
from .reproduce import ANY_FIELD, assert_refused, case, on_backends, snapshot

CLOSED_TO_FEB = (close("2024-02-29"),)
CLOSED_TO_TODAY = (close(TODAY),)


def closed(through: str, day: str) -> str:
    return f"the period up to {through} is closed; an entry dated {day} cannot be recorded"


# A patient added at 09:01 (the harness's first tick) is the latest record: 2024-03-01
# 22:01 UTC, as Sydney is 11 hours ahead in March.
ADD_PATIENT = ("patient", "add", "P9", "--name", "Nell Quade")
NOW_IN_PAST = (
    "now: 2024-03-01T21:00:00 UTC is earlier than the latest recorded entry "
    "(2024-03-01T22:01:00 UTC); history cannot be recorded out of order"
)

CASES = [
    # dates the user gives, inside a closed period: the field is the input holding the date
    case(
        "invoice-line-in-a-closed-period",
        invoice("item=90801,provider=DR1,date=2024-02-20"),
        "period_closed",
        "line 1",
        closed("2024-02-29", "2024-02-20"),
        given=CLOSED_TO_FEB,
    ),
    case(
        "second-invoice-line-in-a-closed-period",
        invoice(SERVICE, "cancellation,provider=DR1,date=2024-02-29,fee=25.00"),
        "period_closed",
        "line 2",
        closed("2024-02-29", "2024-02-29"),
        given=CLOSED_TO_FEB,
    ),
    case(
        "payment-received-in-a-closed-period",
        record("30.00", received="2024-02-15"),
        "period_closed",
        "received",
        closed("2024-02-29", "2024-02-15"),
        given=CLOSED_TO_FEB,
    ),
    # entries dated today, after `period close` covered today
    *[
        case(
            f"{name}-after-closing-today",
            argv,
            "period_closed",
            ANY_FIELD,
            closed(TODAY, TODAY),
            given=CLOSED_TO_TODAY,
        )
        for name, argv in [
            ("invoice", invoice()),
            ("product-invoice", invoice("product=Cold pack,fee=15.00")),
            ("payment", record("30.00")),
            ("allocation", allocate("PAY-000001", "L-000001=5.00")),
            ("auto-allocation", ("payment", "allocate", "PAY-000001", "--auto")),
            ("credit", ("credit", "apply", "P1", "--auto")),
            ("unallocation", ("payment", "unallocate", "AL-000005", "--reason", "wrong line")),
            ("refund", refund("PAY-000001", "5.00")),
            ("reversal", ("payment", "reverse", "PAY-000001", "--reason", "keyed twice")),
            ("adjustment", adjust("L-000001", "5.00")),
            ("transfer", transfer("L-000003", "5.00")),
            ("deletion", ("line", "delete", "L-000002", "--reason", "keyed twice")),
        ]
    ],
    # closing periods
    case(
        "close-a-future-date",
        close("2024-03-03"),
        "date_in_future",
        "date",
        f"date: 2024-03-03 is after today ({TODAY})",
    ),
    case(
        "close-an-earlier-date-than-closed",
        close("2024-02-28"),
        "period_already_closed",
        "date",
        "the period up to 2024-02-29 is already closed",
        given=CLOSED_TO_FEB,
    ),
    case(
        "close-the-same-date-again",
        close("2024-02-29"),
        "period_already_closed",
        "date",
        "the period up to 2024-02-29 is already closed",
        given=CLOSED_TO_FEB,
    ),
    case(
        "close-a-date-that-does-not-exist",
        close("2024-02-30"),
        "date_malformed",
        "date",
        "date: '2024-02-30' is not a date (YYYY-MM-DD)",
    ),
    # other dates
    case(
        "payment-received-in-the-future",
        record("30.00", received="2024-03-03"),
        "date_in_future",
        "received",
        f"received: 2024-03-03 is after today ({TODAY})",
    ),
    case(
        "payment-received-date-malformed",
        record("30.00", received="2024-3-1"),
        "date_malformed",
        "received",
        "received: '2024-3-1' is not a date (YYYY-MM-DD)",
    ),
    case(
        "balance-as-of-malformed",
        ("balance", "--patient", "P1", "--as-of", "01/03/2024"),
        "date_malformed",
        "as_of",
        "as_of: '01/03/2024' is not a date (YYYY-MM-DD)",
    ),
    case(
        "balance-as-known-at-malformed",
        ("balance", "--patient", "P1", "--as-known-at", "last tuesday"),
        "timestamp_malformed",
        "as_known_at",
        "as_known_at: 'last tuesday' is not a timestamp (YYYY-MM-DDTHH:MM[:SS][+HH:MM])",
    ),
    # the clock
    case(
        "now-earlier-than-the-latest-entry",
        record("30.00"),
        "now_in_past",
        "now",
        NOW_IN_PAST,
        given=(ADD_PATIENT,),
        now="2024-03-02T08:00",
    ),
    case(
        "now-earlier-than-the-latest-entry-in-utc",
        ("patient", "add", "P10", "--name", "Remy Castell"),
        "now_in_past",
        "now",
        NOW_IN_PAST,
        given=(ADD_PATIENT,),
        now="2024-03-01T21:00:00+00:00",
    ),
    case(
        "now-malformed",
        record("30.00"),
        "timestamp_malformed",
        "now",
        "now: 'yesterday' is not a timestamp (YYYY-MM-DDTHH:MM[:SS][+HH:MM])",
        now="yesterday",
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(CASES), indirect=["engine"])
def test_date_or_clock_is_refused(engine, case, practice, cli) -> None:
    assert_refused(cli, engine, case)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_clinicledger_now_earlier_than_the_latest_entry(engine, practice, cli, monkeypatch) -> None:
    cli.ok(*ADD_PATIENT)
    before = snapshot(engine)
    monkeypatch.setenv("CLINICLEDGER_NOW", "2024-03-02T08:00")

    result = cli(*record("30.00"), now=False, json=True)

    assert result.status == 2
    assert result.error() == {"code": "now_in_past", "field": "now", "message": NOW_IN_PAST}
    assert snapshot(engine) == before
