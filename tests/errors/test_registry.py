"""One registry of error codes (``domain.errors.ERRORS``): every code raised anywhere in
``src/`` is declared there for the class that raises it, every declared code is raised
somewhere, and every one has a reproducer in ``tests/errors/`` that asserts it."""

from __future__ import annotations

import ast
from pathlib import Path

import clinicledger
from clinicledger.domain import errors

SRC = Path(clinicledger.__file__).parent
REPRODUCERS = Path(__file__).parent

# Error classes whose constructor fixes the code.
FIXED_CODES = {
    "NotFound": "not_found",
    "IdempotencyConflict": "idempotency_conflict",
    "ImportRejected": "import_rejected",
    "InvariantBroken": "invariant_broken",
}
ERROR_CLASSES = {
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.ClinicLedgerError)
}


def _constants(node: ast.expr) -> list[str]:
    """The code strings an expression can evaluate to: a literal, or either branch of a
    conditional of literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _constants(node.body) + _constants(node.orelse)
    raise AssertionError(f"an error code that is not a literal: {ast.unparse(node)}")


def raised_codes() -> dict[str, set[str]]:
    """code -> the error classes constructed with it, over every module of src/."""
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "errors.py" and path.parent.name == "domain":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            name = node.func.id
            if name not in ERROR_CLASSES:
                continue
            codes = [
                code
                for keyword in node.keywords
                if keyword.arg == "code"
                for code in _constants(keyword.value)
            ]
            if not codes:
                assert name in FIXED_CODES, f"{path.name}:{node.lineno}: {name}(...) has no code"
                codes = [FIXED_CODES[name]]
            for code in codes:
                found.setdefault(code, set()).add(name)
    return found


def test_every_code_raised_is_declared_for_its_class() -> None:
    wrong = {
        code: sorted(classes)
        for code, classes in raised_codes().items()
        if code not in errors.ERRORS
        or not all(issubclass(getattr(errors, cls), errors.ERRORS[code].error) for cls in classes)
    }
    assert wrong == {}


def test_every_declared_code_is_raised_somewhere() -> None:
    assert sorted(set(errors.ERRORS) - set(raised_codes())) == []


def test_every_code_has_a_reproducer() -> None:
    tests = "\n".join(
        path.read_text()
        for path in REPRODUCERS.glob("test_*.py")
        if path.name != Path(__file__).name
    )
    missing = sorted(code for code in errors.ERRORS if f'"{code}"' not in tests)
    assert missing == []


def test_exit_codes_and_http_statuses_follow_the_class() -> None:
    table = {
        code: (spec.error.__name__, spec.exit_code, spec.http_status)
        for code, spec in errors.ERRORS.items()
    }
    expected_status = {
        "UserError": 422,
        "InvalidInput": 422,
        "ImportRejected": 422,
        "NotFound": 404,
        "Conflict": 409,
        "OverAllocation": 409,
        "Locked": 409,
        "PeriodClosed": 409,
        "IdempotencyConflict": 409,
        "Unavailable": 503,
        "Unauthenticated": 401,
        "Forbidden": 403,
        "InvariantBroken": 500,
    }
    assert {
        code: (name, 70 if name == "InvariantBroken" else 2, expected_status[name])
        for code, (name, _, _) in table.items()
    } == table


def test_an_undeclared_code_is_a_bug_not_a_user_error() -> None:
    try:
        errors.InvalidInput("amount", "is odd", code="no_such_code")
    except TypeError as exc:
        assert "no_such_code" in str(exc)
    else:
        raise AssertionError("an undeclared code was accepted")
