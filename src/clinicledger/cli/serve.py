"""``serve``: the staff web app and the JSON API over this ledger, served by uvicorn until
Ctrl-C. The app is named, not imported (``WEB_APP``): the command line and the web do not
import each other, and a deployment can run the same factory under its own process
manager (``uvicorn --factory clinicledger.web.app:app_from_environment``), configured by
the same environment."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from clinicledger.cli.app import app, needs, settings
from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.permissions import Action

WEB_APP = "clinicledger.web.app:app_from_environment"

Host = Annotated[
    str, typer.Option(metavar="HOST", help="The address to listen on (0.0.0.0: every one)")
]
Port = Annotated[int, typer.Option(metavar="PORT", help="The port (1-65535)")]


def address(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve_web(host: str, port: int, *, banner: str) -> None:
    """Serve the web app over the ledger of ``--db``, checked first (a wrong database is
    refused here, before ``banner`` is printed, rather than at the first request)."""
    import uvicorn

    if not 0 < port < 65536:
        raise InvalidInput("port", f"{port} is not a port (1-65535)", code="option_malformed")
    settings.engine  # noqa: B018  (opens and checks it)
    settings.close()
    print(banner, flush=True)
    os.environ["CLINICLEDGER_DB"] = settings.db
    uvicorn.run(
        WEB_APP,
        factory=True,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # a request's query names patients: no log of them
        server_header=False,
    )


@app.command()
@needs(Action.LEDGER_SETUP)
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Serve the web app and the JSON API (/api/v1, /openapi.json) until Ctrl-C."""
    serve_web(
        host, port, banner=f"serving {settings.db} on {address(host, port)} (Ctrl-C stops it)"
    )
