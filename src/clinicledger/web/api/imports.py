"""``POST /api/v1/imports/{kind}``: a CSV file of patients, providers, payers, items or
opening balances, all or nothing; the same object as ``clinicledger --json import KIND
FILE``, and on any bad row the command line's refusal (422 ``import_rejected``, naming the
first row's line and column; every row's in its message). The file is the request's body
(``Content-Type: text/csv``) or the ``file`` field of a multipart form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.permissions import Action
from clinicledger.formats.csv_masters import MAX_FILE_BYTES
from clinicledger.services import imports
from clinicledger.shapes import imports as shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.security import Clerk, api

router = APIRouter(prefix="/imports", tags=["imports"], responses=ERRORS)

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


async def uploaded(request: Request, *, field: str = "file") -> tuple[str | None, bytes]:
    """The file a request carries: a multipart form's ``field`` (its name and bytes), or
    the whole body (no name). At most one byte more than an import may hold is read, so
    that a longer file is refused by its size."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        sent = form.get(field)
        if not isinstance(sent, UploadFile):
            await form.close()
            raise InvalidInput(
                field, "no file was sent: choose a CSV file to upload", code="file_unreadable"
            )
        try:
            return sent.filename, await sent.read(MAX_FILE_BYTES + 1)
        finally:
            await form.close()
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_FILE_BYTES:
            break
    return None, bytes(data)


@router.post("/{kind}", openapi_extra=_BODY)
async def import_file(
    kind: str,
    request: Request,
    clerk: Annotated[Clerk, api(Action.IMPORT)],
    file: str = "",
    encoding: str = "utf-8",
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Import a CSV file of ``kind`` (patients, providers, payers, items,
    opening-balances): every row or none. ``file`` names it in messages and in the answer
    (default: the uploaded file's name, else "upload.csv"); ``encoding`` is utf-8 or
    cp1252. The same file again changes nothing."""
    sent_name, content = await uploaded(request)
    name = file or sent_name or "upload.csv"
    command = imports.ImportFile(kind=kind, file_name=name, content=content, encoding=encoding)
    result = await run_in_threadpool(
        imports.import_file, clerk.uow(), command, idempotency_key=idempotency_key
    )
    return shapes.imported(command.kind, name, result)
