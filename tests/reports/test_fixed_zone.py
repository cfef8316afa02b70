"""As-known-at output does not depend on the practice's current time zone (issue 8, item 13).

An as-known-at moment given in local time is read in the practice's zone, and the business
date of every entry was read in it when the entry was made; a report as known at a past
moment must say, byte for byte, what it said then (DESIGN.md). So once the ledger holds
entries the zone is fixed: changing it is refused (``timezone_fixed``), and the report is
unchanged. Before, changing Sydney to Perth moved "08:12" three hours later and the report
showed entries that were not known at 08:12 in Sydney.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from tests.cli.harness import Cli, build_practice, db_url

from clinicledger.domain.choices import PaymentMethod
from clinicledger.domain.errors import Conflict
from clinicledger.services import masters, payments
from clinicledger.store import lookups
from conftest import Clock

# The harness's practice is made on 2024-03-01 from 08:01 Sydney time, a minute a step: at
# 08:12 it is half made (its invoices and first payment are known, not the rest); 08:12 in
# Perth is 11:12 in Sydney, when all of it is.
KNOWN_AT = "2024-03-01T08:12"
REPORTS = [
    ("report", "debtors", "--as-known-at", KNOWN_AT),
    ("report", "receipts", "--from", "2024-03-01", "--to", "2024-03-01", "--as-known-at", KNOWN_AT),
    ("balance", "--patient", "P1", "--as-known-at", KNOWN_AT),
]


@pytest.fixture
def cli(engine: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    for name in ("CLINICLEDGER_DB", "CLINICLEDGER_NOW", "CLINICLEDGER_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    return Cli(db_url(engine), capsys, monkeypatch)


def outputs(cli: Cli) -> list[tuple[int, str, str]]:
    """Every report above, as a table and as JSON: (status, stdout, stderr)."""
    found = []
    for argv in REPORTS:
        for as_json in (False, True):
            result = cli(*argv, json=as_json)
            found.append((result.status, result.out, result.err))
    return found


def test_changing_the_zone_after_entries_is_refused_and_reports_are_unchanged(
    engine: Engine, cli: Cli
) -> None:
    build_practice(engine)
    before = outputs(cli)
    assert [status for status, _, _ in before] == [0] * len(before)

    changed = cli("practice", "set", "--timezone", "Australia/Perth", json=True)
    after = outputs(cli)

    assert after == before  # byte for byte
    assert (changed.status, changed.error()) == (
        2,
        {
            "code": "timezone_fixed",
            "field": "timezone",
            "message": "the time zone cannot change from Australia/Sydney once the ledger "
            "holds entries (business dates and as-known-at moments are read in it)",
        },
    )


def first_entry(clock: Clock) -> None:
    """Master data (which does not fix the zone), then the journal's first entry."""
    masters.add_patient(clock.uow(), code="P1", name="Ivy Marlowe")
    masters.add_location(clock.uow(), code="MAIN", name="Main rooms")
    payments.record_payment(
        clock.uow(),
        payments.RecordPayment(
            from_code="P1",
            amount_cents=3000,
            method=PaymentMethod.CASH,
            received_date=clock.now.date(),
            location_code="MAIN",
        ),
    )


def test_the_zone_is_fixed_from_the_first_entry(engine: Engine, clock: Clock) -> None:
    masters.set_practice(clock.uow(), timezone="Australia/Perth")  # nothing recorded yet
    masters.add_patient(clock.uow(), code="P0", name="Otto Brandt")
    masters.set_practice(clock.uow(), timezone="Australia/Perth")  # master data alone: still
    first_entry(clock)

    with pytest.raises(Conflict) as refused:
        masters.set_practice(clock.uow(), timezone="Australia/Sydney")

    assert (refused.value.code, refused.value.field, refused.value.context) == (
        "timezone_fixed",
        "timezone",
        {"timezone": "Australia/Perth"},
    )
    # the zone it has, and any other detail, may still be set
    masters.set_practice(clock.uow(), timezone="Australia/Perth", name="Harbourside")


def test_a_refused_zone_changes_nothing_else_given_with_it(engine: Engine, clock: Clock) -> None:
    from clinicledger.store.uow import reading

    first_entry(clock)
    with pytest.raises(Conflict):
        masters.set_practice(clock.uow(), name="Harbourside", timezone="UTC")
    with reading(engine) as conn:
        practice = lookups.require_practice(conn)
    assert (practice.name, practice.timezone) == ("My Practice", "Australia/Sydney")
