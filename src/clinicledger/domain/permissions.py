"""Who may do what: the one permission matrix, which every door consults (the command line
with ``--user``, each web page and each API endpoint) before it calls a service.

Roles are cumulative (issue 10): each may do what the one before it may, and more.

| role      | may also                                                                  |
|-----------|---------------------------------------------------------------------------|
| reception | read patients and balances, add and edit patients, create invoices,       |
|           | record payments and allocate them, read master data                       |
| billing   | adjust, transfer and delete lines, open or close them to insurance,       |
|           | un-allocate, refund and reverse payments, run reports                     |
| manager   | change master data and the practice, import files, run the income         |
|           | reports (income per provider), close periods, check the ledger            |
| admin     | manage users and API tokens, set up the ledger (init, demo, serve)        |

An action is named ``noun.verb`` (``payment.refund``); a door declares the one action of
each command, page and endpoint where it declares them, and calls :func:`require` with the
caller's role. A report is run under :func:`report_action` of its name.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from clinicledger.domain.errors import Forbidden


class Role(enum.StrEnum):
    """In order of rights: each role may do everything the roles before it may."""

    RECEPTION = "reception"
    BILLING = "billing"
    MANAGER = "manager"
    ADMIN = "admin"


ROLES = tuple(Role)


class Action(enum.StrEnum):
    PATIENT_READ = "patient.read"
    PATIENT_WRITE = "patient.write"
    BALANCE_READ = "balance.read"
    MASTER_READ = "master.read"
    INVOICE_CREATE = "invoice.create"
    PAYMENT_RECORD = "payment.record"
    PAYMENT_ALLOCATE = "payment.allocate"
    PAYMENT_UNALLOCATE = "payment.unallocate"
    PAYMENT_REFUND = "payment.refund"
    PAYMENT_REVERSE = "payment.reverse"
    LINE_STATUS = "line.status"
    LINE_ADJUST = "line.adjust"
    LINE_TRANSFER = "line.transfer"
    LINE_DELETE = "line.delete"
    REPORT_RUN = "report.run"
    MASTER_WRITE = "master.write"
    IMPORT = "import"
    REPORT_INCOME = "report.income"
    PERIOD_CLOSE = "period.close"
    LEDGER_CHECK = "ledger.check"
    USER_MANAGE = "user.manage"
    LEDGER_SETUP = "ledger.setup"


# The matrix: the least role that may do each action (and so every role after it).
LEAST_ROLE: Mapping[Action, Role] = {
    Action.PATIENT_READ: Role.RECEPTION,
    Action.PATIENT_WRITE: Role.RECEPTION,
    Action.BALANCE_READ: Role.RECEPTION,
    Action.MASTER_READ: Role.RECEPTION,
    Action.INVOICE_CREATE: Role.RECEPTION,
    Action.PAYMENT_RECORD: Role.RECEPTION,
    Action.PAYMENT_ALLOCATE: Role.RECEPTION,
    Action.PAYMENT_UNALLOCATE: Role.BILLING,
    Action.PAYMENT_REFUND: Role.BILLING,
    Action.PAYMENT_REVERSE: Role.BILLING,
    Action.LINE_STATUS: Role.BILLING,
    Action.LINE_ADJUST: Role.BILLING,
    Action.LINE_TRANSFER: Role.BILLING,
    Action.LINE_DELETE: Role.BILLING,
    Action.REPORT_RUN: Role.BILLING,
    Action.MASTER_WRITE: Role.MANAGER,
    Action.IMPORT: Role.MANAGER,
    Action.REPORT_INCOME: Role.MANAGER,
    Action.PERIOD_CLOSE: Role.MANAGER,
    Action.LEDGER_CHECK: Role.MANAGER,
    Action.USER_MANAGE: Role.ADMIN,
    Action.LEDGER_SETUP: Role.ADMIN,
}

# What each action is, in words, for a refusal ("a reception user may not refund payments").
DOING: Mapping[Action, str] = {
    Action.PATIENT_READ: "look up patients",
    Action.PATIENT_WRITE: "add or change patients",
    Action.BALANCE_READ: "read balances",
    Action.MASTER_READ: "look up master data",
    Action.INVOICE_CREATE: "create invoices",
    Action.PAYMENT_RECORD: "record payments",
    Action.PAYMENT_ALLOCATE: "allocate payments",
    Action.PAYMENT_UNALLOCATE: "un-allocate payments",
    Action.PAYMENT_REFUND: "refund payments",
    Action.PAYMENT_REVERSE: "reverse payments",
    Action.LINE_STATUS: "open or close lines to insurance",
    Action.LINE_ADJUST: "adjust lines",
    Action.LINE_TRANSFER: "transfer lines to the patient",
    Action.LINE_DELETE: "delete lines",
    Action.REPORT_RUN: "run reports",
    Action.MASTER_WRITE: "change master data",
    Action.IMPORT: "import files",
    Action.REPORT_INCOME: "run income reports",
    Action.PERIOD_CLOSE: "close periods",
    Action.LEDGER_CHECK: "check the ledger",
    Action.USER_MANAGE: "manage users",
    Action.LEDGER_SETUP: "set up the ledger",
}

# Reports that need more than report.run: what each provider earned is the manager's.
REPORT_ACTIONS: Mapping[str, Action] = {
    "income-by-provider": Action.REPORT_INCOME,
    "income-allocation": Action.REPORT_INCOME,
}


def report_action(report: str) -> Action:
    """The action that running ``report`` is."""
    return REPORT_ACTIONS.get(report, Action.REPORT_RUN)


def may(role: Role, action: Action) -> bool:
    """May a user of ``role`` do ``action``?"""
    return ROLES.index(role) >= ROLES.index(LEAST_ROLE[action])


def allowed(role: Role) -> frozenset[Action]:
    """Everything a user of ``role`` may do."""
    return frozenset(action for action in Action if may(role, action))


def require(role: Role, action: Action) -> None:
    """Refuse with ``Forbidden`` unless a user of ``role`` may do ``action``."""
    if not may(role, action):
        least = LEAST_ROLE[action]
        above = "" if least is Role.ADMIN else " or above"
        raise Forbidden(
            f"a {role} user may not {DOING[action]} ({action}: {least}{above})",
            code="forbidden",
            action=action.value,
            role=role.value,
        )
