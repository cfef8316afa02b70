"""The schema, in SQLAlchemy Core. Migrations (``store/migrations``) create it; tests and the
application never call ``create_all``.

Money columns are integer cents (``*_cents``); ``*_at`` columns are naive UTC instants;
``*_date`` columns are business dates in the practice's time zone.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    literal_column,
    text,
)

from clinicledger.domain.journal import APPLIED_KINDS, Account

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _sparse(name: str, key: str, *more: str) -> Index:
    """An index of only the rows that have ``key`` (``WHERE key IS NOT NULL``, migration
    0019): a query naming a key (``= :id``, a join on it) can use it, and a row without
    one is not kept in it."""
    only = text(f"{key} IS NOT NULL")
    return Index(name, key, *more, sqlite_where=only, postgresql_where=only)


# One row. Every writing unit of work locks it first: it carries the ledger clock (recorded_at
# is strictly increasing across all clerks) and the gapless invoice counter.
ledger_clock = Table(
    "ledger_clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_recorded_at", DateTime, nullable=True),
    Column("last_invoice_number", Integer, nullable=False, server_default="0"),
    # the head of the two hash chains (migration 0013, domain/chain.py), kept by every unit
    # of work so that no write reads the chain's end from the tables
    Column("entries_count", BigInteger, nullable=False, server_default="0"),
    Column("entries_hash", String(64), nullable=False, server_default="0" * 64),
    Column("audit_count", BigInteger, nullable=False, server_default="0"),
    Column("audit_hash", String(64), nullable=False, server_default="0" * 64),
    # entries from this id on are named by their audit record (audit_log.entries)
    Column("linked_from_entry", Integer, nullable=True),
)

practice = Table(
    "practice",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("abn", String(11), nullable=True),
    Column("gst_registered", Boolean, nullable=False, server_default="0"),
    Column("timezone", String(64), nullable=False, server_default="Australia/Sydney"),
    Column("currency", String(3), nullable=False, server_default="AUD"),
    Column("locale", String(20), nullable=False, server_default="en_AU"),
    Column("closed_through", Date, nullable=True),
)

locations = Table(
    "locations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
)

providers = Table(
    "providers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("company_name", String(200), nullable=True),
    Column("company_abn", String(11), nullable=True),
    Column("company_gst_registered", Boolean, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default="1"),
)

patients = Table(
    "patients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
)

payers = Table(
    "payers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("description", String(300), nullable=False),
    Column("fee_cents", BigInteger, nullable=False),
    Column("taxable", Boolean, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default="1"),
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("title", String(200), nullable=False, unique=True),
    Column("fee_cents", BigInteger, nullable=False),
    Column("taxable", Boolean, nullable=False, server_default="1"),
    Column("active", Boolean, nullable=False, server_default="1"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", Integer, nullable=False, unique=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=True, index=True),
    Column("payer_id", ForeignKey("payers.id"), nullable=True, index=True),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("invoice_date", Date, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("opening", Boolean, nullable=False, server_default="0"),
)

lines = Table(
    "lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=True),
    Column("product_id", ForeignKey("products.id"), nullable=True),
    Column("provider_id", ForeignKey("providers.id"), nullable=True, index=True),
    Column("service_date", Date, nullable=True),
    Column("fee_cents", BigInteger, nullable=False),
    Column("gst_cents", BigInteger, nullable=False),
    Column("inpatient", Boolean, nullable=False, server_default="0"),
    Column("client_billable", Boolean, nullable=False, server_default="1"),
    Column("insurance_status", String(10), nullable=False, server_default="closed"),
    Column("deleted_at", DateTime, nullable=True),
    Index("ix_lines_service_date", "service_date"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=True, index=True),
    Column("payer_id", ForeignKey("payers.id"), nullable=True, index=True),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("method", String(20), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("received_date", Date, nullable=False),
    Column("reference", String(100), nullable=True),
    Column("processor_fee_cents", BigInteger, nullable=True),
    Column("note", Text, nullable=True),
    Column("recorded_at", DateTime, nullable=False),
    Column("opening", Boolean, nullable=False, server_default="0"),
    Column("reversed_at", DateTime, nullable=True),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recorded_at", DateTime, nullable=False, index=True),
    Column("effective_date", Date, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("reason", Text, nullable=True),
    Column("note", Text, nullable=True),
    # At most one entry may undo another: a second un-allocation of the same allocation
    # fails on this constraint even if a bug lets two clerks past the checks.
    Column("reverses", ForeignKey("entries.id"), nullable=True, unique=True),
    # its fields', its postings' and the entry before it's hash (domain/chain.entry_hash)
    Column("hash", String(64), nullable=True),
    Index("ix_entries_kind_effective", "kind", "effective_date"),
    Index("ix_entries_kind_recorded", "kind", "recorded_at"),
)

postings = Table(
    "postings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", ForeignKey("entries.id"), nullable=False, index=True),
    Column("account", String(30), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    # Copied from the (immutable) entry so that balances are one scan of one table.
    Column("effective_date", Date, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("patient_id", ForeignKey("patients.id"), nullable=True),
    Column("payer_id", ForeignKey("payers.id"), nullable=True),
    Column("provider_id", ForeignKey("providers.id"), nullable=True),
    Column("location_id", ForeignKey("locations.id"), nullable=True),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=True),
    Column("line_id", ForeignKey("lines.id"), nullable=True),
    Column("payment_id", ForeignKey("payments.id"), nullable=True),
    Column("reason", String(40), nullable=True),
    # Copied from the entry too (migration 0018, hence last), so that a line's sums by kind
    # of entry are one range of one index (ix_postings_line).
    Column("entry_kind", String(30), nullable=False, server_default=""),
    # covering: a patient's balance as of a date reads the patient's postings alone (0006)
    _sparse(
        "ix_postings_patient",
        "patient_id",
        "account",
        "effective_date",
        "recorded_at",
        "payer_id",
        "amount_cents",
    ),
    # covering: a payer's balance is read from the index alone (migration 0005)
    _sparse(
        "ix_postings_payer", "payer_id", "account", "effective_date", "recorded_at", "amount_cents"
    ),
    # covering: a line's sums by kind of entry (migration 0018)
    _sparse("ix_postings_line", "line_id", "account", "entry_kind", "amount_cents"),
    _sparse("ix_postings_payment", "payment_id", "account"),
    _sparse("ix_postings_invoice", "invoice_id"),
    Index("ix_postings_account_effective", "account", "effective_date"),
)


def _constant(value: str) -> ColumnElement[str]:
    """``value`` written into the statement rather than bound: SQLite uses a partial index
    only for a statement whose terms imply the index's own, and a bound value implies
    nothing."""
    quoted = value.replace("'", "''")
    return literal_column(f"'{quoted}'", String)


# The postings of money applied to a line or taken off it (a payment's or a credit's
# allocations, their un-allocations): the receivable's side of each, the order recorded.
APPLIED_TO_LINES = and_(
    postings.c.account == _constant(Account.RECEIVABLE.value),
    postings.c.entry_kind.in_([_constant(kind.value) for kind in APPLIED_KINDS]),
)
# covering: income allocation reads a period's from the index alone, in order (migration 0020)
Index(
    "ix_postings_applied",
    postings.c.account,
    postings.c.recorded_at,
    postings.c.entry_id,
    postings.c.entry_kind,
    postings.c.line_id,
    postings.c.payment_id,
    postings.c.amount_cents,
    sqlite_where=APPLIED_TO_LINES,
    postgresql_where=APPLIED_TO_LINES,
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recorded_at", DateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(60), nullable=False),
    Column("subject", String(60), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    # the entries this change recorded, "id:hash ..." (empty: none; NULL: written before
    # the journal was chained, migration 0013)
    Column("entries", Text, nullable=True),
    Index("ix_audit_log_action_subject", "action", "subject"),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("summary", Text, nullable=False),
    UniqueConstraint("kind", "sha256", name="uq_imports_kind_sha256"),
)


# Report favourites ("saved report settings", reference 004): a name for a report and its
# parameters, run again later with 'report run NAME'.
saved_reports = Table(
    "saved_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(60), nullable=False, unique=True),
    Column("report", String(40), nullable=False),
    Column("parameters", Text, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)

# Closing balances (migration 0008). Closing a period writes, for each month end inside it
# (and for the closing date itself), what every line portion owes (RECEIVABLE, by line,
# billed-to party and patient) and what every payment holds (UNALLOCATED and RETAINED, by
# payment and party), zero balances left out. A closed period cannot change, so these are
# final: a balance as of D is the latest closing on or before D plus the postings dated
# after it, instead of a sum over all history (store/ledger.py ``account_balances``).
closings = Table(
    "closings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("as_of", Date, nullable=False, unique=True),
    Column("recorded_at", DateTime, nullable=False),
)

closing_balances = Table(
    "closing_balances",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("closing_id", ForeignKey("closings.id"), nullable=False),
    Column("account", String(30), nullable=False),
    Column("line_id", ForeignKey("lines.id"), nullable=True),
    Column("payment_id", ForeignKey("payments.id"), nullable=True),
    Column("payer_id", ForeignKey("payers.id"), nullable=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=True),
    Column("amount_cents", BigInteger, nullable=False),
    Index("ix_closing_balances_closing_account", "closing_id", "account"),
)

# A line's insurance-status changes (migration 0011): the status before and after each, so
# that the status as known at any moment is the last change by then, or, before the first
# change, what that change replaced (reports/statements, client-reconciliation).
insurance_status_changes = Table(
    "insurance_status_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("line_id", ForeignKey("lines.id"), nullable=False, index=True),
    Column("status", String(10), nullable=False),
    Column("previous", String(10), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)

# The un-allocations a line's deletion made (``line delete`` with its cascade, migration
# 0011): the money they freed is the patient's credit again (reports/statements).
deletion_unallocations = Table(
    "deletion_unallocations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("line_id", ForeignKey("lines.id"), nullable=False, index=True),
    Column("unallocation_id", ForeignKey("entries.id"), nullable=False, unique=True),
)

# Idempotency keys (migration 0012): a request retried with the same key returns the first
# result and posts nothing; the same key with another command is refused.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("use_case", String(60), nullable=False),
    Column("command", Text, nullable=False),
    Column("command_sha256", String(64), nullable=False),
    Column("result", Text, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("actor", String(100), nullable=False),
)

# Logins (migration 0016): the staff who use the web app and the API, their role in the
# permission matrix (domain/permissions.py), their server-side sessions and API tokens, and
# the failed logins that lock a name out for a while. A secret (a password, a session's
# id, a token) is kept only as its hash. Every change is audited (services/users.py).
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", DateTime, nullable=False),
    Column("changed_at", DateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256, hex
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_hash", String(64), nullable=False, unique=True),  # SHA-256, hex
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("ended_at", DateTime, nullable=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_name", String(40), nullable=False),  # as typed: it may name no user
    Column("failed_at", DateTime, nullable=False),
    Index("ix_login_failures_user_name_failed_at", "user_name", "failed_at"),
)

APPEND_ONLY_TABLES = (
    "entries",
    "postings",
    "audit_log",
    "closings",
    "closing_balances",
    "insurance_status_changes",
    "deletion_unallocations",
    "idempotency_keys",
)
