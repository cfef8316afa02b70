"""The master-data use cases (``services/masters``) on both backends: add and edit share one
set of rules, an edit changes only what differs, and the reads find rows by code or name."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from clinicledger.domain.choices import PayerKind
from clinicledger.domain.errors import Conflict, InvalidInput, NotFound
from clinicledger.services import masters
from clinicledger.store import tables as t

GOOD_ABN = "51824753556"


@pytest.fixture
def ledger(clock):
    masters.add_provider(clock.uow(), code="DR1", name="Dr One")
    masters.add_patient(clock.uow(), code="P1", name="Patient One")
    masters.add_patient(clock.uow(), code="P2", name="Patient_Two")
    masters.add_payer(clock.uow(), code="FUND", name="Test Fund", kind=PayerKind.FUND)
    masters.add_product(clock.uow(), code="GEL", title="Cold pack", fee_cents=1500)
    return clock


def audit_count(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one())


def test_nothing_to_change_names_the_fields_not_an_adapters_flags(engine, ledger) -> None:
    with pytest.raises(InvalidInput) as refused:
        masters.edit_provider(ledger.uow(), code="DR1")
    error = refused.value
    assert (error.code, error.field, error.message) == (
        "nothing_to_change",
        "provider",
        "provider: nothing to change for DR1: give a new name, company_name, company_abn "
        "or company_gst_registered",
    )
    assert dict(error.context) == {
        "key": "DR1",
        "fields": "name company_name company_abn company_gst_registered",
    }


def test_add_and_edit_refuse_a_company_abn_without_a_company_alike(engine, ledger) -> None:
    with pytest.raises(InvalidInput) as on_add:
        masters.add_provider(ledger.uow(), code="DR2", name="Dr Two", company_abn=GOOD_ABN)
    with pytest.raises(InvalidInput) as on_edit:
        masters.edit_provider(ledger.uow(), code="DR1", company_abn=GOOD_ABN)
    assert on_add.value.message == on_edit.value.message
    assert on_add.value.code == on_edit.value.code == "company_name_missing"

    # an empty company name is none, on add as on edit: it does not carry an ABN either
    with pytest.raises(InvalidInput, match="needs the company's name"):
        masters.add_provider(
            ledger.uow(), code="DR2", name="Dr Two", company_name="", company_abn=GOOD_ABN
        )


def test_an_edit_changes_only_what_differs(engine, ledger) -> None:
    audits = audit_count(engine)
    done = masters.edit_product(ledger.uow(), code="GEL", title="Cold pack", fee_cents=1650)
    assert (done.id, done.code, dict(done.changes)) == (1, "GEL", {"fee_cents": (1500, 1650)})
    assert audit_count(engine) == audits + 1

    again = masters.edit_product(ledger.uow(), code="GEL", fee_cents=1650, taxable=True)
    assert dict(again.changes) == {}
    assert audit_count(engine) == audits + 1
    shown = masters.show_master(engine, "product", "GEL")
    assert (shown.code, dict(shown.values), shown.active) == (
        "GEL",
        {"title": "Cold pack", "fee_cents": 1650, "taxable": True},
        True,
    )


def test_a_product_keeps_its_own_title_on_edit(engine, ledger) -> None:
    masters.add_product(ledger.uow(), code="TAPE", title="Sports tape", fee_cents=800)
    assert dict(masters.edit_product(ledger.uow(), code="TAPE", title="Sports tape").changes) == {}
    with pytest.raises(Conflict) as refused:
        masters.edit_product(ledger.uow(), code="TAPE", title="Cold pack")
    assert (refused.value.code, refused.value.field) == ("title_taken", "title")


def test_listing_escapes_wildcards_and_leaves_out_the_deactivated(engine, ledger) -> None:
    def codes(**options) -> list[str]:
        return [row.code for row in masters.list_masters(engine, "patient", **options).rows]

    assert codes() == ["P1", "P2"]
    # "_" and "%" are no wildcards: "Patient One" has no "t_one", nor anyone "p%e"
    assert codes(search="t_one") == []
    assert codes(search="p%e") == []
    assert codes(search="T_T") == ["P2"]
    assert codes(search="  one ") == ["P1"]  # trimmed, any case
    masters.deactivate(ledger.uow(), "patient", "P1")
    assert codes() == ["P2"]
    assert codes(inactive=True) == ["P1", "P2"]
    assert masters.show_master(engine, "patient", "P1").active is False
    assert masters.LIST_ROWS_MAX == 500


def test_an_unknown_code_names_the_close_ones(engine, ledger) -> None:
    with pytest.raises(NotFound) as refused:
        masters.deactivate(ledger.uow(), "payer", "fund")
    assert (refused.value.message, refused.value.suggestions) == (
        "payer 'fund' not found",
        ("FUND",),
    )
