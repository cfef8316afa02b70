"""Which lines a payment may pay, and how codes and words are read: pure rules, no
database."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinicledger.domain.allocation import check_line_payable
from clinicledger.domain.choices import InsuranceStatus, LineKind, check_choice
from clinicledger.domain.errors import Conflict, InvalidInput
from clinicledger.domain.records import LineRecord, PaymentRecord
from clinicledger.domain.text import close_codes

LINE = LineRecord(
    id=107,
    invoice_id=12,
    kind=LineKind.SERVICE,
    patient_id=1,
    payer_id=None,
    location_id=1,
    provider_id=1,
    service_date=dt.date(2024, 3, 1),
    invoice_date=dt.date(2024, 3, 1),
    fee_cents=10000,
    gst_cents=0,
    client_billable=True,
    insurance_status=InsuranceStatus.CLOSED,
    deleted_at=None,
)
FROM_PATIENT = PaymentRecord(
    id=42,
    patient_id=1,
    payer_id=None,
    party_code="P1",
    location_id=1,
    amount_cents=3000,
    received_date=dt.date(2024, 3, 1),
    opening=False,
    reversed_at=None,
)
FROM_FUND = dataclasses.replace(FROM_PATIENT, patient_id=None, payer_id=7, party_code="FUND1")


def refusal(payment: PaymentRecord, line: LineRecord) -> tuple[type, str, str | None, str]:
    with pytest.raises((Conflict, InvalidInput)) as caught:
        check_line_payable(payment, line)
    error = caught.value
    return type(error), error.code, error.field, error.message


def test_a_patient_pays_their_own_line_and_a_fund_its_own() -> None:
    check_line_payable(FROM_PATIENT, LINE)
    check_line_payable(FROM_FUND, dataclasses.replace(LINE, payer_id=7))


def test_a_deleted_line_takes_no_money() -> None:
    deleted = dataclasses.replace(LINE, deleted_at=dt.datetime(2024, 3, 2, 9))
    assert refusal(FROM_PATIENT, deleted) == (
        Conflict,
        "line_deleted",
        "to",
        "line L-000107 was deleted",
    )


def test_a_payers_money_only_pays_lines_billed_to_it() -> None:
    assert refusal(FROM_FUND, LINE) == (
        Conflict,
        "line_not_billed_to_payer",
        "to",
        "line L-000107 is not billed to payer FUND1, who made payment PAY-000042",
    )
    assert refusal(FROM_FUND, dataclasses.replace(LINE, payer_id=8))[1] == (
        "line_not_billed_to_payer"
    )


def test_a_patients_money_only_pays_that_patients_lines() -> None:
    assert refusal(FROM_PATIENT, dataclasses.replace(LINE, patient_id=2)) == (
        InvalidInput,
        "line_of_other_patient",
        "to",
        "to: line L-000107 is not a line of the patient who made payment PAY-000042",
    )


@given(
    payer=st.sampled_from([None, 7, 8]),
    patient=st.sampled_from([1, 2]),
    deleted=st.booleans(),
    from_fund=st.booleans(),
)
def test_payable_exactly_when_no_rule_refuses(
    payer: int | None, patient: int, deleted: bool, from_fund: bool
) -> None:
    line = dataclasses.replace(
        LINE,
        payer_id=payer,
        patient_id=patient,
        deleted_at=dt.datetime(2024, 3, 2) if deleted else None,
    )
    payment = FROM_FUND if from_fund else FROM_PATIENT
    payable = not deleted and (payer == 7 if from_fund else patient == 1)
    try:
        check_line_payable(payment, line)
    except (Conflict, InvalidInput):
        assert not payable
    else:
        assert payable


def test_a_code_is_suggested_only_when_it_differs_by_case_separators_or_zeros() -> None:
    codes = ["P1", "P2", "PT0001", "DR1", "FUND1"]
    assert close_codes("p1", codes) == ("P1",)
    assert close_codes("P-01", codes) == ("P1",)
    assert close_codes("pt1", codes) == ("PT0001",)
    assert close_codes("DR9", codes) == ()  # another provider, not a typo we can be sure of
    assert close_codes("FUND9", codes) == ()
    assert close_codes("P1", codes) == ()  # the code itself is not a suggestion


def test_a_word_is_one_of_a_set_in_any_case_and_refused_by_name() -> None:
    assert check_choice(" Open ", ("open", "closed"), field="insurance", either=True) == "open"
    with pytest.raises(InvalidInput) as caught:
        check_choice("pending", ("open", "closed"), field="insurance", either=True)
    assert caught.value.message == "insurance: 'pending' is not open or closed"
    with pytest.raises(InvalidInput) as caught:
        check_choice("posted", ("entered", "service"), field="by")
    assert (caught.value.code, caught.value.message) == (
        "choice_unknown",
        "by: 'posted' is not one of: entered, service",
    )
