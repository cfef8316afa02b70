"""Imports: moving in from another program. A manager uploads a CSV file of one kind the
command line imports (``clinicledger import --help``) and sees what it did (rows added,
rows already there), or every bad row with its line number and column; a file with any
bad row writes nothing (the service's all or nothing)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from clinicledger.domain.errors import ImportRejected, InvalidInput, UserError
from clinicledger.domain.permissions import Action
from clinicledger.formats.csv_masters import ENCODINGS, KINDS, MAX_FILE_BYTES
from clinicledger.services import imports
from clinicledger.web.errors import form_page
from clinicledger.web.render import render
from clinicledger.web.security import Clerk, page

router = APIRouter(include_in_schema=False)

# The columns of each kind, as the README's table gives them (the header row names them).
COLUMNS = {
    "patients": "code,name",
    "providers": "code,name[,company_name,company_abn,company_gst_registered]",
    "payers": "code,name,kind (fund, medicare, dva, insurer, third-party)",
    "items": "code,description,fee[,taxable]",
    "opening-balances": "party,code,date,location,amount[,note] (party: patient or payer)",
}


def _context(**more: Any) -> dict[str, Any]:
    return {
        "kinds": KINDS,
        "encodings": ENCODINGS,
        "columns": COLUMNS,
        "result": None,
        "problems": (),
        **more,
    }


@router.get("/imports")
def import_form(request: Request, clerk: Annotated[Clerk, page(Action.IMPORT)]) -> HTMLResponse:
    return render(request, clerk, "imports/upload.html", values={"kind": "patients"}, **_context())


@router.post("/imports")
async def import_file(request: Request, clerk: Annotated[Clerk, page(Action.IMPORT)]) -> Response:
    form = await request.form()
    typed = {
        "kind": str(form.get("kind") or ""),
        "encoding": str(form.get("encoding") or "utf-8"),
    }
    sent = form.get("file")
    try:
        if not isinstance(sent, UploadFile) or not sent.filename:
            raise InvalidInput("file", "choose a CSV file to upload", code="file_unreadable")
        content = await sent.read(MAX_FILE_BYTES + 1)
        command = imports.ImportFile(
            kind=typed["kind"], file_name=sent.filename, content=content, encoding=typed["encoding"]
        )
        result = await run_in_threadpool(imports.import_file, clerk.uow(), command)
    except UserError as error:
        await form.close()
        problems = error.problems if isinstance(error, ImportRejected) else ()
        return form_page(
            request,
            clerk,
            "imports/upload.html",
            error,
            values=typed,
            **_context(problems=problems, file_name=getattr(sent, "filename", "")),
        )
    await form.close()
    return render(
        request,
        clerk,
        "imports/upload.html",
        values=typed,
        **_context(result=result, file_name=command.file_name),
    )
