"""Errors to exit codes and messages, in one place. A user never sees a traceback (unless
``--debug``) or a raw database error; an unexpected error prints one line and a pointer to a
log file, readable by its owner only, that holds the traceback: its frames and exception
types, but no local variables and no message text, so no patient data (see
:func:`logged_traceback`).

The services word their errors without knowing who calls them; here the command line
words its own hints for the codes where a flag or a command is the way out (:data:`HINTS`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import typer

from clinicledger.domain.errors import (
    ERRORS,
    EXIT_BUG,
    EXIT_USER_ERROR,
    ClinicLedgerError,
    ImportRejected,
    InvariantBroken,
    NotFound,
    UserError,
)
from clinicledger.domain.money import format_cents
from clinicledger.domain.text import listed, shown

EXIT_OK = 0
EXIT_FINDINGS = 1
__all__ = ["EXIT_BUG", "EXIT_FINDINGS", "EXIT_OK", "EXIT_USER_ERROR", "report"]

INIT = "run 'clinicledger init'"


def _flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def _not_initialised(e: UserError) -> str:
    return f"{e.message}: {INIT}" + (" (or check --db)" if "path" in e.context else "")


def _patient_missing(e: UserError) -> str:
    report = e.context.get("report")
    if report == "client-reconciliation":
        return "patient: client-reconciliation needs --patient CODE"
    return f"patient: --patient is required for {report}"


def _now_in_past(e: UserError) -> str:
    earlier = e.context.get("earlier_by_days")
    if isinstance(earlier, int) and earlier >= 1:
        return (
            f"{e.message}. To enter earlier history, set up the master data with --now at "
            "or before its first date, or bring balances in with 'import opening-balances'"
        )
    return e.message


def _not_found(e: UserError) -> str:
    close = e.suggestions if isinstance(e, NotFound) else ()
    return e.message + (f"; did you mean {' or '.join(close)}?" if close else "")


def _nothing_to_change(e: UserError) -> str:
    flags = [_flag(field) for field in str(e.context.get("fields") or "").split()]
    if e.field == "practice":
        return f"practice: nothing to change: give {listed(flags)}"
    return f"{e.field}: nothing to change for {e.context['key']}: give {listed(flags)}"


def _import_rejected(e: UserError) -> str:
    if isinstance(e, ImportRejected) and any(p.code == "encoding" for p in e.problems):
        return f"{e.message}; if a spreadsheet saved it as CSV, try --encoding cp1252"
    return e.message


HINTS: dict[str, Callable[[UserError], str]] = {
    "allocation_target_missing": lambda e: (
        "to: give --to LINE=AMOUNT (one or more) or --auto, not both"
    ),
    "transfer_target_missing": lambda e: (
        "to_patient: say --to-patient (the only transfer there is)"
    ),
    "line_has_payments": lambda e: (
        f"line {e.context['line']} has {format_cents(int(e.context['applied_cents'] or 0))} "
        "of payments applied "
        f"({e.context['allocations']}); un-allocate them first, or delete with --cascade"
    ),
    "subject_missing": lambda e: (
        "subject: give exactly one of --patient, --payer, --invoice, --line"
    ),
    "nothing_to_change": _nothing_to_change,
    "inactive": lambda e: (
        f"{e.message}; '{e.context['kind']} activate {e.context['master_code']}' brings it back"
    ),
    "filter_not_applicable": lambda e: (
        f"{e.field}: {_flag(e.field or '')} does not apply to {e.context.get('report')}"
    ),
    "range_reversed": lambda e: "from: --from is after --to",
    "range_missing": lambda e: "from: this report needs --from and --to (the months to show)",
    "range_too_long": lambda e: (
        f"to: --from {e.context['from_date']} --to {e.context['to_date']} spans "
        f"{e.context['months']} months; at most {e.context['months_max']}"
    ),
    "range_conflict": lambda e: (
        "preset: give --preset or --from/--to, not both" if e.context.get("given") else e.message
    ),
    "favourite_taken": lambda e: f"{e.message}; give --replace to replace it",
    # the parts of a --line SPEC
    "product_missing": lambda e: f"{e.field}: a product line needs product=TITLE",
    "line_incomplete": lambda e: f"{e.field}: a {e.context['kind']} line needs provider= and date=",
    "fee_missing": lambda e: f"{e.field}: a cancellation line needs fee=",
    "item_missing": lambda e: f"{e.field}: a service line needs item=CODE",
    "as_of_missing": lambda e: "as_of: this report needs --as-of DATE",
    "period_missing": lambda e: f"{e.field}: income-by-provider needs a period: --from and --to",
    "patient_missing": _patient_missing,
    "not_initialised": _not_initialised,
    "ledger_newer": lambda e: f"{e.message}: upgrade clinicledger to use it",
    "demo_needs_empty_ledger": lambda e: f"{e.message} (use --db demo.db)",
    "now_in_past": _now_in_past,
    "now_in_future": lambda e: (
        f"{e.message}; to record history ahead of the real clock (a test, a reproduction), "
        "give --allow-future-clock"
    ),
    "not_found": _not_found,
    "import_rejected": _import_rejected,
}


def log_path() -> Path:
    """Where internal errors are logged: ``$CLINICLEDGER_LOG_DIR/error.log``, else
    ``$XDG_STATE_HOME/clinicledger/error.log`` (``~/.local/state/clinicledger``)."""
    base = os.environ.get("CLINICLEDGER_LOG_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state", "clinicledger"
    )
    return Path(base) / "error.log"


def message(exc: UserError) -> str:
    """How the command line words ``exc``: its hint, or (should a hint fail) the
    service's own message."""
    hint = HINTS.get(exc.code)
    try:
        return hint(exc) if hint is not None else exc.message
    except (KeyError, TypeError, ValueError):
        return exc.message


