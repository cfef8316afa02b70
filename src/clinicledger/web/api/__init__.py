"""The JSON API under ``/api/v1``, one module per noun, each with its ``router``. An
endpoint answers exactly what ``clinicledger --json`` prints for the same request: it
builds its answer with the same function of :mod:`clinicledger.shapes`. Errors are
``{"error": {"code", "field", "message"}}`` (``web/errors.py``)."""

from __future__ import annotations

from typing import Any

# The refusals every endpoint may answer, for the OpenAPI document.
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "field", "message"],
            "properties": {
                "code": {"type": "string"},
                "field": {"type": ["string", "null"]},
                "message": {"type": "string"},
            },
        }
    },
}
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    }
    for status, description in (
        (401, "No valid API token"),
        (403, "The token's user may not do this"),
        (404, "Not found"),
        (409, "Refused by the ledger's state"),
        (422, "Bad input"),
    )
}
