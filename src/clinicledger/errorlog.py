"""The log of internal errors that every door writes: one file, readable by its owner only,
holding each error's traceback (its frames and exception types) but no local variables and
no message text, so that no patient data and no SQL parameters reach it. The command line
prints one line pointing at it; the web app answers 500 without a traceback and logs here.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import traceback
from pathlib import Path

from clinicledger.domain.errors import ClinicLedgerError, InvariantBroken


def log_path() -> Path:
    """Where internal errors are logged: ``$CLINICLEDGER_LOG_DIR/error.log``, else
    ``$XDG_STATE_HOME/clinicledger/error.log`` (``~/.local/state/clinicledger``)."""
    base = os.environ.get("CLINICLEDGER_LOG_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state", "clinicledger"
    )
    return Path(base) / "error.log"


LOG_FILE_MODE = 0o600  # the log is its owner's only: it names the ledger's files and code
LOG_FOLDER_MODE = 0o700


def log(exc: BaseException) -> Path:
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
