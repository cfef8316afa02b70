"""Idempotency keys: what a key was first used for, and the result it gave."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from clinicledger.store import tables as t

K = t.idempotency_keys


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptRequest:
    use_case: str
    command: str  # canonical JSON
    command_sha256: str
    result: str  # JSON


def find(conn: Connection, key: str) -> KeptRequest | None:
    row = conn.execute(
        select(K.c.use_case, K.c.command, K.c.command_sha256, K.c.result).where(K.c.key == key)
    ).one_or_none()
    if row is None:
        return None
    return KeptRequest(
        use_case=row.use_case,
        command=row.command,
        command_sha256=row.command_sha256,
        result=row.result,
    )


def keep(
    conn: Connection,
    *,
    key: str,
    request: KeptRequest,
    recorded_at: dt.datetime,
    actor: str,
) -> None:
    conn.execute(
        insert(K).values(
            key=key,
            use_case=request.use_case,
            command=request.command,
            command_sha256=request.command_sha256,
            result=request.result,
            recorded_at=recorded_at,
            actor=actor,
        )
    )
