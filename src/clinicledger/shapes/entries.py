"""The answer of a correction (``payment unallocate|refund|reverse``, ``line
adjust|transfer|delete``): the entry it made and what it is about."""

from __future__ import annotations

from typing import Any

from clinicledger.domain.ids import format_id


def entry(kind: str, subject_id: int, entry_id: int, **more: Any) -> dict[str, Any]:
    """``kind`` is line, payment or allocation; ``more`` an amount, as a decimal string."""
    return {"id": format_id("entry", entry_id), kind: format_id(kind, subject_id), **more}
