"""The pages, one module per noun, each with its ``router``; and :data:`NAV`, the
navigation: a page that people go to from anywhere adds itself here, with the action it
needs, and the layout shows it only to the roles that may (``domain/permissions.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from clinicledger.domain.permissions import Action


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    path: str
    action: Action
    summary: str  # a line for the home page
    also: tuple[str, ...] = ()  # other paths whose pages are part of it

    def covers(self, path: str) -> str | None:
        """The longest of its paths that ``path`` is, or is a page under; None if none."""
        return max(
            (p for p in (self.path, *self.also) if path == p or path.startswith(p + "/")),
            key=len,
            default=None,
        )


# In the order of use: the front desk's first, the back office's last.
NAV: tuple[NavItem, ...] = (
    NavItem(
        "Patients",
        "/patients",
        Action.PATIENT_READ,
        "Find a patient by code or name; their account, balance and payments.",
    ),
    NavItem(
        "New invoice",
        "/invoices/new",
        Action.INVOICE_CREATE,
        "Charge a patient: services, products, cancellation fees.",
    ),
    NavItem(
        "Record a payment",
        "/payments/new",
        Action.PAYMENT_RECORD,
        "Money received, then allocated to the lines it pays.",
    ),
    NavItem("Add a patient", "/patients/new", Action.PATIENT_WRITE, "A new patient's details."),
    NavItem(
        "Reports",
        "/reports",
        Action.REPORT_RUN,
        "Every report with its filters, as a table, CSV or PDF; saved favourites.",
    ),
    NavItem(
        "Master data",
        "/masters",
        Action.MASTER_READ,
        "The practice, locations, providers, payers, items and products.",
        also=("/practice", "/locations", "/providers", "/payers", "/items", "/products"),
    ),
    NavItem("Imports", "/imports", Action.IMPORT, "Move in from another program: CSV files."),
    NavItem("Periods", "/periods", Action.PERIOD_CLOSE, "Close a period, and check the ledger."),
    NavItem("Users", "/users", Action.USER_MANAGE, "Who may log in, and with which role."),
    NavItem("API tokens", "/tokens", Action.USER_MANAGE, "Bearer tokens for scripts."),
)
