"""RESULTS.md from the figures ``run.py`` measured (one dict per backend)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import generate

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
BALANCE_ROWS = (
    ("patient", "patient balance, now"),
    ("payer", "payer balance, now"),
    ("patient_as_known_at", "patient balance, as of / as known at 2024-06-30"),
    ("payer_as_known_at", "payer balance, as of / as known at 2024-06-30"),
)


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _s(value: float) -> str:
    return f"{value:,.1f}"


def generate_stage_order(figures: dict[str, Any]) -> list[str]:
    """The checks in check_ledger's order."""
    order = (
        "_unbalanced_entries",
        "_entries_without_postings",
        "_posting_times",
        "_clock_order",
        "_over_applied_payments",
        "_over_credited_lines",
        "_audit_chain",
    )
    found = figures["check"]["stages"]
    return [name for name in order if name in found] + [n for n in found if n not in order]


def findings(figures: dict[str, dict[str, Any]], backends: Sequence[str], add: Any) -> None:
    """What the figures say, worded from the figures themselves."""
    add("## Findings")
    add("")
    worst_patient = max(figures[b]["balances"]["patient"]["max_ms"] for b in backends)
    add(
        f"- Patient balances are fast on both backends (max {_ms(worst_patient)} ms over "
        f"{figures[backends[0]]['balances']['patient']['n']} random patients)."
    )
    slow = [
        b
        for b in backends
        if max(figures[b]["balances"]["per_payer_ms"].values()) > 50
        or figures[b]["balances"]["payer"]["max_ms"] > 50
    ]
    if slow:
        parts = []
        for b in slow:
            f = figures[b]["balances"]
            parts.append(
                f"{NAMES[b]} median {_ms(f['payer']['median_ms'])} ms, max "
                f"{_ms(f['payer']['max_ms'])} ms, MEDICARE warm "
                f"{_ms(f['per_payer_ms'].get('MEDICARE', 0.0))} ms"
            )
        add(
            "- **Payer balances are slow**: " + "; ".join(parts) + ". A payer's balance sums "
            "every RECEIVABLE posting it ever had; `ix_postings_payer (payer_id, account)` finds "
            "them but each one costs a table lookup for `amount_cents` (PostgreSQL: a bitmap "
            "heap scan over some 20,000 pages for MEDICARE). Proposed migration: replace it by "
            "a covering index (PostgreSQL `(payer_id, account) INCLUDE (amount_cents, "
            "effective_date, recorded_at)`, SQLite `(payer_id, account, effective_date, "
            "recorded_at, amount_cents)`)."
        )
        with_index = [b for b in slow if "proposed_index" in figures[b]]
        if with_index:
            add(
                "  Measured here: "
                + "; ".join(
                    f"{NAMES[b]} median {_ms(figures[b]['proposed_index']['payer']['median_ms'])}"
                    f" ms, max {_ms(figures[b]['proposed_index']['payer']['max_ms'])} ms, "
                    "MEDICARE "
                    f"{_ms(figures[b]['proposed_index']['per_payer_ms'].get('MEDICARE', 0.0))} ms"
                    for b in with_index
                )
                + ". The cost stays linear in the payer's history; beyond this size, keep a "
                "balance per party and account at each period close (closed periods cannot "
                "change) and sum only the postings dated after it."
            )
    unfinished = [b for b in backends if "error" in figures[b]["check"]["whole"]]
    for b in backends:
        c = figures[b]["check"]
        if b in unfinished:
            stuck = [n for n, v in c["stages"].items() if "error" in v]
            proposed = c.get("proposed", {}).get("_entries_without_postings as NOT EXISTS")
            add(
                f"- **check_ledger does not finish on {NAMES[b]}**: "
                f"`{', '.join(stuck)}` was cancelled after {_s(c['whole']['seconds'])} s. "
                "`entries.id NOT IN (SELECT entry_id FROM postings)` cannot be hashed in "
                "work_mem at this size, so PostgreSQL rescans the materialised postings once "
                "per entry (the plan below: `NOT (SubPlan 1)` over a Materialize of all the "
                "postings, not a hashed SubPlan). "
                "Proposed: `NOT EXISTS (SELECT 1 FROM postings WHERE postings.entry_id = "
                "entries.id)`, a merge anti join"
                + (f": {_s(proposed['seconds'])} s here." if proposed else ".")
            )
        else:
            add(
                f"- check_ledger on {NAMES[b]}: {_s(c['whole']['seconds'])} s for "
                f"{_n(c['whole']['entries'])} entries, {c['whole']['violations']} violations "
                "(the generated ledger is sound)."
            )
    memory = [b for b in backends if "check_memory" in figures[b]]
    for b in memory:
        m = figures[b]["check_memory"]
        if "_audit_chain" in m and m["_audit_chain"]["max_rss_mib"] > 500:
            add(
                f"- On {NAMES[b]}, `check._audit_chain` holds the whole audit log in client "
                f"memory ({_n(m['_audit_chain']['max_rss_mib'])} MiB peak for "
                f"{_n(figures[b]['load']['rows']['audit_log'])} records: psycopg fetches a "
                "result completely unless asked to stream). Proposed: "
                "`conn.execution_options(yield_per=10_000).execute(...)` in `_audit_chain` and "
                "`_clock_order`; measured "
                f"{_n(m.get('_audit_chain_streamed', {}).get('max_rss_mib', 0))} MiB, same time."
            )
    add("")