def report(exc: BaseException, *, as_json: bool, debug: bool) -> int:
    """Print ``exc`` for the user and return the exit code."""
    if isinstance(exc, typer.TyperException):  # a usage error: unknown option, missing value
        param = getattr(getattr(exc, "param", None), "name", None)
        exc = UserError(exc.format_message(), code="usage", field=param)
    if isinstance(exc, UserError):
        return _emit(exc.code, exc.field, message(exc), as_json, ERRORS[exc.code].exit_code)
    if debug:
        traceback.print_exception(exc)
    path = _log(exc)
    code = exc.code if isinstance(exc, ClinicLedgerError) else "internal"
    return _emit(
        code,
        None,
        f"internal error ({type(exc).__name__}); details in {shown(str(path))}",
        as_json,
        EXIT_BUG,
    )


def _emit(code: str, field: str | None, text: str, as_json: bool, status: int) -> int:
    if as_json:
        print(
            json.dumps({"error": {"code": code, "field": field, "message": text}}),
            file=sys.stderr,
        )
    else:
        print(f"error: {text}", file=sys.stderr)
    return status


LOG_FILE_MODE = 0o600  # the log is its owner's only: it names the ledger's files and code
LOG_FOLDER_MODE = 0o700


def _log(exc: BaseException) -> Path:
    """Append ``exc``'s traceback to the log, readable by its owner only (made so, should
    the file or its folder exist with looser rights); the log's path, or a word that
    there is none."""
    path = log_path()
    try:
        _private_folder(path.parent)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(path, flags, LOG_FILE_MODE)
        with os.fdopen(descriptor, "a", encoding="utf-8") as log:
            if hasattr(os, "fchmod"):
                os.fchmod(descriptor, LOG_FILE_MODE)  # an older file, made with looser rights
            log.write(f"--- {dt.datetime.now(dt.UTC).isoformat()}\n")
            log.write("".join(logged_traceback(exc)))
    except OSError:
        return Path("(log unavailable)")
    return path


def _private_folder(folder: Path) -> None:
    """Make ``folder`` (mode 0700) or, when it is ours, take its group's and others'
    rights away; a shared folder such as /tmp (sticky, or another user's) is left as it
    is, and the file's own mode keeps the log private there."""
    folder.mkdir(mode=LOG_FOLDER_MODE, parents=True, exist_ok=True)
    found = folder.stat()
    shared = found.st_mode & stat.S_ISVTX or found.st_uid != os.getuid()
    if not shared and stat.S_IMODE(found.st_mode) != LOG_FOLDER_MODE:
        folder.chmod(LOG_FOLDER_MODE)


def logged_traceback(exc: BaseException) -> list[str]:
    """``exc``'s traceback as the log keeps it: every frame and every exception's type, in
    the order Python prints them (causes and contexts first), but no message text. A
    message may quote input or a database row (a patient's name in a ``ValueError``, the
    SQL parameters and a constraint's ``DETAIL`` in a ``DBAPIError``); only our own
    :class:`InvariantBroken`, worded by us from ids and counts, keeps its message. Other
    errors of ours show their code and field; a driver's error (the cause of SQLAlchemy's)
    its SQLSTATE or SQLite error name."""
    lines: list[str] = []
    _format_chain(exc, lines, seen=set())
    return lines


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _format_chain(exc: BaseException, lines: list[str], *, seen: set[int]) -> None:
    seen.add(id(exc))
    cause, context = exc.__cause__, exc.__context__
    if cause is not None and id(cause) not in seen:
        _format_chain(cause, lines, seen=seen)
        lines.append(_CAUSE)
    elif context is not None and not exc.__suppress_context__ and id(context) not in seen:
        _format_chain(context, lines, seen=seen)
        lines.append(_CONTEXT)
    if exc.__traceback__ is not None:
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    lines.append(_describe(exc) + "\n")
    if isinstance(exc, BaseExceptionGroup):
        for n, part in enumerate(exc.exceptions, 1):
            if id(part) not in seen:
                lines.append(f"\n--- part {n} of {type(exc).__name__}:\n")
                _format_chain(part, lines, seen=seen)


def _describe(exc: BaseException) -> str:
    """The exception's class, and what of it is known to hold no patient detail."""
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    if isinstance(exc, InvariantBroken):
        return f"{name}: {exc.message}"
    if isinstance(exc, ClinicLedgerError):
        return f"{name} (code {exc.code}, field {exc.field}; message not logged)"
    details = [
        f"{attribute} {value}"
        for attribute in ("sqlstate", "sqlite_errorname")
        for value in [getattr(exc, attribute, None)]
        if isinstance(value, str) and value.isascii() and value.replace("_", "").isalnum()
    ]
    shown = f" ({'; '.join(details)})" if details else ""
    return f"{name}{shown} (message not logged)"
