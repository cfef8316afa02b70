"""The two hash chains that make tampering evident, and their head.

Each entry's hash covers its own fields, every one of its postings (in order) and the hash
of the entry before it; each audit record's hash covers its fields, the entries it records
(their ids and hashes) and the hash of the record before it. Editing, deleting, reordering
or inserting anything before the end of a chain changes every hash after it, so ``check``
names the first row that no longer follows.

What a chain cannot show by itself is rows cut from its end. So the *head* (how many
entries and audit records there are, and a hash of both chains' last hashes) is printed
where it can be kept outside the ledger: at every period close, and by
``check --print-head``. Given an earlier head, ``check`` proves that the ledger still
extends it: the chains reach that far, with those hashes.

These are formats of stored data: a row hashed one way is checked the same way forever.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import json.encoder
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from clinicledger.domain.errors import InvalidInput

GENESIS_HASH = "0" * 64

# A posting as the chain sees it: account, amount in cents, then the dimensions patient,
# payer, provider, location, invoice, line, payment, reason.
PostingFacts = tuple[
    str, int, int | None, int | None, int | None, int | None, int | None, int | None, int | None,
    str | None,
]  # fmt: skip


def entry_hash(
    prev: str,
    *,
    entry_id: int,
    recorded_at: dt.datetime,
    effective_date: dt.date,
    actor: str,
    kind: str,
    reason: str | None,
    note: str | None,
    reverses: int | None,
    postings: Iterable[PostingFacts],
) -> str:
    """An entry's hash: its fields, its postings in order, and the entry before it."""
    facts = [
        prev,
        entry_id,
        recorded_at.isoformat(),
        effective_date.isoformat(),
        actor,
        kind,
        reason,
        note,
        reverses,
        [list(p) for p in postings],
    ]
    return _sha256(canonical_json(facts))


def _refuse(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not part of a chained fact")


# The C encoder json.dumps itself runs, made once rather than on every call (a bulk import
# hashes hundreds of thousands of entries); markers=None: no check for cycles, as chained
# facts are flat lists of scalars.
_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ENCODE: Callable[[Any, int], Iterator[str]] | None = (
    None
    if _MAKE_ENCODER is None
    else _MAKE_ENCODER(None, _refuse, encode_basestring, None, ":", ",", False, False, True)
)


def canonical_json(value: Any) -> str:
    """The chain's text of a fact: byte for byte ``json.dumps(value, ensure_ascii=False,
    separators=(",", ":"))`` (a property test holds it to that: the hashes of rows already
    stored depend on it)."""
    if _ENCODE is None:  # pragma: no cover - CPython has the C encoder
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return "".join(_ENCODE(value, 0))


def audit_hash(
    prev: str,
    recorded_at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    body: str,
    entries: str | None = None,
) -> str:
    """An audit record's hash. ``entries`` (``"id:hash id:hash"``, the entries the change
    recorded) is part of it for records written since the journal is chained; records
    from before have none, and keep the hash they were written with."""
    parts = [prev, recorded_at.isoformat(), actor, action, subject, body]
    if entries is not None:
        parts.append(entries)
    return _sha256("\x1f".join(parts))


def entries_text(entries: Sequence[tuple[int, str]]) -> str:
    """The entries an audit record names, as it keeps them: ``"17:ab12.. 18:9f3c.."``."""
    return " ".join(f"{entry_id}:{digest}" for entry_id, digest in entries)


def entries_of(text: str | None) -> tuple[tuple[int, str], ...]:
    """:func:`entries_text` read back."""
    if not text:
        return ()
    found = []
    for part in text.split():
        entry_id, _, digest = part.partition(":")
        found.append((int(entry_id), digest))
    return tuple(found)


@dataclass(frozen=True, slots=True, kw_only=True)
class Head:
    """How far the two chains reach, and a hash of both their ends."""

    entries: int
    audit_records: int
    entries_hash: str
    audit_hash: str

    @property
    def digest(self) -> str:
        return _sha256(f"{self.entries_hash}:{self.audit_hash}")

    def __str__(self) -> str:
        """``ENTRIES/AUDIT_RECORDS:HASH``, e.g. ``2431/2602:9f3a...``: what to keep."""
        return f"{self.entries}/{self.audit_records}:{self.digest}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectedHead:
    entries: int
    audit_records: int
    digest: str


_HEAD = re.compile(r"^(?P<entries>[0-9]{1,12})/(?P<audit>[0-9]{1,12}):(?P<digest>[0-9a-f]{64})$")


def parse_head(text: str, *, field: str = "expect_head") -> ExpectedHead:
    """A head as :class:`Head` prints it."""
    match = _HEAD.match(text.strip())
    if match is None:
        raise InvalidInput(
            field,
            "a head is ENTRIES/AUDIT_RECORDS:HASH, as a period close prints it",
            code="head_malformed",
        )
    return ExpectedHead(
        entries=int(match["entries"]),
        audit_records=int(match["audit"]),
        digest=match["digest"],
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