def render(figures: dict[str, dict[str, Any]], scale: float) -> str:
    backends = [b for b in ("sqlite", "postgresql") if b in figures]
    first = figures[backends[0]]
    out: list[str] = []
    add = out.append
    add("# clinicledger bench figures")
    add("")
    add(
        f"Scale {scale:g} of the large practice: {_n(first['plan']['patients'])} patients, "
        f"{_n(first['plan']['lines'])} service lines, {_n(first['plan']['payments'])} "
        f"payments, {_n(first['plan']['allocations'])} allocations over 2023-2025, "
        f"{generate.PROVIDERS} providers, {len(generate.LOCATIONS)} locations, "
        f"{len(generate.PAYERS)} payers, {len(generate.ITEMS)} items (generated people only, "
        f"seed {generate.SEED})."
    )
    add("")
    for b in backends:
        add(f"- {NAMES[b]}: run {figures[b]['started']} to {figures[b]['finished']} (UTC)")
    add("")
    add("**Shared machine.** The figures were taken on a 2-core machine while other agents ran")
    add("their test suites on it at the same time; the load averages below show how busy it")
    add("was. Treat them as orders of magnitude, not as a tuned benchmark.")
    add("")

    findings(figures, backends, add)

    # data set
    add("## Data set")
    add("")
    add("| table | rows |")
    add("|---|---:|")
    rows = first["load"]["rows"]
    for table in generate.LOAD_ORDER:
        add(f"| {table} | {_n(rows[table])} |")
    add("")
    add(
        "Database size after the load (and, on PostgreSQL, VACUUM ANALYZE): "
        + ", ".join(f"{NAMES[b]} {figures[b]['database_bytes'] / 2**30:.2f} GiB" for b in backends)
        + "."
    )
    add("")

    # load
    add("## Bulk load")
    add("")
    add(
        "Straight into the schema made by `store.schema.upgrade` (Alembic), with every index, "
        "foreign key and append-only trigger in place. Rows are written in flushes of about "
        f"{_n(first['load']['batch_rows'])} postings (with the invoices, lines, payments, "
        "entries and audit records of the same days), one transaction per flush: SQLite "
        "`executemany` (load connection: `synchronous=OFF`, 512 MiB page cache), PostgreSQL "
        "`COPY FROM STDIN` (`synchronous_commit=off`). Seconds are time spent in the database "
        "driver for that table; generation in Python (domain posting rules, audit hashes) is "
        "the rest of the wall time."
    )
    add("")
    head = "| table | rows |"
    rule = "|---|---:|"
    for b in backends:
        head += f" {NAMES[b]} s | {NAMES[b]} rows/s |"
        rule += "---:|---:|"
    add(head)
    add(rule)
    for table in generate.LOAD_ORDER:
        if table in ("practice",):
            continue
        line = f"| {table} | {_n(rows[table])} |"
        for b in backends:
            seconds = figures[b]["load"]["seconds"][table]
            rate = figures[b]["load"]["rows"][table] / seconds if seconds else 0
            line += f" {_s(seconds)} | {_n(rate)} |"
        add(line)
    line = "| commits (SQLite: with the WAL checkpoints) |  |"
    for b in backends:
        line += f" {_s(figures[b]['load']['commit_seconds'])} |  |"
    add(line)
    total_rows = sum(rows.values())
    line = f"| **all tables, database time** | {_n(total_rows)} |"
    for b in backends:
        load = figures[b]["load"]
        line += f" {_s(load['db_seconds'])} | {_n(total_rows / load['db_seconds'])} |"
    add(line)
    line = f"| **wall time incl. generation** | {_n(total_rows)} |"
    for b in backends:
        load = figures[b]["load"]
        line += f" {_s(load['wall_seconds'])} | {_n(total_rows / load['wall_seconds'])} |"
    add(line)
    add("")
    if "postgresql" in figures:
        add(
            f"PostgreSQL `VACUUM ANALYZE` after the load: "
            f"{_s(figures['postgresql']['vacuum_analyze_seconds'])} s (autovacuum would do the "
            "same in time; the plans below depend on the statistics). SQLite is not ANALYZEd: "
            "the application never runs ANALYZE, so its planner works without statistics."
        )
        add("")

    # services
    add("## Posting a payment and allocating it, through the services")
    add("")
    iterations = first["services"]["iterations"]
    add(
        f"{iterations} iterations, one after another: `services.payments.record_payment` in "
        "one UnitOfWork, then `services.payments.allocate` of the whole amount to a random "
        "line with money owing by that patient, in a second UnitOfWork (the application's "
        "engine: SQLite WAL, `synchronous=FULL`, `BEGIN IMMEDIATE`; PostgreSQL READ "
        "COMMITTED, `FOR UPDATE` on the ledger clock). Each call writes its entry, postings "
        "and hash-chained audit record and commits."
    )
    add("")
    head = "| figure |" + "".join(f" {NAMES[b]} |" for b in backends)
    rule = "|---|" + "---:|" * len(backends)
    add(head)
    add(rule)
    add(
        "| payments posted and allocated per second |"
        + "".join(f" {figures[b]['services']['payments_per_s']:.1f} |" for b in backends)
    )
    for key, label in (
        ("record_payment", "record_payment"),
        ("allocate", "allocate"),
        ("pair", "both"),
    ):
        for stat in ("median_ms", "p95_ms", "max_ms"):
            add(
                f"| {label}, {stat.replace('_ms', '')} ms |"
                + "".join(f" {_ms(figures[b]['services'][key][stat])} |" for b in backends)
            )
    add("")

    # balances
    add("## Balance queries")
    add("")
    n_patients = first["balances"]["patient"]["n"]
    n_payers = first["balances"]["payer"]["n"]
    add(
        f"`services.balances.balance` (a fresh read transaction each, as the CLI does) for "
        f"{n_patients} random patients and the {n_payers} payers. A payer's balance sums its "
        "portions of every line billed to it and its unapplied money. The rows ran in the "
        "order shown, so the first one of each kind met a colder cache (the max of the payer "
        "rows is the first call, for MEDICARE)."
    )
    add("")
    head = "| query | n |"
    rule = "|---|---:|"
    for b in backends:
        head += f" {NAMES[b]} median ms | p95 ms | max ms |"
        rule += "---:|---:|---:|"
    add(head)
    add(rule)
    for key, label in BALANCE_ROWS:
        line = f"| {label} | {first['balances'][key]['n']} |"
        for b in backends:
            s = figures[b]["balances"][key]
            line += f" {_ms(s['median_ms'])} | {_ms(s['p95_ms'])} | {_ms(s['max_ms'])} |"
        add(line)
    add("")
    add(
        "Per payer, one call each, ms (payer-billed lines are 30% of all lines); the last "
        "columns are after replacing `ix_postings_payer (payer_id, account)` by a covering "
        "index (see below):"
    )
    add("")
    head = "| payer | lines billed |"
    rule = "|---|---:|"
    for b in backends:
        head += f" {NAMES[b]} ms |"
        rule += "---:|"
    for b in backends:
        if "proposed_index" in figures[b]:
            head += f" {NAMES[b]}, covering index, ms |"
            rule += "---:|"
    add(head)
    add(rule)
    for code, *_rest in generate.PAYERS:
        lines = first.get("payer_lines", {}).get(code)
        line = f"| {code} | {_n(lines) if lines is not None else ''} |"
        for b in backends:
            line += f" {_ms(figures[b]['balances']['per_payer_ms'].get(code, 0.0))} |"
        for b in backends:
            if "proposed_index" in figures[b]:
                line += f" {_ms(figures[b]['proposed_index']['per_payer_ms'].get(code, 0.0))} |"
        add(line)
    add("")
    proposed = [b for b in backends if "proposed_index" in figures[b]]
    if proposed:
        add("### Payer balances with the proposed covering index")
        add("")
        add(
            "Measured in the bench database only (src/ is unchanged): `DROP INDEX "
            "ix_postings_payer` and then"
        )
        add("")
        for b in proposed:
            p = figures[b]["proposed_index"]
            add(
                f"- {NAMES[b]}: `{p['ddl']}` (built in {_s(p['build_seconds'])} s"
                + (
                    f", then VACUUM ANALYZE postings {_s(p['vacuum_seconds'])} s"
                    if p["vacuum_seconds"]
                    else ""
                )
                + ")"
            )
        add("")
        head = "| query | n |"
        rule = "|---|---:|"
        for b in proposed:
            head += f" {NAMES[b]} median ms | p95 ms | max ms |"
            rule += "---:|---:|---:|"
        add(head)
        add(rule)
        for key, label in BALANCE_ROWS:
            if key not in figures[proposed[0]]["proposed_index"]:
                continue
            line = (
                f"| {label}, covering index | {figures[proposed[0]]['proposed_index'][key]['n']} |"
            )
            for b in proposed:
                s = figures[b]["proposed_index"][key]
                line += f" {_ms(s['median_ms'])} | {_ms(s['p95_ms'])} | {_ms(s['max_ms'])} |"
            add(line)
        add("")

    # check
    add("## `services.check.check_ledger` on the whole database")
    add("")
    add(
        "Run once after the service iterations, timing each of its checks as it goes. "
        "PostgreSQL ran with a statement timeout of "
        f"{first.get('check_timeout', 600)} s; a check marked *alone* was not reached by "
        "check_ledger (an earlier check was cancelled) and was timed on its own afterwards. "
        "The last row is the replacement proposed for `_entries_without_postings`."
    )
    add("")
    add("| check |" + "".join(f" {NAMES[b]} s |" for b in backends))
    add("|---|" + "---:|" * len(backends))

    def cell(found: dict[str, Any]) -> str:
        if "error" in found:
            reason = found["error"].split(":")[0]
            return f" not finished: cancelled after {_s(found['seconds'])} s ({reason}) |"
        extra = ""
        if "violations" in found:
            extra = f", {found['violations']} violations"
        if found.get("alone"):
            extra += ", alone"
        return f" {_s(found['seconds'])}{extra} |"

    add("| **check_ledger** |" + "".join(cell(figures[b]["check"]["whole"]) for b in backends))
    stage_names = list(generate_stage_order(first))
    for name in stage_names:
        add(
            f"| {name} |"
            + "".join(
                cell(figures[b]["check"]["stages"][name])
                if name in figures[b]["check"]["stages"]
                else " |"
                for b in backends
            )
        )
    for name in first["check"].get("proposed", {}):
        add(
            f"| proposed: {name} |"
            + "".join(cell(figures[b]["check"]["proposed"][name]) for b in backends)
        )
    add("")
    add(
        "Peak memory of the bench process (load, queries, check; on SQLite it includes the "
        "load connection's 512 MiB page cache): "
        + ", ".join(f"{NAMES[b]} {figures[b]['max_rss_mib']:,.0f} MiB" for b in backends)
        + "."
    )
    add("")
    memory = [b for b in backends if "check_memory" in figures[b]]
    if memory:
        add(
            "The two checks that loop in Python, each run alone in a fresh process (peak "
            "resident memory of that process; `_audit_chain_streamed` is the proposed "
            "variant, the same loop over `execution_options(yield_per=10_000)`):"
        )
        add("")
        add("| check |" + "".join(f" {NAMES[b]} s | {NAMES[b]} peak MiB |" for b in memory))
        add("|---|" + "---:|---:|" * len(memory))
        for name in figures[memory[0]]["check_memory"]:
            line = f"| {name} |"
            for b in memory:
                m = figures[b]["check_memory"].get(name)
                line += f" {_s(m['seconds'])} | {_n(m['max_rss_mib'])} |" if m else " | |"
            add(line)
        add("")
    for b in backends:
        if "check_plans" in figures[b]:
            add(f"{NAMES[b]} plans of `_entries_without_postings` (EXPLAIN, no ANALYZE):")
            add("")
            add("```")
            add(figures[b]["check_plans"].strip())
            add("```")
            add("")

    # plans
    add("## Query plans of the balance sums")
    add("")
    for b in backends:
        for label, plan in figures[b]["plans"].items():
            add(f"{NAMES[b]}, {label}:")
            add("")
            add("```")
            add(plan.strip())
            add("```")
            add("")
        for label, plan in figures[b].get("proposed_index", {}).get("plans", {}).items():
            add(f"{NAMES[b]}, {label}, with the covering index:")
            add("")
            add("```")
            add(plan.strip())
            add("```")
            add("")

    # machine
    m = first["machine"]
    add("## Machine")
    add("")
    add(f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_gib']} GiB; {m['os']}")
    add(
        f"- Python {m['python']}, SQLAlchemy {m['sqlalchemy']}, psycopg {m['psycopg']}; "
        f"clinicledger at commit {m['commit']} (plus the work in progress of that moment)"
    )
    for b in backends:
        add(f"- {NAMES[b]}: {figures[b]['server']}")
    add("- Other agents were running test suites on the same 2 cores throughout (load averages")
    add("  over 1, 5, 15 minutes, sampled at each phase):")
    for b in backends:
        phases = "; ".join(
            f"{phase.replace('_', ' ')} {' '.join(str(x) for x in values)}"
            for phase, values in figures[b]["loadavg"].items()
        )
        add(f"  - {NAMES[b]}: {phases}")
    add("")

    add("## Reproduce")
    add("")
    add("```sh")
    add(f".venv/bin/python bench/run.py --backend both --scale {scale:g}")
    add(".venv/bin/python bench/run.py --backend sqlite --scale 0.01   # smoke run, seconds")
    add(".venv/bin/python bench/run.py --render-only --scale 1   # RESULTS.md from kept figures")
    add("```")
    add("")
    add(
        "PostgreSQL at `postgresql+psycopg://postgres@127.0.0.1:5432/clinicledger_bench` "
        "(`--pg-url`; the database is dropped and recreated), SQLite at "
        "`bench/data/clinicledger_bench.db`; raw figures in `bench/data/results-*.json`. "
        "The generator is `bench/generate.py` (its docstring gives the episode mix), the "
        "measurements `bench/measure.py`."
    )
    add("")
    return "\n".join(out)
