"""``import KIND FILE.csv``: moving in from another program, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clinicledger.cli.app import IdempotencyKey, app, later, needs, settings
from clinicledger.cli.output import out
from clinicledger.cli.parse import words
from clinicledger.cli.progress import progress_bar
from clinicledger.domain.permissions import Action
from clinicledger.domain.text import shown
from clinicledger.formats.csv_masters import ENCODINGS, KINDS, read_file
from clinicledger.shapes import imports as shapes

if TYPE_CHECKING:
    from clinicledger.services import imports
else:
    imports = later("clinicledger.services.imports")


@app.command("import")
@needs(Action.IMPORT)
def import_command(
    kind: Annotated[
        str,
        typer.Argument(metavar=words(KINDS), help="What the file holds"),
    ],
    file: Annotated[str, typer.Argument(metavar="FILE.csv", help="The file, with a header row")],
    encoding: Annotated[
        str,
        typer.Option(
            metavar=words(ENCODINGS),
            help="The file's text encoding: cp1252 is what many spreadsheets save as CSV",
        ),
    ] = "utf-8",
    idempotency_key: IdempotencyKey = None,
) -> None:
    """Import master data or opening balances from a CSV file, all or nothing."""
    content = read_file(file, field="file")
    uow = settings.uow()
    with progress_bar(f"importing {shown(Path(file).name)}") as tell:
        uow.progress = tell
        result = imports.import_file(
            uow,
            imports.ImportFile(
                kind=kind, file_name=Path(file).name, content=content, encoding=encoding
            ),
            idempotency_key=idempotency_key,
        )
    out(
        shapes.imported(kind, file, result),
        f"{shown(file)}: "
        + (
            "already imported; nothing changed"
            if result.already_imported
            else f"{result.created} created, {result.unchanged} unchanged"
        ),
    )
