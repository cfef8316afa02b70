"""What commands print: one JSON object with ``--json``, else lines for people."""

from __future__ import annotations

import json
from typing import Any

from clinicledger.cli.app import settings
from clinicledger.domain.money import format_cents
from clinicledger.shapes.entries import entry


def out(data: dict[str, Any], text: str) -> None:
    """Print ``data`` as JSON with ``--json``, else ``text``."""
    print(json.dumps(data) if settings.as_json else text)


def money(cents: int) -> str:
    return format_cents(cents)


def entry_done(kind: str, subject_id: int, entry_id: int, text: str, **more: Any) -> None:
    """The answer of a correction: the entry it made and what it is about."""
    out(entry(kind, subject_id, entry_id, **more), text)
