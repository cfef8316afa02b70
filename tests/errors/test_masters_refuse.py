"""Master data found and changed (``KIND list|show|edit|deactivate|activate``, issue 7):
each refusal with its exact code, field and message, exit 2, and nothing written; and a
deactivated master refused for a new invoice, for each of the kinds an invoice names."""

from __future__ import annotations

import pytest

from .commands import TODAY, invoice
from .reproduce import assert_refused, case, on_backends

GOOD_ABN = "51824753556"  # the ATO's published example
BAD_CHECK_DIGITS = "51824753557"
COMPANY = ("provider", "edit", "DR1", "--company-name", "Vale Physio Pty Ltd")


def deactivated(kind: str, code: str) -> tuple[tuple[str, ...], ...]:
    return ((kind, "deactivate", code),)


def kept(kind: str, key: str, code: str | None = None) -> str:
    return (
        f"{kind} '{key}' is deactivated: it is kept for history, and takes no new invoices; "
        f"'{kind} activate {code or key}' brings it back"
    )


CASES = [
    # the same rules as add
    case(
        "edit-abn-check-digits",
        (*COMPANY, "--company-abn", BAD_CHECK_DIGITS),
        "abn_invalid",
        "company_abn",
        f"company_abn: '{BAD_CHECK_DIGITS}' fails the ABN check digits",
    ),
    case(
        "edit-abn-too-short",
        (*COMPANY, "--company-abn", "1234"),
        "abn_malformed",
        "company_abn",
        "company_abn: '1234' is not an ABN (11 digits)",
    ),
    case(
        "edit-abn-without-company-name",
        ("provider", "edit", "DR1", "--company-abn", GOOD_ABN),
        "company_name_missing",
        "company_name",
        "company_name: a company ABN or GST registration needs the company's name",
    ),
    case(
        # the rule holds for the row as it would be stored, not only for what is given
        "edit-clears-the-company-name-under-its-abn",
        ("provider", "edit", "DR1", "--company-name", ""),
        "company_name_missing",
        "company_name",
        "company_name: a company ABN or GST registration needs the company's name",
        given=((*COMPANY, "--company-abn", GOOD_ABN),),
    ),
    case(
        "edit-gst-registration-without-company-name",
        ("provider", "edit", "DR1", "--company-gst-registered"),
        "company_name_missing",
        "company_name",
        "company_name: a company ABN or GST registration needs the company's name",
    ),
    case(
        "edit-item-fee-negative",
        ("item", "edit", "90801", "--fee", "-5.00"),
        "amount_negative",
        "fee",
        "fee: -5.00 is negative; the amount must be positive",
    ),
    case(
        "edit-product-fee-zero",
        ("product", "edit", "GEL", "--fee", "0.00"),
        "amount_zero",
        "fee",
        "fee: the amount must be more than 0.00",
    ),
    case(
        "edit-item-fee-malformed",
        ("item", "edit", "90801", "--fee", "1.234"),
        "amount_malformed",
        "fee",
        "fee: '1.234' is not an amount; write it like 30.00 (at most two decimal places)",
    ),
    case(
        "edit-patient-name-blank",
        ("patient", "edit", "P1", "--name", "   "),
        "name_missing",
        "name",
        "name: a name of 1-200 characters is required",
    ),
    case(
        "edit-item-description-blank",
        ("item", "edit", "90801", "--description", ""),
        "name_missing",
        "description",
        "description: a name of 1-200 characters is required",
    ),
    case(
        "edit-payer-kind-unknown",
        ("payer", "edit", "FUND1", "--kind", "bank"),
        "choice_unknown",
        "kind",
        "kind: 'bank' is not one of: fund, medicare, dva, insurer, third-party",
    ),
    case(
        "edit-product-title-taken",
        ("product", "edit", "TAPE", "--title", "Cold pack"),
        "title_taken",
        "title",
        "product title 'Cold pack' is already taken",
        given=(("product", "add", "TAPE", "--title", "Sports tape", "--fee", "8.00"),),
    ),
    case(
        "practice-set-nothing",
        ("practice", "set"),
        "nothing_to_change",
        "practice",
        "practice: nothing to change: give --name, --abn, --gst-registered, --timezone, "
        "--currency or --locale",
    ),
    case(
        "list-search-too-long",
        ("patient", "list", "--search", "x" * 201),
        "text_too_long",
        "search",
        "search: is 201 characters long; at most 200 are kept",
    ),
    # unknown codes, and the code a typo was probably meant to be
    case(
        "edit-unknown-patient",
        ("patient", "edit", "P404", "--name", "Cass Penrose"),
        "not_found",
        "patient",
        "patient 'P404' not found",
    ),
    case(
        "show-unknown-item",
        ("item", "show", "99999"),
        "not_found",
        "item",
        "item '99999' not found",
    ),
    case(
        "deactivate-unknown-location",
        ("location", "deactivate", "ANNEX"),
        "not_found",
        "location",
        "location 'ANNEX' not found",
    ),
    case(
        "activate-unknown-payer",
        ("payer", "activate", "FUND9"),
        "not_found",
        "payer",
        "payer 'FUND9' not found",
    ),
    case(
        "show-patient-in-lower-case",
        ("patient", "show", "p1"),
        "not_found",
        "patient",
        "patient 'p1' not found; did you mean P1?",
    ),
    case(
        "edit-provider-with-a-separator",
        ("provider", "edit", "DR-01", "--name", "Dr Rowan Vale"),
        "not_found",
        "provider",
        "provider 'DR-01' not found; did you mean DR1?",
    ),
    case(
        "deactivate-product-in-lower-case",
        ("product", "deactivate", "gel"),
        "not_found",
        "product",
        "product 'gel' not found; did you mean GEL?",
    ),
    # a deactivated master takes no new invoice
    case(
        "invoice-for-a-deactivated-patient",
        invoice(),
        "inactive",
        "patient",
        kept("patient", "P1"),
        given=deactivated("patient", "P1"),
    ),
    case(
        "invoice-at-a-deactivated-location",
        invoice(),
        "inactive",
        "location",
        kept("location", "MAIN"),
        given=deactivated("location", "MAIN"),
    ),
    case(
        "invoice-billed-to-a-deactivated-payer",
        (*invoice(patient="P2"), "--billed-to", "FUND1"),
        "inactive",
        "billed_to",
        kept("payer", "FUND1"),
        given=deactivated("payer", "FUND1"),
    ),
    case(
        "invoice-by-a-deactivated-provider",
        invoice(f"cancellation,provider=DR1,date={TODAY},fee=25.00"),
        "inactive",
        "line 1",
        kept("provider", "DR1"),
        given=deactivated("provider", "DR1"),
    ),
    case(
        "invoice-of-a-deactivated-item",
        invoice(f"item=90801,provider=DR1,date={TODAY}"),
        "inactive",
        "line 1",
        kept("item", "90801"),
        given=deactivated("item", "90801"),
    ),
    case(
        "invoice-of-a-deactivated-product",
        invoice("product=Cold pack"),
        "inactive",
        "line 1",
        kept("product", "Cold pack", "GEL"),  # a product line names its product by title
        given=deactivated("product", "GEL"),
    ),
]

NOTHING_TO_CHANGE = [
    case(
        "edit-patient-nothing",
        ("patient", "edit", "P1"),
        "nothing_to_change",
        "patient",
        "patient: nothing to change for P1: give --name",
    ),
    case(
        "edit-provider-nothing",
        ("provider", "edit", "DR1"),
        "nothing_to_change",
        "provider",
        "provider: nothing to change for DR1: give --name, --company-name, --company-abn "
        "or --company-gst-registered",
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(CASES), indirect=["engine"])
def test_master_change_is_refused(engine, case, practice, cli) -> None:
    assert_refused(cli, engine, case)


@pytest.mark.parametrize(("engine", "case"), on_backends(NOTHING_TO_CHANGE), indirect=["engine"])
def test_an_edit_with_nothing_to_change_is_refused(engine, case, practice, cli) -> None:
    assert_refused(cli, engine, case)
