"""Codes, names, free text, ABNs, dates and timestamps as the ledger reads and keeps them;
each refusal names its field.

One rule for every character any field or file cell takes (:func:`check_plain`, issue 8
item 5), applied by every reader here (codes, names, notes, references, reasons, search
text, ABNs) and by the readers of ids, amounts, dates and CSV cells before they look at
the text. Refused:

- the control characters (Unicode category Cc: NUL, tab, line feed, carriage return,
  escape, DEL, the C1 controls). PostgreSQL cannot store a NUL at all (SQLite can), and an
  escape can rewrite what a terminal shows;
- the line and paragraph separators (U+2028, U+2029), line breaks by another name;
- the bidirectional controls U+202A-202E, U+2066-2069, U+200E, U+200F and U+061C, which
  reorder what is shown ("Trojan Source", CVE-2021-42574): a name shown other than it is
  stored;
- lone surrogates (U+D800-DFFF), which are not characters and no database can store.

Notes (a payment's, an adjustment's, an opening balance's) take no line feed either: a note
is given as one command-line option or one CSV cell, and shown in one cell of a report's
table (which cannot show a line break as one: it would print a space) or CSV file; a note
kept with a line break would be something no report shows back as it is.

The refusal names the field and the character by its code point and position, never
echoing the text: it may hold escapes for a terminal. Text that is not refused but echoed
(a path, a database URL) is shown with those characters escaped (:func:`shown`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from clinicledger.domain.errors import InvalidInput

_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/")
_ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
# ASCII digits only: ``str.isdigit`` and ``\d`` also take '²', Arabic-Indic and
# mathematical digits (and ``int('²')`` then fails).
_ABN = re.compile("[0-9]{11}")

MAX_CODE_LENGTH = 40
MAX_NAME_LENGTH = 200
MAX_REASON_LENGTH = 500
MAX_NOTE_LENGTH = 2000

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NOT_ALLOWED = re.compile(rf"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff{BIDI_CONTROLS}]")
_NAMED = {0x00: "NUL", 0x09: "a tab", 0x0A: "a line feed", 0x0D: "a carriage return"}


def _kind_of(char: str) -> str:
    point = ord(char)
    if point in _NAMED:
        return _NAMED[point]
    if char in BIDI_CONTROLS:
        return "a bidirectional control"
    if 0xD800 <= point <= 0xDFFF:
        return "a surrogate, not a character"
    return {0x2028: "a line separator", 0x2029: "a paragraph separator"}.get(
        point, "a control character"
    )


def not_allowed(text: str) -> str | None:
    """Why ``text`` cannot be taken, naming its first refused character by code point and
    position (``"U+202E (a bidirectional control) at character 4 is not allowed"``); None
    if every character may be kept."""
    found = _NOT_ALLOWED.search(text)
    if found is None:
        return None
    char = found.group()
    return f"U+{ord(char):04X} ({_kind_of(char)}) at character {found.start() + 1} is not allowed"


def shown(text: str) -> str:
    """``text`` as a message may echo it (a path, a URL): each character that no field
    takes (the module's rule) written as its escape, ``\\x1b`` or ``\\u202e``, so that a
    file's name cannot rewrite what a terminal shows, or show itself other than it is."""
    return _NOT_ALLOWED.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    point = ord(found.group())
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def check_plain(text: str, *, field: str) -> str:
    """``text`` if it holds no character that no field takes (the module's rule); else
    refused naming ``field`` and the character."""
    reason = not_allowed(text)
    if reason is not None:
        raise InvalidInput(field, reason, code="character_not_allowed")
    return text


def check_code(code: str, *, field: str = "code") -> str:
    """A master-data code: 1-40 letters, digits or ``. _ - /``."""
    check_plain(code, field=field)
    if not code or len(code) > MAX_CODE_LENGTH or not set(code) <= _CODE_CHARS:
        raise InvalidInput(
            field,
            f"'{code}' is not a code: use 1-40 letters, digits, . _ - /",
            code="code_malformed",
        )
    return code


def check_name(name: str, *, field: str = "name") -> str:
    """A name, a description or a title: 1-200 characters, runs of spaces kept as one."""
    cleaned = " ".join(check_plain(name, field=field).split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput(field, "a name of 1-200 characters is required", code="name_missing")
    return cleaned


def check_text(text: str | None, *, field: str, max_length: int) -> str | None:
    """Optional free text (a reference, a note): at most ``max_length`` characters."""
    if text is None:
        return None
    cleaned = check_plain(text, field=field).strip()
    if len(cleaned) > max_length:
        raise InvalidInput(
            field,
            f"is {len(cleaned)} characters long; at most {max_length} are kept",
            code="text_too_long",
        )
    return cleaned or None


def require_reason(text: str) -> str:
    """The reason every correction carries: required, spaces collapsed."""
    cleaned = " ".join(check_plain(text, field="reason").split())
    if not cleaned:
        raise InvalidInput("reason", "a reason is required", code="reason_missing")
    return str(check_text(cleaned, field="reason", max_length=MAX_REASON_LENGTH))


def check_abn(abn: str, *, field: str = "abn") -> str:
    """An Australian Business Number: 11 ASCII digits (spaces between them dropped) passing
    the ATO's modulus-89 check."""
    digits = check_plain(abn, field=field).replace(" ", "")
    if _ABN.fullmatch(digits) is None:
        raise InvalidInput(field, f"'{abn}' is not an ABN (11 digits)", code="abn_malformed")
    values = [int(d) for d in digits]
    values[0] -= 1
    if sum(w * v for w, v in zip(_ABN_WEIGHTS, values, strict=True)) % 89 != 0:
        raise InvalidInput(field, f"'{abn}' fails the ABN check digits", code="abn_invalid")
    return digits


# Dates and timestamps in one shape each, ASCII digits only: ``date.fromisoformat`` also
# reads ISO week dates (``2018-W05-4``), the basic format (``20180201``) and, in Python 3.11,
# ``20180201xx``, all as 2018-02-01.
_DATE = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT = re.compile(
    "[0-9]{4}-[0-9]{2}-[0-9]{2}"
    "(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.][0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?"
)


def date_from_text(text: str) -> dt.date:
    """``YYYY-MM-DD`` exactly, as a date; ``ValueError`` for anything else."""
    if _DATE.fullmatch(text) is None:
        raise ValueError("not YYYY-MM-DD")
    return dt.date.fromisoformat(text)


def instant_from_text(text: str) -> dt.datetime:
    """``YYYY-MM-DD[THH:MM[:SS[.ffffff]]][+HH:MM|-HH:MM|Z]`` exactly (one to six digits of a
    second's fraction), as a datetime, aware if it has an offset; ``ValueError`` for
    anything else."""
    if _INSTANT.fullmatch(text) is None:
        raise ValueError("not YYYY-MM-DDTHH:MM[:SS][+HH:MM]")
    return dt.datetime.fromisoformat(text)


def parse_date(text: str, *, field: str) -> dt.date:
    """``YYYY-MM-DD`` exactly, in ASCII digits (not ``2018-W05-4`` or ``20180201``), as every
    door reads a date it is given."""
    try:
        return date_from_text(check_plain(text, field=field))
    except ValueError:
        raise InvalidInput(
            field, f"'{text}' is not a date (YYYY-MM-DD)", code="date_malformed"
        ) from None


def parse_instant(text: str, *, field: str) -> dt.datetime:
    """``YYYY-MM-DD[THH:MM[:SS[.ffffff]]][+HH:MM|Z]`` exactly, in ASCII digits."""
    try:
        return instant_from_text(check_plain(text, field=field))
    except ValueError:
        raise InvalidInput(
            field,
            f"'{text}' is not a timestamp (YYYY-MM-DDTHH:MM[:SS][+HH:MM])",
            code="timestamp_malformed",
        ) from None


MAX_ACTOR_LENGTH = 100


def check_actor(actor: str) -> str:
    """Who did it, as every entry and audit record names them: a login or an operating
    system user, 1-100 printable characters. Stricter than :func:`check_plain` (printable
    refuses every character it refuses, and every other format character and separator
    but the space), with a message of its own."""
    cleaned = actor.strip()
    if not cleaned or len(cleaned) > MAX_ACTOR_LENGTH or not cleaned.isprintable():
        raise InvalidInput(  # the name is not echoed: it may hold escapes for a terminal
            "actor",
            f"a user name is 1-{MAX_ACTOR_LENGTH} printable characters",
            code="actor_malformed",
        )
    return cleaned


def _plain_code(code: str) -> str:
    """A code as a person might mistype it: any case, separators dropped, leading zeros of
    each number dropped (``p-01`` and ``P1`` are the same)."""
    kept = re.sub(r"[^a-z0-9]", "", code.lower())
    return re.sub(r"(?<![0-9])0+(?=[0-9])", "", kept)


def close_codes(code: str, codes: Iterable[str], *, limit: int = 3) -> tuple[str, ...]:
    """The codes that ``code`` was probably meant to be: the same but for case, separators
    or leading zeros. Deliberately strict: a suggestion that is wrong costs more than
    none (DR9 is not DR1)."""
    wanted = _plain_code(code)
    return tuple(sorted(c for c in codes if c != code and _plain_code(c) == wanted))[:limit]


def listed(words: Sequence[str]) -> str:
    """``a, b or c``: words as a sentence offers them."""
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else "".join(words)
