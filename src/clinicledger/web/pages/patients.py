"""Patients: find one (by code, name or part of a name), add one, a patient's account
(invoices and what each line owes, payments and where they went, credit, the balance, and
the ledger beside the statement with the difference explained), and applying a patient's
credit to the patient's open lines (the payment allocation's form: amounts typed or
applied oldest first, a refusal beside the line it is about, a one-time key)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinicledger.domain.errors import UserError
from clinicledger.domain.permissions import Action, may
from clinicledger.services import accounts, desk, masters, payments
from clinicledger.web.errors import form_page
from clinicledger.web.pages.invoices import KEY_FIELD, one_time_key, renew_key, typed
from clinicledger.web.pages.payments import refused_at, typed_targets, typed_total
from clinicledger.web.render import render
from clinicledger.web.security import Clerk, page

router = APIRouter(include_in_schema=False)

# The reasons a ledger balance differs from a statement balance (reports/statements).
REASONS = {
    "not_client_billable_payments_cents": "Payments applied to lines not billable to the client",
    "deleted_line_payments_cents": "Payments that were applied to lines since deleted",
    "open_to_insurance_cents": "Lines still open to insurance",
    "posted_after_ending_date_cents": "Posted after today, counted at the service date",
    "unapplied_credit_cents": "Credit not applied to any line",
    "not_client_billable_charges_cents": "Charges of lines not billable to the client",
    "deleted_line_charges_cents": "Charges of lines deleted later",
    "services_after_ending_date_cents": "Services dated after today",
    "unexplained_cents": "Not explained",
}


@router.get("/patients")
def find_patients(
    request: Request,
    clerk: Annotated[Clerk, page(Action.PATIENT_READ)],
    search: str = "",
    inactive: bool = False,
) -> HTMLResponse:
    found = masters.list_masters(
        clerk.engine, "patient", search=search.strip() or None, inactive=inactive
    )
    return render(
        request,
        clerk,
        "patients/find.html",
        found=found,
        values={"search": search, "inactive": inactive},
        may_add=may(clerk.caller.role, Action.PATIENT_WRITE),
    )


@router.get("/patients/new")
def new_patient(
    request: Request, clerk: Annotated[Clerk, page(Action.PATIENT_WRITE)]
) -> HTMLResponse:
    return render(request, clerk, "patients/new.html")


@router.post("/patients/new")
def add_patient(
    request: Request,
    clerk: Annotated[Clerk, page(Action.PATIENT_WRITE)],
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    try:
        masters.add_patient(clerk.uow(), code=code, name=name)
    except UserError as error:
        return form_page(
            request, clerk, "patients/new.html", error, values={"code": code, "name": name}
        )
    return RedirectResponse(f"/patients/{quote(code.strip(), safe='/')}", 303)


def _credit_form(
    request: Request,
    clerk: Clerk,
    code: str,
    values: dict[str, str],
    error: UserError | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "credit": desk.patient_credit(clerk.engine, code),
        "typed_cents": typed_total(values),
        "error_at": None if error is None else refused_at(error),
    }
    if error is not None:
        return form_page(request, clerk, "patients/credit.html", error, values=values, **context)
    return render(request, clerk, "patients/credit.html", values=values, **context)


@router.get("/patients/{code:path}/credit")
def credit_page(
    request: Request, code: str, clerk: Annotated[Clerk, page(Action.PAYMENT_ALLOCATE)]
) -> HTMLResponse:
    return _credit_form(request, clerk, code, {KEY_FIELD: one_time_key()})


@router.post("/patients/{code:path}/credit")
async def apply_credit(
    request: Request, code: str, clerk: Annotated[Clerk, page(Action.PAYMENT_ALLOCATE)]
) -> Response:
    values = typed(await request.form())
    auto = values.get("action") == "auto"
    try:
        payments.apply_credit(
            clerk.uow(),
            payments.ApplyCredit(
                patient_code=code, targets=() if auto else typed_targets(values), auto=auto
            ),
            idempotency_key=values.get(KEY_FIELD) or None,
        )
    except UserError as error:
        renew_key(values, error)
        return _credit_form(request, clerk, code, values, error)
    return RedirectResponse(f"/patients/{quote(code, safe='/')}?done=credit-applied", 303)


@router.get("/patients/{code:path}")
def patient_account(
    request: Request,
    code: str,
    clerk: Annotated[Clerk, page(Action.PATIENT_READ)],
    done: str = "",
) -> HTMLResponse:
    found = accounts.patient_account(clerk.engine, code, now=clerk.now)
    shown = found.statement
    reasons = [
        (label, cents)
        for field, label in REASONS.items()
        if shown is not None and (cents := getattr(shown, field))
    ]
    return render(
        request,
        clerk,
        "patients/account.html",
        account=found,
        reasons=reasons,
        may_invoice=may(clerk.caller.role, Action.INVOICE_CREATE),
        may_pay=may(clerk.caller.role, Action.PAYMENT_RECORD),
        may_apply=may(clerk.caller.role, Action.PAYMENT_ALLOCATE),
        credit_applied=done == "credit-applied",
        may_edit=may(clerk.caller.role, Action.PATIENT_WRITE),
    )
