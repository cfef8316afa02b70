"""Errors to exit codes and messages, in one place. A user never sees a traceback (unless
``--debug``) or a raw database error; an unexpected error prints one line and a pointer to a
log file that holds the traceback (no local variables, so no patient data)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import traceback
from pathlib import Path

import typer

from clinicledger.domain.errors import ClinicLedgerError, InvariantBroken, UserError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USER_ERROR = 2
EXIT_BUG = 70


def log_path() -> Path:
    base = os.environ.get("CLINICLEDGER_LOG_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state", "clinicledger"
    )
    return Path(base) / "error.log"


def report(exc: BaseException, *, as_json: bool, debug: bool) -> int:
    """Print ``exc`` for the user and return the exit code."""
    if isinstance(exc, typer.TyperException):  # a usage error: unknown option, missing value
        param = getattr(getattr(exc, "param", None), "name", None)
        return _emit("usage", param, exc.format_message(), as_json, EXIT_USER_ERROR)
    if isinstance(exc, UserError):
        return _emit(exc.code, exc.field, exc.message, as_json, EXIT_USER_ERROR)
    if debug:
        traceback.print_exception(exc)
    path = _log(exc)
    code = exc.code if isinstance(exc, (InvariantBroken, ClinicLedgerError)) else "internal"
    return _emit(
        code, None, f"internal error ({type(exc).__name__}); details in {path}", as_json, EXIT_BUG
    )


def _emit(code: str, field: str | None, message: str, as_json: bool, status: int) -> int:
    if not message.strip():  # click printed the help already (a group called bare)
        return status
    if as_json:
        print(
            json.dumps({"error": {"code": code, "field": field, "message": message}}),
            file=sys.stderr,
        )
    else:
        print(f"error: {message}", file=sys.stderr)
    return status


def _log(exc: BaseException) -> Path:
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {dt.datetime.now(dt.UTC).isoformat()}\n")
            log.write("".join(traceback.format_exception(exc)))
    except OSError:
        return Path("(log unavailable)")
    return path
