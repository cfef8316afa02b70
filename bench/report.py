"""RESULTS.md from the figures ``run.py`` measured (one dict per backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
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


SLOW_MS = 50.0


def _plan_for(found: dict[str, Any], key: str) -> str:
    """The captured plan of the balance query measured under ``key``."""
    party = "payer" if key.startswith("payer") else "patient"
    dated = key.endswith("as_known_at")
    for label, plan in found.get("plans", {}).items():
        if label.startswith(f"{party} balance") and ("as known at" in label) == dated:
            return str(plan)
    return ""


def _index_in(plan: str) -> str | None:
    for word in plan.replace("(", " ").split():
        if word.startswith("ix_postings_"):
            return word
    return None


def findings(figures: dict[str, dict[str, Any]], backends: Sequence[str], add: Any) -> None:
    """What the figures say, worded from the figures themselves."""
    add("## Findings")
    add("")
    for key, label in BALANCE_ROWS:
        slow = [b for b in backends if figures[b]["balances"][key]["max_ms"] > SLOW_MS]
        figures_text = "; ".join(
            f"{NAMES[b]} median {_ms(figures[b]['balances'][key]['median_ms'])} ms, max "
            f"{_ms(figures[b]['balances'][key]['max_ms'])} ms"
            for b in backends
        )
        if not slow:
            add(f"- {label.capitalize()}: fast ({figures_text}).")
            continue
        add(
            f"- **{label.capitalize()}: slow** on {' and '.join(NAMES[b] for b in slow)} "
            f"({figures_text})."
        )
        for b in slow:
            plan = _plan_for(figures[b], key)
            index = _index_in(plan)
            if index == "ix_postings_account_effective":
                add(
                    f"  {NAMES[b]} plans it on `ix_postings_account_effective (account, "
                    "effective_date)` (migration 0004): it walks every RECEIVABLE and "
                    "UNALLOCATED posting of every party up to the date and filters on the "
                    "party afterwards. SQLite has no statistics (nothing runs ANALYZE), so "
                    "it prefers that index's range term to the party index's two equalities "
                    "(after an ANALYZE it picks the party index again)."
                )
            elif index is not None and ("COVERING INDEX" in plan or "Index Only Scan" in plan):
                add(
                    f"  {NAMES[b]} already reads it from `{index}` alone (a covering index "
                    "scan, no table lookups), but that is one index entry per posting of the "
                    "party's whole history"
                    + (
                        f" (MEDICARE: {_n(figures[b]['payer_lines'].get('MEDICARE', 0))} lines)"
                        if "payer" in key and "payer_lines" in figures[b]
                        else ""
                    )
                    + ", so it grows with the history."
                )
            elif index is not None:
                add(
                    f"  {NAMES[b]} finds the rows through `{index}`, then reads each posting "
                    "from the table for `amount_cents`"
                    + (" (a bitmap heap scan)" if "Bitmap Heap Scan" in plan else "")
                    + ": the cost grows with the party's whole history"
                    + (
                        f" (MEDICARE: {_n(figures[b]['payer_lines'].get('MEDICARE', 0))} lines)."
                        if "payer" in key and "payer_lines" in figures[b]
                        else "."
                    )
                )
    with_index = [b for b in backends if "proposed_index" in figures[b]]
    if with_index:
        payer_covered = any(
            "COVERING INDEX" in _plan_for(figures[b], "payer")
            or "Index Only Scan" in _plan_for(figures[b], "payer")
            for b in with_index
        )
        add(
            "- **Proposed** (a migration; measured in the bench database only, src/ unchanged): "
            "make both party indexes covering and ranging over the date, so every balance sum "
            "is one index range scan that SQLite prefers even without statistics"
            + (
                " (`ix_postings_payer` already is covering; the one that matters is "
                "`ix_postings_patient`):"
                if payer_covered
                else ":"
            )
        )
        for b in with_index:
            for ddl in figures[b]["proposed_index"]["ddl"]:
                add(f"  - {NAMES[b]}: `{ddl}`")
        for b in with_index:
            after = figures[b]["proposed_index"]
            changes = ", ".join(
                f"{label} max {_ms(figures[b]['balances'][key]['max_ms'])} -> "
                f"{_ms(after[key]['max_ms'])} ms (median "
                f"{_ms(figures[b]['balances'][key]['median_ms'])} -> "
                f"{_ms(after[key]['median_ms'])})"
                for key, label in BALANCE_ROWS
            )
            add(f"  - {NAMES[b]} with them: {changes}.")
        opened = [b for b in with_index if "open_period" in figures[b]["proposed_index"]]
        add(
            "  A payer's balance still grows with its history. Past this size, keep each "
            "party's balance per account at every period close (a closed period cannot "
            "change, so the figure is final) and sum only the postings dated after it"
            + (
                ": with a close at "
                f"{figures[opened[0]]['proposed_index']['open_period']['close']} that sum "
                "takes "
                + "; ".join(
                    f"{NAMES[b]} median "
                    f"{_ms(figures[b]['proposed_index']['open_period']['payer']['median_ms'])}"
                    f" ms, max "
                    f"{_ms(figures[b]['proposed_index']['open_period']['payer']['max_ms'])} ms"
                    for b in opened
                )
                + " for the payers."
                if opened
                else "."
            )
        )
    for b in backends:
        c = figures[b]["check"]
        if "error" in c["whole"]:
            stuck = [n for n, v in c["stages"].items() if "error" in v]
            add(
                f"- **check_ledger does not finish on {NAMES[b]}**: `{', '.join(stuck)}` was "
                f"cancelled by the statement timeout after {_s(c['whole']['seconds'])} s."
            )
        else:
            slowest = max(c["stages"].items(), key=lambda kv: kv[1]["seconds"], default=None)
            add(
                f"- check_ledger on {NAMES[b]}: {_s(c['whole']['seconds'])} s for "
                f"{_n(c['whole']['entries'])} entries and {_n(c['whole']['postings'])} postings, "
                f"{c['whole']['violations']} violations (the generated journal is sound)"
                + (
                    f"; the slowest check is `{slowest[0]}` ({_s(slowest[1]['seconds'])} s)."
                    if slowest
                    else "."
                )
            )
    for b in [b for b in backends if "check_memory" in figures[b]]:
        m = figures[b]["check_memory"]
        worst = max(m.items(), key=lambda kv: kv[1]["max_rss_mib"])
        if worst[1]["max_rss_mib"] > 500:
            add(
                f"- On {NAMES[b]}, `check.{worst[0]}` alone peaks at "
                f"{_n(worst[1]['max_rss_mib'])} MiB of client memory: it does not stream "
                "its rows."
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

    for b in backends:
        fid = figures[b].get("fidelity")
        if fid is None:
            continue
        kinds = ", ".join(
            f"{k} ({v['shapes']} shape{'s' if v['shapes'] != 1 else ''})"
            for k, v in fid["kinds"].items()
        )
        verdict = "the same" if fid["same_shapes"] else "**not** the same"
        stamps = "share" if fid["audit_shares_entry_stamps"] else "do **not** share"
        add(
            f"Fidelity on {NAMES[b]}: the entries the services wrote during the bench "
            f"({kinds}; charges from three invoices made through `create_invoice`) have "
            f"{verdict} posting shapes (account, sign, dimensions carried, entry dates "
            "copied) as a random 20,000 generated entries of the same kinds; their audit "
            f"records {stamps} their unit of work's `recorded_at`; `check_ledger` (below) "
            "finds no violation in the generated journal."
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
            "same in time; the plans below depend on the statistics)."
        )
        add("")
    for b in backends:
        close = figures[b].get("close")
        if close is None:
            add(
                f"{NAMES[b]}: no period was closed in this run, so SQLite had no planner "
                "statistics (only a close runs ANALYZE) and no closing balances were kept."
            )
        else:
            add(
                f"{NAMES[b]}: then `period close {close['through']}` through the service, "
                f"as a practice does at a month end, here once after three years (the "
                f"costliest close there is): {_s(close['seconds'])} s, keeping "
                f"{_n(close['kept'])} balances at {close['closings']} month ends; it also "
                "refreshes the planner statistics (SQLite `ANALYZE` with `analysis_limit` "
                "400)."
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
        "columns are with the proposed covering indexes (see below):"
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
        add("### Balances with the proposed covering indexes")
        add("")
        add(
            "Measured in the bench database only (src/ is unchanged): `DROP INDEX "
            "ix_postings_patient; DROP INDEX ix_postings_payer;` and then"
        )
        add("")
        for b in proposed:
            p = figures[b]["proposed_index"]
            vacuum = p["vacuum_seconds"]
            after = f", then VACUUM ANALYZE postings {_s(vacuum)} s" if vacuum else ""
            add(f"- {NAMES[b]} (built in {_s(p['build_seconds'])} s{after}):")
            for ddl in p["ddl"]:
                add(f"  `{ddl}`")
        add("")
        head = "| query | n |"
        rule = "|---|---:|"
        for b in proposed:
            head += f" {NAMES[b]} median ms | p95 ms | max ms |"
            rule += "---:|---:|---:|"
        add(head)
        add(rule)
        for key, label in BALANCE_ROWS:
            n = figures[proposed[0]]["proposed_index"][key]["n"]
            line = f"| {label}, covering indexes | {n} |"
            for b in proposed:
                q = figures[b]["proposed_index"][key]
                line += f" {_ms(q['median_ms'])} | {_ms(q['p95_ms'])} | {_ms(q['max_ms'])} |"
            add(line)
        if all("open_period" in figures[b]["proposed_index"] for b in proposed):
            first_open = figures[proposed[0]]["proposed_index"]["open_period"]
            line = (
                f"| payer postings dated after a close at {first_open['close']} (the sum a "
                f"per-close balance would leave) | {first_open['payer']['n']} |"
            )
            for b in proposed:
                q = figures[b]["proposed_index"]["open_period"]["payer"]
                line += f" {_ms(q['median_ms'])} | {_ms(q['p95_ms'])} | {_ms(q['max_ms'])} |"
            add(line)
            if any(
                figures[b]["proposed_index"]["open_period"].get("added_after_the_run")
                for b in proposed
            ):
                add("")
                add(
                    "(The last row was measured on the same databases right after the run, "
                    "before `measure.open_period_payer_sums` became part of it.)"
                )
        add("")

    # check
    add("## `services.check.check_ledger` on the whole database")
    add("")
    add(
        "Run once after the service iterations, timing each of its checks as it goes. "
        "PostgreSQL ran with a statement timeout of "
        f"{first.get('check_timeout', 600)} s; a check marked *alone* was not reached by "
        "check_ledger (an earlier check was cancelled) and was timed on its own afterwards."
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
            "The two checks that loop over rows in Python, each run alone in a fresh process "
            "(peak resident memory of that process, VmHWM):"
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
            add(f"{NAMES[b]}, {label}, with the covering indexes:")
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
        f"clinicledger at commit {m['commit']}"
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
    add(f".venv/bin/python bench/run.py --backend both --scale {scale:g} --snapshot")
    add(".venv/bin/python bench/run.py --backend sqlite --scale 0.01   # smoke run, seconds")
    add(".venv/bin/python bench/run.py --render-only --scale 1   # RESULTS.md from kept figures")
    add("```")
    add("")
    add(
        "PostgreSQL at `postgresql+psycopg://postgres@127.0.0.1:5432/clinicledger_bench` "
        "(`--pg-url`; the database is dropped and recreated), SQLite at "
        "`bench/data/clinicledger_bench.db`; raw figures in `bench/data/results-*.json`. "
        "The generator is `bench/generate.py` (its docstring gives the episode mix), the "
        "measurements `bench/measure.py`. `--snapshot` runs on a copy of `src/` at the "
        "current commit (`git archive`), so that both backends measure the same code and "
        "migrations while src/ is being edited; without it the working tree is measured."
    )
    add("")
    # written by hand from `run.py --reports-only` (bench/reports.py); kept across renders
    timings = Path(__file__).resolve().parent / "report_timings.md"
    if timings.exists():
        add(timings.read_text().rstrip())
        add("")
    return "\n".join(out)
