"""``/api/v1/patients``: find, show, add a patient, a patient's account, and applying a
patient's credit; the same objects as ``clinicledger --json patient
list|show|add|account`` and ``credit apply``. The POST of credit takes an
``Idempotency-Key`` header, as the payments' do."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from clinicledger.domain.permissions import Action
from clinicledger.services import accounts, masters, payments
from clinicledger.shapes import accounts as account_shapes
from clinicledger.shapes import masters as shapes
from clinicledger.shapes import payments as payment_shapes
from clinicledger.web.api import ERRORS
from clinicledger.web.api.invoices import IdempotencyKey
from clinicledger.web.api.payments import NewAllocations
from clinicledger.web.security import Clerk, api

router = APIRouter(prefix="/patients", tags=["patients"], responses=ERRORS)


@router.get("")
def list_patients(
    clerk: Annotated[Clerk, api(Action.PATIENT_READ)], search: str = "", inactive: bool = False
) -> dict[str, Any]:
    """Patients by code (at most 500, and how many more match): those whose code or name
    contains ``search``, in any case; the active ones unless ``inactive``."""
    found = masters.list_masters(clerk.engine, "patient", search=search or None, inactive=inactive)
    return shapes.master_list("patient", found)


class NewPatient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name: str


@router.post("", status_code=201)
def add_patient(
    new: NewPatient, clerk: Annotated[Clerk, api(Action.PATIENT_WRITE)]
) -> JSONResponse:
    """Add a patient."""
    new_id = masters.add_patient(clerk.uow(), code=new.code, name=new.name)
    return JSONResponse(shapes.created(new_id, new.code), status_code=201)


@router.get("/{code:path}/account")
def patient_account(code: str, clerk: Annotated[Clerk, api(Action.PATIENT_READ)]) -> dict[str, Any]:
    """A patient's invoices and what each line owes, payments and where they went, credit,
    the balance, and the ledger balance beside the statement balance."""
    return account_shapes.account(accounts.patient_account(clerk.engine, code, now=clerk.now))


@router.post("/{code:path}/credit/apply", status_code=201)
def apply_credit(
    code: str,
    new: NewAllocations,
    clerk: Annotated[Clerk, api(Action.PAYMENT_ALLOCATE)],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Apply a patient's credit (unallocated money of earlier payments, oldest first) to
    the lines named, or (``auto``) to the patient's oldest owing."""
    made = payments.apply_credit(
        clerk.uow(),
        payments.ApplyCredit(patient_code=code, targets=new.targets(), auto=new.auto),
        idempotency_key=idempotency_key,
    )
    return JSONResponse(payment_shapes.allocations(made), status_code=201)


@router.get("/{code:path}")
def show_patient(code: str, clerk: Annotated[Clerk, api(Action.PATIENT_READ)]) -> dict[str, Any]:
    """One patient."""
    return shapes.master(masters.show_master(clerk.engine, "patient", code))
