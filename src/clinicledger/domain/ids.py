"""Public ids: ``PAY-000042`` for payment 42. Commands accept the full id or the bare number."""

from __future__ import annotations

import re
from collections.abc import Callable

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.text import check_plain

PREFIXES = {
    "invoice": "INV",
    "line": "L",
    "payment": "PAY",
    "allocation": "AL",
    "entry": "E",
}

# Ids are the database's 32-bit INTEGER keys: a larger number names nothing (and must not
# reach the database, where PostgreSQL would refuse it as out of range).
MAX_ID = 2**31 - 1


def in_id_range(number: int) -> bool:
    return 0 < number <= MAX_ID


# ASCII only: ``\d`` and ``int`` also take Arabic-Indic and mathematical digits.
_ID = re.compile("(?:(?P<prefix>[A-Za-z]+)-)?0*(?P<number>[0-9]{1,18})")


def format_id(kind: str, number: int) -> str:
    return f"{PREFIXES[kind]}-{number:06d}"


def id_formatter(kind: str) -> Callable[[int], str]:
    """:func:`format_id` of one kind, for a report's tens of thousands of rows."""
    return f"{PREFIXES[kind]}-{{:06d}}".format


def parse_id(kind: str, text: str, *, field: str | None = None) -> int:
    """``"PAY-000042"`` or ``"42"`` -> ``42``; a wrong prefix or non-number is refused."""
    match = _ID.fullmatch(check_plain(text, field=field or kind).strip())
    prefix = PREFIXES[kind]
    if match is None or (match["prefix"] is not None and match["prefix"].upper() != prefix):
        raise InvalidInput(
            field or kind,
            f"'{text}' is not {_article(kind)} {kind} id (expected like {prefix}-000042)",
            code="id_malformed",
        )
    number = int(match["number"])
    if not in_id_range(number):
        raise InvalidInput(
            field or kind, f"'{text}' is not {_article(kind)} {kind} id", code="id_malformed"
        )
    return number


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
