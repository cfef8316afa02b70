"""The errors clinicledger raises.

```
ClinicLedgerError
  UserError                                  CLI exit 2
    InvalidInput(field, value, reason)       HTTP 422
    NotFound(kind, key)                      HTTP 404
    Conflict                                 HTTP 409
      OverAllocation
      Locked
      PeriodClosed
      IdempotencyConflict
    ImportRejected(file, problems)           HTTP 422
  InvariantBroken (a bug)                    CLI exit 70, HTTP 500
```

Every error has a stable ``code`` and a ``field`` (the input it is about, or ``None``).
Messages name ids and the fix, never patient details.
"""

from __future__ import annotations

from dataclasses import dataclass


class ClinicLedgerError(Exception):
    code: str = "error"
    field: str | None = None

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if field is not None:
            self.field = field


class UserError(ClinicLedgerError):
    code = "user_error"


class InvalidInput(UserError):
    code = "invalid_input"

    def __init__(self, field: str, reason: str, *, code: str | None = None):
        super().__init__(f"{field}: {reason}", code=code, field=field)
        self.reason = reason


class NotFound(UserError):
    code = "not_found"

    def __init__(self, kind: str, key: str, *, field: str | None = None):
        super().__init__(f"{kind} {key} not found", field=field or kind)
        self.kind = kind
        self.key = key


class Conflict(UserError):
    code = "conflict"


class OverAllocation(Conflict):
    code = "over_allocation"


class Locked(Conflict):
    code = "locked"


class PeriodClosed(Conflict):
    code = "period_closed"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportProblem:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


class ImportRejected(UserError):
    code = "import_rejected"

    def __init__(self, file: str, problems: tuple[ImportProblem, ...]):
        shown = "; ".join(str(p) for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        first = problems[0] if problems else None
        super().__init__(
            f"{file} rejected, nothing imported: {shown}{more}",
            field=first.column if first else None,
        )
        self.file = file
        self.problems = problems


class InvariantBroken(ClinicLedgerError):
    """A bug: the ledger found itself in a state its rules forbid."""

    code = "invariant_broken"
