"""A use case as a value: a frozen command goes in, a result comes out, in one transaction,
and an optional idempotency key makes a retry harmless.

```python
@use_case(ENTRY_ID)
def refund(uow: UnitOfWork, command: Refund) -> int:
    ...                      # inside the unit of work: read under lock, decide, append

entry_id = refund(uow, Refund(payment_id=42, amount_cents=1000, reason="overpaid"),
                  idempotency_key="desk-3:2024-03-02:17")
```

The wrapper opens the unit of work, runs the body and commits. Given a key, it first looks
the key up under the ledger's write lock: a key already used for the same command returns
that first result and writes nothing; used for another command, it is refused with
``IdempotencyConflict`` naming the first field that differs. Otherwise the key, the
command (canonical JSON and its SHA-256) and the result are kept in the same transaction
as the entries the command made, so a key names exactly one posting of the command, even
when several clerks race with it. A key is the practice's, not one user's: the same
request sent from two desks is still one request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from clinicledger.domain.errors import IdempotencyConflict, InvalidInput
from clinicledger.store import idempotency
from clinicledger.store.idempotency import KeptRequest
from clinicledger.store.uow import UnitOfWork

C = TypeVar("C")
R = TypeVar("R")

MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class ResultCodec(Generic[R]):
    """How a use case's result is kept with its idempotency key, and read back."""

    dump: Callable[[R], Any]
    load: Callable[[Any], R]


ENTRY_ID: ResultCodec[int] = ResultCodec(dump=int, load=int)  # ids of entries or rows


class UseCase(Generic[C, R]):
    """A use case's body, run as one transaction (see the module docstring)."""

    def __init__(self, body: Callable[[UnitOfWork, C], R], result: ResultCodec[R]) -> None:
        self.body = body
        self.name = body.__name__
        self.result = result
        functools.update_wrapper(self, body)

    def __call__(self, uow: UnitOfWork, command: C, *, idempotency_key: str | None = None) -> R:
        key = None if idempotency_key is None else check_idempotency_key(idempotency_key)
        with uow if key is None else uow.defer_clock_check():
            request = None
            if key is not None:
                text = canonical_json(command)
                request = KeptRequest(
                    use_case=self.name,
                    command=text,
                    command_sha256=hashlib.sha256(text.encode()).hexdigest(),
                    result="",
                )
                kept = idempotency.find(uow.conn, key)
                if kept is not None:
                    return self._replay(key, kept, request, getattr(command, "INPUTS", {}))
                uow.check_clock()  # a replay records nothing, and needs no clock
            result = self.body(uow, command)
            if key is not None and request is not None:
                done = dataclasses.replace(request, result=json.dumps(self.result.dump(result)))
                idempotency.keep(
                    uow.conn, key=key, request=done, recorded_at=uow.stamp(), actor=uow.actor
                )
            uow.commit()
        return result

    def _replay(
        self, key: str, kept: KeptRequest, request: KeptRequest, inputs: Mapping[str, str]
    ) -> R:
        if kept.use_case != request.use_case:
            raise IdempotencyConflict(key, "command")
        if kept.command_sha256 != request.command_sha256:
            raise IdempotencyConflict(key, _first_difference(kept.command, request.command, inputs))
        return self.result.load(json.loads(kept.result))


def use_case(result: ResultCodec[R]) -> Callable[[Callable[[UnitOfWork, C], R]], UseCase[C, R]]:
    """``@use_case(codec)`` over ``def name(uow, command) -> result``."""

    def wrap(body: Callable[[UnitOfWork, C], R]) -> UseCase[C, R]:
        return UseCase(body, result)

    return wrap


def set_field(command: object, name: str, value: object) -> None:
    """For a command's ``__post_init__``: keep a field as it was checked and normalised
    (text trimmed, spaces collapsed). A command refuses bad values as it is made, before
    any transaction: what it holds is valid whoever made it."""
    object.__setattr__(command, name, value)


def check_idempotency_key(key: str) -> str:
    """1-200 printable ASCII characters, no spaces: what a client can send in a header."""
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all("!" <= c <= "~" for c in key):
        raise InvalidInput(
            "idempotency_key",
            f"an idempotency key is 1-{MAX_KEY_LENGTH} printable ASCII characters, no spaces",
            code="idempotency_key_malformed",
        )
    return key


def canonical_json(command: object) -> str:
    """A command as JSON with one spelling: its fields in order, enums by value, dates in
    ISO form, file contents by their SHA-256."""
    return json.dumps(_plain(command), separators=(",", ":"))


def _plain(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"a command cannot hold a {type(value).__name__}")


def _first_difference(kept: str, given: str, names: Mapping[str, str]) -> str:
    """The input, named as errors name it, of the first field of two commands' canonical
    JSON whose values differ."""
    first, second = json.loads(kept), json.loads(given)
    for name in [*first, *(k for k in second if k not in first)]:
        if first.get(name) != second.get(name):
            return input_name(str(name), names)
    return "command"


def input_name(field_name: str, names: Mapping[str, str]) -> str:
    """A command's field as the input it came from: ``amount_cents`` is ``amount``,
    ``from_code`` is ``from``, ``payment_id`` is ``payment``; ``names`` (a command's
    ``INPUTS``) for the others."""
    if field_name in names:
        return names[field_name]
    for suffix in ("_cents", "_code", "_date", "_id"):
        if field_name.endswith(suffix):
            return field_name.removesuffix(suffix)
    return field_name
