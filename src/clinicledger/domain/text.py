"""Codes, names, free text and ABNs as the ledger keeps them; each refusal names its field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from clinicledger.domain.errors import InvalidInput

_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/")
_ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)

MAX_NAME_LENGTH = 200
MAX_REASON_LENGTH = 500
MAX_NOTE_LENGTH = 2000


def check_code(code: str, *, field: str = "code") -> str:
    """A master-data code: 1-40 letters, digits or ``. _ - /``."""
    if not code or len(code) > 40 or not set(code) <= _CODE_CHARS:
        raise InvalidInput(
            field,
            f"'{code}' is not a code: use 1-40 letters, digits, . _ - /",
            code="code_malformed",
        )
    return code


def check_name(name: str, *, field: str = "name") -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput(field, "a name of 1-200 characters is required", code="name_missing")
    return cleaned


def check_text(text: str | None, *, field: str, max_length: int) -> str | None:
    """Optional free text (a reference, a note): at most ``max_length`` characters."""
    if text is None:
        return None
    cleaned = text.strip()
    if len(cleaned) > max_length:
        raise InvalidInput(
            field,
            f"is {len(cleaned)} characters long; at most {max_length} are kept",
            code="text_too_long",
        )
    return cleaned or None


def require_reason(text: str) -> str:
    """The reason every correction carries: required, spaces collapsed."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidInput("reason", "a reason is required", code="reason_missing")
    return str(check_text(cleaned, field="reason", max_length=MAX_REASON_LENGTH))


def check_abn(abn: str, *, field: str = "abn") -> str:
    """An Australian Business Number: 11 digits passing the ATO's modulus-89 check."""
    digits = abn.replace(" ", "")
    if len(digits) != 11 or not digits.isdigit():
        raise InvalidInput(field, f"'{abn}' is not an ABN (11 digits)", code="abn_malformed")
    values = [int(d) for d in digits]
    values[0] -= 1
    if sum(w * v for w, v in zip(_ABN_WEIGHTS, values, strict=True)) % 89 != 0:
        raise InvalidInput(field, f"'{abn}' fails the ABN check digits", code="abn_invalid")
    return digits


MAX_ACTOR_LENGTH = 100


def check_actor(actor: str) -> str:
    """Who did it, as every entry and audit record names them: a login or an operating
    system user, 1-100 printable characters."""
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
