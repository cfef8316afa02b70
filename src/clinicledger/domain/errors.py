"""The errors clinicledger raises, and the one registry of their codes.

```
ClinicLedgerError
  UserError                                  CLI exit 2
    InvalidInput(field, reason)              HTTP 422
    ImportRejected(file, problems)           HTTP 422
    NotFound(kind, key)                      HTTP 404
    Conflict                                 HTTP 409
      OverAllocation(available, requested)
      Locked
      PeriodClosed
      IdempotencyConflict(key, differs)
    Unavailable                              HTTP 503 (no ledger there, or not one yet)
    Unauthenticated                          HTTP 401 (logins, sessions, API tokens)
    Forbidden                                HTTP 403 (the permission matrix, a disabled
                                                       user, a form without its CSRF token)
  InvariantBroken (a bug)                    CLI exit 70, HTTP 500
```

Every error has a stable ``code``, declared once in :data:`ERRORS` with its class (and so
its CLI exit code and HTTP status), and a ``field``: the input it is about, or ``None``.
Raising a code that is not declared, or declared for another class, is itself a bug.

A message names ids and amounts, never patient details, and never an adapter's words (a
flag, a command, a form): the adapters word their own hints from the code, the field and
the error's ``context`` (typed values such as the report a filter does not apply to).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

EXIT_USER_ERROR = 2
EXIT_BUG = 70

Context = str | int | bool | None


class ClinicLedgerError(Exception):
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = EXIT_BUG
    default_code: ClassVar[str] = "invariant_broken"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        **context: Context,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.context: Mapping[str, Context] = context
        declared = ERRORS.get(self.code)
        if declared is None or not isinstance(self, declared.error):
            raise TypeError(
                f"error code {self.code!r} is not declared for {type(self).__name__} in ERRORS"
            )


class UserError(ClinicLedgerError):
    """Bad input or a refused request: the user can fix it."""

    exit_code = EXIT_USER_ERROR
    http_status = 422


class InvalidInput(UserError):
    def __init__(self, field: str, reason: str, *, code: str, **context: Context) -> None:
        super().__init__(f"{field}: {reason}", code=code, field=field, **context)
        self.reason = reason


class NotFound(UserError):
    """A code or id that names nothing; ``suggestions`` are codes that are close."""

    http_status = 404
    default_code = "not_found"

    def __init__(
        self,
        kind: str,
        key: str,
        *,
        field: str | None = None,
        suggestions: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"{kind} {key} not found", field=field or kind, kind=kind, key=key)
        self.kind = kind
        self.key = key
        self.suggestions = suggestions


class Conflict(UserError):
    """The request is well formed, but the ledger's state refuses it."""

    http_status = 409


class OverAllocation(Conflict):
    """More money asked for than there is: ``available_cents`` of it, ``requested_cents``
    asked; the payment and line it is about, where there is one."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        field: str,
        available_cents: int,
        requested_cents: int,
        payment_id: int | None = None,
        line_id: int | None = None,
    ) -> None:
        super().__init__(
            message,
            code=code,
            field=field,
            available_cents=available_cents,
            requested_cents=requested_cents,
            payment_id=payment_id,
            line_id=line_id,
        )
        self.available_cents = available_cents
        self.requested_cents = requested_cents
        self.payment_id = payment_id
        self.line_id = line_id


class Locked(Conflict):
    pass


class PeriodClosed(Conflict):
    pass


class IdempotencyConflict(Conflict):
    """An idempotency key already used for another command: ``field`` is the first part
    of the command that differs."""

    def __init__(self, key: str, differs: str) -> None:
        super().__init__(
            f"idempotency key '{key}' was used for another command"
            + ("" if differs == "command" else f": its {differs} differs"),
            code="idempotency_conflict",
            field=differs,
            key=key,
        )
        self.key = key


class Unavailable(UserError):
    http_status = 503


class Unauthenticated(UserError):
    http_status = 401


class Forbidden(UserError):
    http_status = 403


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportProblem:
    line: int
    column: str
    reason: str
    code: str | None = None  # "encoding": not UTF-8 text, and another encoding may read it

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


class ImportRejected(UserError):
    def __init__(self, file: str, problems: tuple[ImportProblem, ...]) -> None:
        # a file's name is echoed with its escapes shown (text.py imports this module)
        from clinicledger.domain.text import shown

        listed = "; ".join(str(p) for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        first = problems[0] if problems else None
        super().__init__(
            f"{shown(file)} rejected, nothing imported: {listed}{more}",
            code="import_rejected",
            field=first.column if first else None,
        )
        self.file = file
        self.problems = problems


class InvariantBroken(ClinicLedgerError):
    """A bug: the ledger found itself in a state its rules forbid."""


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    code: str
    error: type[ClinicLedgerError]

    @property
    def http_status(self) -> int:
        return self.error.http_status

    @property
    def exit_code(self) -> int:
        return self.error.exit_code


def _declare(error: type[ClinicLedgerError], codes: str) -> dict[str, ErrorSpec]:
    return {code: ErrorSpec(code, error) for code in codes.split()}


# Every code, once. tests/errors/test_registry.py proves that each one raised anywhere in
# src/ is declared here and has a reproducer in tests/errors/.
ERRORS: dict[str, ErrorSpec] = {
    **_declare(
        InvalidInput,
        """
        abn_invalid abn_malformed actor_conflict actor_malformed allocation_target_missing
        amount_malformed amount_negative amount_too_large amount_zero as_of_missing
        character_not_allowed choice_unknown code_malformed company_name_missing currency_malformed
        date_in_future date_malformed date_out_of_range favourite_malformed
        favourite_version fee_missing fee_out_of_range file_unreadable
        filter_not_applicable head_malformed id_malformed idempotency_key_malformed
        interval_out_of_range
        invalid_input item_missing line_incomplete line_malformed line_missing line_of_other_patient
        locale_unknown
        name_missing nothing_to_change now_in_future now_in_past option_malformed output_unwritable
        party_ambiguous password_length password_mismatch pdf_too_long
        patient_missing period_missing product_missing range_conflict range_missing
        range_reversed range_too_long reason_missing report_missing report_unknown
        subject_missing target_malformed text_too_long timestamp_malformed timezone_unknown
        today_missing transfer_target_missing
        """,
    ),
    **_declare(UserError, "usage"),  # the command line's own: an unknown option, a missing value
    **_declare(ImportRejected, "import_rejected"),
    **_declare(NotFound, "not_found"),
    **_declare(
        Conflict,
        """
        allocation_undone code_taken demo_needs_empty_ledger favourite_taken inactive
        line_billed_to_patient line_deleted line_has_payments line_not_billed_to_payer
        name_taken payment_refunded payment_reversed period_already_closed timezone_fixed
        title_taken
        """,
    ),
    **_declare(
        OverAllocation,
        """
        allocation_exceeds_line allocation_exceeds_payment credit_exceeded
        exceeds_line_balance refund_exceeds_unallocated
        """,
    ),
    **_declare(Locked, "ledger_busy"),
    **_declare(PeriodClosed, "period_closed"),
    **_declare(IdempotencyConflict, "idempotency_conflict"),
    **_declare(Unavailable, "db_unavailable ledger_newer not_a_ledger not_initialised"),
    **_declare(Unauthenticated, "login_failed login_locked login_required"),
    **_declare(Forbidden, "csrf_invalid forbidden user_disabled"),
    **_declare(InvariantBroken, "invariant_broken"),
}
