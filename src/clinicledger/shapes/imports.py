"""An import's answer, as ``clinicledger --json import KIND FILE`` prints it and
``POST /api/v1/imports/{kind}`` returns it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clinicledger.services.imports import ImportResult


def imported(kind: str, file: str, result: ImportResult) -> dict[str, Any]:
    """What the file did: rows created and rows already there as they are, or that the
    same file had been imported before (nothing changed)."""
    return {
        "kind": kind,
        "file": file,
        "created": result.created,
        "unchanged": result.unchanged,
        "already_imported": result.already_imported,
    }
