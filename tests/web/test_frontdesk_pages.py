"""The front desk's screens through TestClient: an invoice of several lines, a payment
recorded and allocated, the corrections; a refused form keeps what was typed and says why
beside the field; a form submitted twice posts once. Numbers from the harness practice
(``tests/cli/harness.py``): P1 owes 80.00 on L-000001 and 25.00 on L-000002; PAY-000001
has 10.00 unallocated (AL-000005: 20.00 to L-000001); FUND1 owes 100.00 on L-000003."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from clinicledger.domain.permissions import Role
from clinicledger.services import desk as desk_reads
from clinicledger.store import tables as t
from clinicledger.store.uow import reading

R, B = Role.RECEPTION, Role.BILLING
_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def entries_count(engine) -> int:
    with reading(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(t.entries)).scalar_one())


def key_of(page: str) -> str:
    found = _KEY.search(page)
    assert found is not None, page
    return found.group(1)


def invoice_form(key: str, **rows: str) -> dict[str, str]:
    form = {"patient": "P1", "location": "MAIN", "billed_to": "", "idempotency_key": key}
    for n in range(1, 6):
        form |= {f"line-{n}-charge": "", f"line-{n}-provider": "", f"line-{n}-date": "2024-03-02"}
        form[f"line-{n}-fee"] = ""
    return form | rows


def test_an_invoice_of_two_lines_from_the_form(browser, desk) -> None:
    signed = browser(R)
    form = signed.get("/invoices/new?patient=P1")
    assert form.status_code == 200
    page = form.text
    assert 'value="P1"' in page
    assert page.count('class="line-row') == 5  # without a script: five rows
    assert "90801 Consultation · $100.00" in page and "Cold pack (product) · $15.00" in page
    before = entries_count(desk)
    data = invoice_form(
        key_of(page),
        **{
            "line-1-charge": "item:90801",
            "line-1-provider": "DR1",
            "line-3-charge": "cancellation",  # row 2 left empty: ignored
            "line-3-provider": "DR1",
            "line-3-fee": "40.00",
        },
    )
    made = signed.post("/invoices/new", data)
    assert made.status_code == 303
    assert made.headers["location"] == "/invoices/INV-000003"
    again = signed.post("/invoices/new", data)  # the form submitted twice
    assert again.headers["location"] == "/invoices/INV-000003"
    assert entries_count(desk) == before + 2  # two charges, once
    shown = desk_reads.show_invoice(desk, 3)
    assert [(line.description, line.fee_cents) for line in shown.lines] == [
        ("90801 Consultation", 10000),  # the item's fee, the form's fee left blank
        ("Cancellation", 4000),
    ]
    page = signed.get("/invoices/INV-000003").text
    assert 'data-total="14000"' in page and 'data-owing="14000"' in page
    assert 'href="/invoices/INV-000003.pdf"' in page
    assert "/adjust" not in page  # corrections are billing's


def test_a_refused_invoice_keeps_what_was_typed_beside_its_row(browser, desk) -> None:
    signed = browser(R)
    key = key_of(signed.get("/invoices/new?patient=P1").text)
    before = entries_count(desk)
    refused = signed.post(
        "/invoices/new",
        invoice_form(
            key,
            **{
                "line-1-charge": "item:90801",
                "line-1-provider": "DR1",
                "line-1-fee": "95.00",
                "line-2-charge": "cancellation",
                "line-2-provider": "DR1",
            },
        ),
    )
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    assert 'id="line-2-error"' in page and "a cancellation line needs a fee" in page
    row_two = page.split('data-row="2"')[1].split("</tr>")[0]
    assert 'aria-invalid="true"' in row_two
    assert '<option value="cancellation" selected>' in row_two
    assert 'value="95.00"' in page  # row 1's fee, as typed
    assert key_of(page) == key  # nothing was posted under it
    assert entries_count(desk) == before


def test_a_payment_recorded_then_allocated(browser, desk) -> None:
    signed = browser(R)
    form = signed.get("/payments/new?patient=P1").text
    payment = {
        "from": "P1",
        "amount": "50.00",
        "method": "eftpos",
        "received": "2024-03-02",
        "location": "MAIN",
        "reference": "",
        "fee": "",
        "note": "",
        "idempotency_key": key_of(form),
    }
    recorded = signed.post("/payments/new", payment)
    assert recorded.status_code == 303
    assert recorded.headers["location"] == "/payments/PAY-000005/allocate"
    again = signed.post("/payments/new", payment)  # sent twice: one payment
    assert again.headers["location"] == "/payments/PAY-000005/allocate"
    assert desk_reads.show_payment(desk, 5).header.amount_cents == 5000
    assert signed.get("/payments/PAY-000006").status_code == 404
    page = signed.get("/payments/PAY-000005/allocate").text
    assert 'data-owing="8000"' in page and 'data-owing="2500"' in page
    assert 'id="left" data-cents="5000"' in page
    key = key_of(page)

    over = signed.post(
        "/payments/PAY-000005/allocate",
        {"to-L-000001": "30.00", "to-L-000002": "26.00", "action": "allocate",
         "idempotency_key": key},
    )  # fmt: skip
    assert over.status_code == 409
    page = html.unescape(over.text)
    beside = page.split('id="to-L-000002-error"')[1].split("</p>")[0]
    assert "PAY-000005 has 20.00 unallocated; cannot allocate 26.00 to line L-000002" in beside
    assert 'value="30.00"' in page and 'value="26.00"' in page  # kept as typed
    assert 'id="left" data-cents="-600"' in page  # 50.00 - 56.00, shown after the submit

    allocation = {"to-L-000001": "30.00", "to-L-000002": "20.00", "action": "allocate",
                  "idempotency_key": key}  # fmt: skip
    before = entries_count(desk)
    done = signed.post("/payments/PAY-000005/allocate", allocation)
    assert done.status_code == 303 and done.headers["location"] == "/payments/PAY-000005"
    twice = signed.post("/payments/PAY-000005/allocate", allocation)  # a double click
    assert twice.headers["location"] == "/payments/PAY-000005"
    assert entries_count(desk) == before + 2  # two allocations, once
    shown = signed.get("/payments/PAY-000005").text
    assert 'data-applied="5000"' in shown and 'data-unallocated="0"' in shown
    assert "AL-" in shown and 'href="/payments/PAY-000005/receipt.pdf"' in shown
    account = signed.get("/patients/P1").text
    assert 'data-balance="500"' in account  # 105.00 owing - 50.00 - 50.00 credit


def test_auto_allocate_applies_oldest_first(browser) -> None:
    signed = browser(R)
    key = key_of(signed.get("/payments/PAY-000001/allocate").text)
    done = signed.post("/payments/PAY-000001/allocate", {"action": "auto", "idempotency_key": key})
    assert done.status_code == 303
    page = signed.get("/payments/PAY-000001").text
    assert 'data-applied="3000"' in page and 'data-unallocated="0"' in page


def test_a_refused_payment_keeps_what_was_typed(browser) -> None:
    signed = browser(R)
    refused = signed.post(
        "/payments/new",
        {"from": "P1", "amount": "30,00", "method": "cash", "received": "2024-03-02",
         "location": "MAIN", "reference": "desk 2"},
    )  # fmt: skip
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    assert 'id="amount-error"' in page and 'value="30,00"' in page and 'value="desk 2"' in page
    assert '<option value="cash" selected>' in page


def test_billing_refunds_and_writes_off_with_a_reason(browser, desk) -> None:
    signed = browser(B)
    page = signed.get("/payments/PAY-000001").text
    assert 'href="/payments/PAY-000001/refund"' in page
    form = signed.get("/payments/PAY-000001/refund").text
    no_reason = signed.post(
        "/payments/PAY-000001/refund",
        {"amount": "4.00", "reason": "  ", "idempotency_key": key_of(form)},
    )
    assert no_reason.status_code == 422
    assert 'id="reason-error"' in no_reason.text and 'value="4.00"' in no_reason.text
    too_much = signed.post(
        "/payments/PAY-000001/refund",
        {"amount": "10.01", "reason": "overpaid", "idempotency_key": key_of(form)},
    )
    assert too_much.status_code == 409 and 'id="amount-error"' in too_much.text
    refunded = signed.post(
        "/payments/PAY-000001/refund",
        {"amount": "4.00", "reason": "overpaid", "idempotency_key": key_of(form)},
    )
    assert refunded.status_code == 303 and refunded.headers["location"] == "/payments/PAY-000001"
    assert desk_reads.show_payment(desk, 1).refunded_cents == 400

    invoice = signed.get("/invoices/INV-000001").text
    assert 'href="/lines/L-000002/adjust"' in invoice
    assert 'href="/payments/PAY-000001/unallocate?allocation=AL-000005"' in invoice
    form = signed.get("/lines/L-000002/adjust").text
    written_off = signed.post(
        "/lines/L-000002/adjust",
        {"amount": "25.00", "reason": "write-off", "note": "hardship",
         "idempotency_key": key_of(form)},
    )  # fmt: skip
    assert written_off.status_code == 303
    assert written_off.headers["location"] == "/invoices/INV-000001"
    shown = desk_reads.show_invoice(desk, 1)
    assert (shown.lines[1].fee_cents, shown.lines[1].owing_cents) == (2500, 0)
    assert (shown.total_cents, shown.paid_cents, shown.adjusted_cents) == (12500, 2000, 2500)
    assert "and $25.00 adjusted off" in signed.get("/invoices/INV-000001").text


def test_the_other_corrections(browser, desk) -> None:
    signed = browser(B)
    form = signed.get("/payments/PAY-000001/unallocate?allocation=AL-000005").text
    assert '<option value="AL-000005" selected>' in form
    undone = signed.post(
        "/payments/PAY-000001/unallocate",
        {"allocation": "AL-000005", "reason": "wrong line", "idempotency_key": key_of(form)},
    )
    assert undone.status_code == 303
    assert desk_reads.show_payment(desk, 1).unallocated_cents == 3000

    form = signed.get("/lines/L-000003/transfer").text
    moved = signed.post(
        "/lines/L-000003/transfer",
        {"amount": "30.00", "reason": "gap", "idempotency_key": key_of(form)},
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/invoices/INV-000002"
    line = desk_reads.show_invoice(desk, 2).lines[0]
    assert (line.payer_owing_cents, line.patient_owing_cents) == (7000, 3000)

    signed.post(
        "/payments/PAY-000001/allocate",
        {"to-L-000001": "10.00", "action": "allocate", "idempotency_key": "form-t1"},
    )
    form = signed.get("/lines/L-000001/delete").text
    refused = signed.post(
        "/lines/L-000001/delete", {"reason": "keyed in error", "idempotency_key": key_of(form)}
    )
    assert refused.status_code == 409 and "un-allocate them first" in html.unescape(refused.text)
    deleted = signed.post(
        "/lines/L-000001/delete",
        {"reason": "keyed in error", "cascade": "yes", "idempotency_key": key_of(form)},
    )
    assert deleted.status_code == 303
    assert desk_reads.show_invoice(desk, 1).lines[0].deleted
    assert desk_reads.show_payment(desk, 1).unallocated_cents == 3000

    form = signed.get("/payments/PAY-000004/reverse").text
    reversed_ = signed.post(
        "/payments/PAY-000004/reverse", {"reason": "bounced", "idempotency_key": key_of(form)}
    )
    assert reversed_.status_code == 303
    assert desk_reads.show_payment(desk, 4).header.reversed


def test_reception_sees_no_corrections(browser) -> None:
    signed = browser(R)
    page = signed.get("/payments/PAY-000001").text
    assert "/refund" not in page and "Un-allocate" not in page
    assert signed.get("/payments/PAY-000001/refund").status_code == 403


def test_unknown_invoice_and_payment_pages_say_so(browser) -> None:
    signed = browser(R)
    assert signed.get("/invoices/INV-000099").status_code == 404
    assert signed.get("/payments/PAY-000099").status_code == 404
    linked = signed.get("/invoices/INV-000001.pdf")  # the tax invoice the page links to
    assert linked.headers["content-type"] == "application/pdf"


def test_a_form_changed_after_it_posted_is_opened_again_with_a_new_key(browser, desk) -> None:
    signed = browser(R)
    key = key_of(signed.get("/invoices/new?patient=P1").text)
    first = invoice_form(key, **{"line-1-charge": "product:Cold pack"})
    assert signed.post("/invoices/new", first).headers["location"] == "/invoices/INV-000003"
    changed = first | {"line-1-fee": "12.00"}  # back, changed, sent again
    refused = signed.post("/invoices/new", changed)
    assert refused.status_code == 409
    assert "idempotency_conflict" in refused.text
    renewed = key_of(refused.text)
    assert renewed != key
    again = signed.post("/invoices/new", changed | {"idempotency_key": renewed})
    assert again.headers["location"] == "/invoices/INV-000004"
    assert desk_reads.show_invoice(desk, 4).total_cents == 1200


def test_a_payers_payment_goes_to_the_lines_billed_to_it(browser, desk) -> None:
    signed = browser(R)
    form = signed.get("/payments/new?payer=FUND1").text
    assert 'value="FUND1"' in form
    page = signed.get("/payments/PAY-000004/allocate").text
    assert '<th scope="col">Patient</th>' in page
    assert 'name="to-L-000003"' in page and 'data-owing="10000"' in page
    assert 'name="to-L-000001"' not in page  # the patient's own lines are not the fund's
    done = signed.post(
        "/payments/PAY-000004/allocate",
        {"to-L-000003": "60.00", "action": "allocate", "idempotency_key": key_of(page)},
    )
    assert done.status_code == 303
    line = desk_reads.show_invoice(desk, 2).lines[0]
    assert (line.paid_cents, line.payer_owing_cents) == (6000, 4000)


def test_a_refusal_is_shown_at_the_row_typed_not_the_lines_position(browser) -> None:
    signed = browser(R)
    key = key_of(signed.get("/invoices/new?patient=P1").text)
    refused = signed.post(
        "/invoices/new",
        invoice_form(
            key,
            **{"line-1-charge": "item:90801", "line-1-provider": "DR1",
               "line-4-charge": "item:90801", "line-4-provider": "DR9"},
        ),
    )  # fmt: skip
    assert refused.status_code == 404
    page = html.unescape(refused.text)
    beside = page.split('id="line-4-error"')[1].split("</p>")[0]
    assert "provider 'DR9' not found" in beside  # the invoice's second line, the form's fourth
    assert 'id="line-2-error"' not in page


def test_credit_applied_from_the_patients_account(browser, desk) -> None:
    """P1 holds 50.00 of credit (10.00 of PAY-000001, 40.00 of PAY-000002)."""
    signed = browser(R)
    account = signed.get("/patients/P1").text
    assert 'href="/patients/P1/credit"' in account
    page = signed.get("/patients/P1/credit").text
    assert 'id="unallocated" data-cents="5000"' in page
    assert 'data-owing="8000"' in page and 'data-owing="2500"' in page
    key = key_of(page)
    before = entries_count(desk)

    over_line = signed.post(
        "/patients/P1/credit",
        {"to-L-000001": "20.00", "to-L-000002": "26.00", "action": "allocate",
         "idempotency_key": key},
    )  # fmt: skip
    assert over_line.status_code == 409
    shown = html.unescape(over_line.text)
    beside = shown.split('id="to-L-000002-error"')[1].split("</p>")[0]
    assert "L-000002" in beside and "25.00" in beside
    assert 'value="20.00"' in shown and 'value="26.00"' in shown  # kept as typed
    assert 'id="left" data-cents="400"' in shown  # 50.00 - 46.00

    over_credit = signed.post(
        "/patients/P1/credit",
        {"to-L-000001": "30.00", "to-L-000002": "25.00", "action": "allocate",
         "idempotency_key": key},
    )  # fmt: skip
    assert over_credit.status_code == 409
    shown = html.unescape(over_credit.text)
    assert 'data-refused="credit_exceeded"' in shown and "has 50.00 credit" in shown
    assert 'id="left" data-cents="-500"' in shown
    assert entries_count(desk) == before  # nothing written

    applied = {"to-L-000001": "25.00", "to-L-000002": "25.00", "action": "allocate",
               "idempotency_key": key}  # fmt: skip
    done = signed.post("/patients/P1/credit", applied)
    assert done.status_code == 303
    assert done.headers["location"] == "/patients/P1?done=credit-applied"
    twice = signed.post("/patients/P1/credit", applied)  # a double click
    assert twice.headers["location"] == done.headers["location"]
    assert entries_count(desk) == before + 3  # 10.00 + 15.00 to L-000001, 25.00 to L-000002
    account = signed.get(done.headers["location"]).text
    assert "The credit was applied" in account
    assert 'data-balance="5500"' in account  # 105.00 - 50.00 applied
    assert 'href="/patients/P1/credit"' not in account  # no credit left to apply
    empty = signed.get("/patients/P1/credit").text
    assert "holds no credit" in empty and 'id="allocate-form"' not in empty


def test_credit_auto_applied_oldest_first(browser, desk) -> None:
    signed = browser(R)
    key = key_of(signed.get("/patients/P1/credit").text)
    done = signed.post("/patients/P1/credit", {"action": "auto", "idempotency_key": key})
    assert done.status_code == 303
    owing = [line.patient_owing_cents for line in desk_reads.show_invoice(desk, 1).lines]
    assert owing == [3000, 2500]  # 80.00 - 50.00 on the oldest line
    assert browser(R).get("/patients/P7/credit").status_code == 404


def test_a_line_opened_and_closed_to_insurance_from_the_invoice(browser, desk) -> None:
    signed = browser(B)
    page = signed.get("/invoices/INV-000001").text
    assert 'action="/lines/L-000001/status"' in page
    assert '<input type="hidden" name="insurance" value="open">' in page
    opened = signed.post("/lines/L-000001/status", {"insurance": "open"})
    assert opened.status_code == 303
    assert opened.headers["location"] == "/invoices/INV-000001#L-000001"
    page = signed.get("/invoices/INV-000001").text
    assert "open to insurance" in page and "Close to insurance" in page
    assert desk_reads.show_invoice(desk, 1).lines[0].insurance_status.value == "open"
    signed.post("/lines/L-000001/status", {"insurance": "closed"})
    assert desk_reads.show_invoice(desk, 1).lines[0].insurance_status.value == "closed"
    bad = signed.post("/lines/L-000001/status", {"insurance": "maybe"})
    assert bad.status_code == 422 and 'data-refused="' in bad.text
    assert 'action="/lines/L-000001/status"' in bad.text  # the invoice, again
    reception = browser(R)
    assert 'action="/lines/L-000001/status"' not in reception.get("/invoices/INV-000001").text
    assert reception.post("/lines/L-000001/status", {"insurance": "open"}).status_code == 403
