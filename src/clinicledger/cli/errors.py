"""Errors to exit codes and messages, in one place. A user never sees a traceback (unless
``--debug``) or a raw database error; an unexpected error prints one line and a pointer to a
log file, readable by its owner only, that holds the traceback: its frames and exception
types, but no local variables and no message text, so no patient data (the web app logs
its own the same way: :mod:`clinicledger.errorlog`).

The services word their errors without knowing who calls them; here the command line
words its own hints for the codes where a flag or a command is the way out (:data:`HINTS`).
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable

import typer

from clinicledger import errorlog
from clinicledger.domain.errors import (
    ERRORS,
    EXIT_BUG,
    EXIT_USER_ERROR,
    ClinicLedgerError,
    ImportRejected,
    NotFound,
    UserError,
)
from clinicledger.domain.money import format_cents
from clinicledger.domain.text import listed, shown

EXIT_OK = 0
EXIT_FINDINGS = 1
__all__ = [
    "EXIT_BUG",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_USER_ERROR",
    "log_path",
    "logged_traceback",
    "report",
]
log_path = errorlog.log_path
logged_traceback = errorlog.logged_traceback

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
    path = errorlog.log(exc)
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
