"""Input of the wrong shape: ABNs, time zones, currencies, choices, codes and names, line
SPECs, and the command line's own usage errors."""

from __future__ import annotations

import pytest

from .commands import TODAY, invoice, record
from .reproduce import assert_refused, case, on_backends

GOOD_ABN = "51824753556"  # the ATO's published example
BAD_CHECK_DIGITS = "51824753557"
SERVICE_KEYS = "client-billable, date, fee, inpatient, insurance, item, provider"


def spec(name: str, text: str, code: str, message: str, n: int = 1) -> object:
    return case(f"line-spec-{name}", invoice(text), code, f"line {n}", f"line {n}: {message}")


CASES = [
    # the practice
    case(
        "abn-check-digits",
        ("practice", "set", "--abn", BAD_CHECK_DIGITS),
        "abn_invalid",
        "abn",
        f"abn: '{BAD_CHECK_DIGITS}' fails the ABN check digits",
    ),
    case(
        "abn-too-short",
        ("practice", "set", "--abn", "5182475355"),
        "abn_malformed",
        "abn",
        "abn: '5182475355' is not an ABN (11 digits)",
    ),
    case(
        "abn-letters",
        ("practice", "set", "--abn", "51 824 753 55X"),
        "abn_malformed",
        "abn",
        "abn: '51 824 753 55X' is not an ABN (11 digits)",
    ),
    case(
        "timezone-unknown",
        ("practice", "set", "--timezone", "Mars/Olympus_Mons"),
        "timezone_unknown",
        "timezone",
        "timezone: 'Mars/Olympus_Mons' is not a time zone (e.g. Australia/Sydney)",
    ),
    case(
        "timezone-a-path",
        ("practice", "set", "--timezone", "../../etc/passwd"),
        "timezone_unknown",
        "timezone",
        "timezone: '../../etc/passwd' is not a time zone (e.g. Australia/Sydney)",
    ),
    case(
        "timezone-empty",
        ("practice", "set", "--timezone", ""),
        "timezone_unknown",
        "timezone",
        "timezone: '' is not a time zone (e.g. Australia/Sydney)",
    ),
    # issue 8, G5 (found by tests/db/test_hostile_text.py): these were exit 70
    case(
        "timezone-a-folder-of-zones",  # ZoneInfo read it as a file: IsADirectoryError
        ("practice", "set", "--timezone", "Australia"),
        "timezone_unknown",
        "timezone",
        "timezone: 'Australia' is not a time zone (e.g. Australia/Sydney)",
    ),
    case(
        "timezone-too-long-for-a-file-name",  # OSError: File name too long
        ("practice", "set", "--timezone", "Z" * 300),
        "timezone_unknown",
        "timezone",
        f"timezone: '{'Z' * 300}' is not a time zone (e.g. Australia/Sydney)",
    ),
    case(  # was echoed, escape and all
        "timezone-with-an-escape",
        ("practice", "set", "--timezone", "UTC\x1b[2J"),
        "character_not_allowed",
        "timezone",
        "timezone: U+001B (a control character) at character 4 is not allowed",
    ),
    case(  # was taken: 'ß'.isalpha(), and stored as 'SSAB' in a 3-letter column (PostgreSQL
        # refused it with a driver error)
        "currency-of-other-letters",
        ("practice", "set", "--currency", "ßab"),
        "currency_malformed",
        "currency",
        "currency: 'ßab' is not a currency code (e.g. AUD)",
    ),
    case(  # was echoed
        "currency-with-a-control-character",
        ("practice", "set", "--currency", "A\x1fD"),
        "character_not_allowed",
        "currency",
        "currency: U+001F (a control character) at character 2 is not allowed",
    ),
    case(  # was taken for blank, and cleared it
        "company-abn-a-carriage-return",
        ("provider", "edit", "DR1", "--company-abn", "\r"),
        "character_not_allowed",
        "company_abn",
        "company_abn: U+000D (a carriage return) at character 1 is not allowed",
    ),
    case(  # a locale Babel does not know: every page would fail to write its money
        "locale-unknown",
        ("practice", "set", "--locale", "xx_YY"),
        "locale_unknown",
        "locale",
        "locale: 'xx_YY' is not a locale this app knows (e.g. en_AU, en_NZ, en_GB)",
    ),
    case(  # Babel would read 'en-au' as en_AU: a name is spelt one way
        "locale-spelt-otherwise",
        ("practice", "set", "--locale", "en-au"),
        "locale_unknown",
        "locale",
        "locale: 'en-au' is not a locale this app knows (e.g. en_AU, en_NZ, en_GB)",
    ),
    case(
        "currency-malformed",
        ("practice", "set", "--currency", "AU$"),
        "currency_malformed",
        "currency",
        "currency: 'AU$' is not a currency code (e.g. AUD)",
    ),
    case(
        "practice-name-blank",
        ("practice", "set", "--name", "  "),
        "name_missing",
        "name",
        "name: a name of 1-200 characters is required",
    ),
    # providers' companies
    case(
        "company-abn-check-digits",
        (
            "provider",
            "add",
            "DR2",
            "--name",
            "Dr Wren Ashby",
            "--company-name",
            "Ashby Therapy Pty Ltd",
            "--company-abn",
            BAD_CHECK_DIGITS,
        ),
        "abn_invalid",
        "company_abn",
        f"company_abn: '{BAD_CHECK_DIGITS}' fails the ABN check digits",
    ),
    case(
        "company-abn-without-company-name",
        ("provider", "add", "DR2", "--name", "Dr Wren Ashby", "--company-abn", GOOD_ABN),
        "company_name_missing",
        "company_name",
        "company_name: a company ABN or GST registration needs the company's name",
    ),
    # choices
    case(
        "payment-method-unknown",
        record("30.00", method="bitcoin"),
        "choice_unknown",
        "method",
        "method: 'bitcoin' is not one of: cash, cheque, eftpos, credit-card, hicaps, "
        "direct-deposit, online-card, insurance, other",
    ),
    case(
        "payer-kind-unknown",
        ("payer", "add", "BANK1", "--name", "Northern Bank", "--kind", "bank"),
        "choice_unknown",
        "kind",
        "kind: 'bank' is not one of: fund, medicare, dva, insurer, third-party",
    ),
    case(
        "import-kind-unknown",
        ("import", "invoices", "/dev/null"),
        "choice_unknown",
        "kind",
        "kind: 'invoices' is not one of: patients, providers, payers, items, opening-balances",
    ),
    # codes and names
    case(
        "code-with-a-space",
        ("patient", "add", "P 9", "--name", "Nell Quade"),
        "code_malformed",
        "code",
        "code: 'P 9' is not a code: use 1-40 letters, digits, . _ - /",
    ),
    case(
        "code-too-long",
        ("location", "add", "L" * 41, "--name", "Far Rooms"),
        "code_malformed",
        "code",
        f"code: '{'L' * 41}' is not a code: use 1-40 letters, digits, . _ - /",
    ),
    case(
        "name-blank",
        ("patient", "add", "P9", "--name", " "),
        "name_missing",
        "name",
        "name: a name of 1-200 characters is required",
    ),
    case(
        "name-too-long",
        ("patient", "add", "P9", "--name", "N" * 201),
        "name_missing",
        "name",
        "name: a name of 1-200 characters is required",
    ),
    case(
        "item-description-blank",
        ("item", "add", "10960", "--description", "", "--fee", "80.00"),
        "name_missing",
        "description",
        "description: a name of 1-200 characters is required",
    ),
    # line SPECs
    spec("bare-word", "item", "line_malformed", "'item' is not KEY=VALUE"),
    spec(
        "empty-value",
        f"item=,provider=DR1,date={TODAY}",
        "line_malformed",
        "'item=' is not KEY=VALUE",
    ),
    spec(
        "key-twice",
        f"item=90801,item=90801,provider=DR1,date={TODAY}",
        "line_malformed",
        "'item' is given twice",
    ),
    spec(
        "unknown-key",
        f"item=90801,provider=DR1,date={TODAY},colour=red",
        "line_malformed",
        f"'colour' is not allowed on a service line (allowed: {SERVICE_KEYS})",
    ),
    spec(
        "date-on-a-product",
        f"product=Cold pack,date={TODAY}",
        "line_malformed",
        "'date' is not allowed on a product line (allowed: fee, product)",
    ),
    spec(
        "item-on-a-cancellation",
        f"cancellation,item=90801,provider=DR1,date={TODAY},fee=25.00",
        "line_malformed",
        "'item' is not allowed on a cancellation line (allowed: date, fee, provider)",
    ),
    spec(
        "no-date",
        "item=90801,provider=DR1",
        "line_incomplete",
        "a service line needs provider= and date=",
    ),
    spec(
        "no-provider",
        f"item=90801,date={TODAY}",
        "line_incomplete",
        "a service line needs provider= and date=",
    ),
    spec("no-item", f"provider=DR1,date={TODAY}", "item_missing", "a service line needs item=CODE"),
    spec(
        "cancellation-without-fee",
        f"cancellation,provider=DR1,date={TODAY}",
        "fee_missing",
        "a cancellation line needs fee=",
    ),
    spec(
        "cancellation-without-date",
        "cancellation,provider=DR1,fee=25.00",
        "line_incomplete",
        "a cancellation line needs provider= and date=",
    ),
    spec(
        "date-not-iso",
        "item=90801,provider=DR1,date=02/03/2024",
        "date_malformed",
        "'02/03/2024' is not a date (YYYY-MM-DD)",
    ),
    spec(
        "inpatient-not-yes-or-no",
        f"item=90801,provider=DR1,date={TODAY},inpatient=maybe",
        "line_malformed",
        "inpatient=maybe: use yes or no",
    ),
    spec(
        "client-billable-not-yes-or-no",
        f"item=90801,provider=DR1,date={TODAY},client-billable=perhaps",
        "line_malformed",
        "client-billable=perhaps: use yes or no",
    ),
    spec(
        "insurance-not-open-or-closed",
        f"item=90801,provider=DR1,date={TODAY},insurance=pending",
        "line_malformed",
        "insurance=pending: use open or closed",
    ),
    case(
        "line-spec-bad-second-line",
        invoice(f"item=90801,provider=DR1,date={TODAY}", "product=Cold pack,fee=15.001"),
        "amount_malformed",
        "line 2",
        "line 2: '15.001' is not an amount; write it like 30.00 (at most two decimal places)",
    ),
    # the command line's own refusals
    case(
        "invoice-with-no-lines",
        ("invoice", "create", "--patient", "P1", "--location", "MAIN"),
        "usage",
        "line",
        "Missing option '--line'.",
    ),
    case(
        "unknown-option",
        ("patient", "add", "P9", "--name", "Nell Quade", "--colour", "red"),
        "usage",
        None,
        "No such option: --colour",
    ),
    case(
        "balance-of-nothing",
        ("balance",),
        "subject_missing",
        "subject",
        "subject: give exactly one of --patient, --payer, --invoice, --line",
    ),
    case(
        "balance-of-two-things",
        ("balance", "--patient", "P1", "--payer", "FUND1"),
        "subject_missing",
        "subject",
        "subject: give exactly one of --patient, --payer, --invoice, --line",
    ),
]


@pytest.mark.parametrize(("engine", "case"), on_backends(CASES), indirect=["engine"])
def test_malformed_input_is_refused(engine, case, practice, cli) -> None:
    assert_refused(cli, engine, case)
