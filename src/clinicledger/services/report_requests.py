"""A report as the web app and the API are asked for it: text from a form or a query
string (``from``, ``to``, ``preset``, ``as_of``, ``as_known_at``, the filters, and each
report's options by name), made into the :class:`~clinicledger.services.reporting.ReportRequest`
that ``clinicledger report NAME`` makes of its flags, so that both run the same request
and print the same object. Every refusal names the field as the command line's does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.text import check_plain, parse_date, parse_instant
from clinicledger.reports.registry import OPTIONS, OptionKind
from clinicledger.services.reporting import ReportRequest

DATES = ("from", "to", "as_of")
TEXTS = ("preset", "provider", "location", "patient", "payer")
# Read from a file the command line opens: not asked for over the web.
NOT_ASKED = frozenset(
    name for name, option in OPTIONS.items() if option.kind is OptionKind.FILE
) | frozenset({"compare_date_column", "compare_amount_column", "compare_description_column"})
FIELDS = (*DATES, "as_known_at", *TEXTS, *(n for n in OPTIONS if n not in NOT_ASKED))
TRUE_WORDS = ("true", "on", "yes", "1")
FALSE_WORDS = ("false", "off", "no", "0")


def _option(name: str, text: str) -> Any:
    """An option's text as the command line passes it: a flag True (or None: off), a
    number of days as an int when it is one (the report refuses anything else by name)."""
    kind = OPTIONS[name].kind
    if kind is OptionKind.FLAG:
        word = text.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return None
        raise InvalidInput(name, f"'{text}' is neither true nor false", code="option_malformed")
    if kind is OptionKind.DAYS and text.strip().isascii() and text.strip().isdigit():
        return int(text.strip())
    return text.strip()


def asked_request(report: str, given: Mapping[str, str]) -> ReportRequest:
    """The request for ``report`` of the fields ``given`` (empty ones are not given).
    A field no report takes is refused by name."""
    values = {key: value for key, value in given.items() if value.strip()}
    for key in values:
        if key not in FIELDS:
            raise InvalidInput(
                key, "is not a filter or option of any report", code="filter_not_applicable"
            )

    def date(key: str) -> Any:
        return parse_date(values[key].strip(), field=key) if key in values else None

    def text(key: str) -> str | None:
        return check_plain(values[key].strip(), field=key) if key in values else None

    known = values.get("as_known_at")
    return ReportRequest(
        report=report,
        from_date=date("from"),
        to_date=date("to"),
        preset=text("preset"),
        as_of=date("as_of"),
        as_known_at=parse_instant(known.strip(), field="as_known_at") if known else None,
        provider=text("provider"),
        location=text("location"),
        patient=text("patient"),
        payer=text("payer"),
        options={
            name: found
            for name in OPTIONS
            if name in values and (found := _option(name, values[name])) is not None
        },
    )
