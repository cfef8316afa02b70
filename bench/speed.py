"""Issue 9's figures, each beside its floor, measured in one run, and the Markdown section
that opens bench/RESULTS.md.

    .venv/bin/python bench/speed.py --sqlite-db FILE [--pg-url URL] [--skip tools ...]

(``bench/run.py --speed ...`` runs the same.) ``FILE`` is the bench practice
(``bench/run.py --backend sqlite`` builds it; the write measures add payments to it) and
``URL`` a PostgreSQL database holding a bench practice (``bench/run.py --backend
postgresql``). Each measure runs as a process of its own, one after another: start-up and
reads (bench/startup.py), the write path with 1 and 8 processes (bench/writers.py) on each
backend, the bulk loads (bench/bulk.py), the generator loading the 1M-line practice anew
(bench/generate.py, into a file removed after), the reports (bench/reports.py), the cost of the
chained journal (bench/chaining.py) and the tools accountants know (bench/tools.py). The
figures are kept in ``bench/data/speed.json``; the section between the ``speed`` markers of
RESULTS.md is replaced, the rest of the file kept.

A floor is the least the same work can cost on this machine, measured in the same run:
hand-written sqlite3 (or psycopg) doing the same statements (bench/floors.py), a process
that only imports sqlite3 and runs one statement, a report's own SQL run by hand. A target
is met or not by the figure of this run; the load average is printed beside it, since the
machine is shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
MEASURES = (
    "startup",
    "writers",
    "postgresql",
    "bulk",
    "generator",
    "reports",
    "chaining",
    "tools",
)

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
        many_floor = writes.get("many_floor")
        if many_floor:
            out.append(
                (
                    f"the same, {many['processes']} processes, beside the floor with as many "
                    "(pairs/s)",
                    f"{_rate(many_floor['pairs_per_s'], 'pairs')} "
                    f"({_x(many_floor['pairs_per_s'] / floor_w['pairs_per_s'])} its 1 process)"
                    if floor_w
                    else _rate(many_floor["pairs_per_s"], "pairs"),
                    _rate(many["pairs_per_s"], "pairs"),
                    _x(many["pairs_per_s"] / many_floor["pairs_per_s"]),
                    "-",
                    "",
                )
            )
        if many_floor and floor_w and "cpu_ms_per_pair" in many:
            # why more clerks write no faster on two cores: each pair costs more CPU, in the
            # lock's holder too (the lock is held nearly all the time either way)
            out.append(
                (
                    f"CPU per pair (user + system, every process), 1 / {many['processes']} "
                    "processes",
                    f"{_ms(floor_w['cpu_ms_per_pair'])} / {_ms(many_floor['cpu_ms_per_pair'])}",
                    f"{_ms(services['cpu_ms_per_pair'])} / {_ms(many['cpu_ms_per_pair'])}",
                    f"{_x(many['cpu_ms_per_pair'] / services['cpu_ms_per_pair'])} (floor "
                    f"{_x(many_floor['cpu_ms_per_pair'] / floor_w['cpu_ms_per_pair'])})",
                    "-",
                    "the cost of a pair as more processes share the cores",
                )
            )
    ceiling = writes.get("ceiling") if writes else None
    if ceiling:
        one_c, many_c = ceiling["one"], ceiling["many"]
        out.append(
            (
                f"this machine's ceiling: the floor unchained (no ledger lock, no clock row "
                f"kept) on a scratch database, 1 and {many_c['processes']} processes (pairs/s)",
                f"1 process: {_rate(one_c['pairs_per_s'], 'pairs')}",
                f"{many_c['processes']} processes: {_rate(many_c['pairs_per_s'], 'pairs')}",
                _x(ceiling["ratio"]),
                "-",
                f"what any write path could reach here with {many_c['processes']} clerks",
            )
        )
    generated = found.get("generator")
    if generated:
        out.append(
            (
                f"`bench/generate.py --scale {generated['scale']:g}`: the bench practice "
                f"({generated['lines']:,} lines, {generated['rows']:,} rows) into a new SQLite "
                "file",
                "-",
                f"{_s(generated['wall_s'])} ({generated['rows'] / generated['wall_s']:,.0f} "
                f"rows/s; {generated['cpu_s']:.0f} s CPU)",
                "-",
                "under 3 minutes",
                _met(generated["wall_s"] < 180 and not generated["problems"]),
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
        "The target is that the single-entry write path gets no more than 10% slower "
        f"(a ratio of at least 0.90): it is {found['write_ratio']:.2f}"
        + (
            ", faster, by the statement work of issue 9, although every entry now carries a "
            "hash of its fields, its postings and the entry before it. "
            if found["write_ratio"] >= 1
            else ". "
        )
        + f"A bulk load runs at {found['load_ratio']:.2f} times its rate before chaining "
        "(the hashes are computed in Python as the rows are written).",
        "",
    ]


def render(by_backend: dict[str, dict[str, Any]], shared: dict[str, Any]) -> list[str]:
    """The opening section of RESULTS.md: a table per backend, then the chaining and the
    tools' side by side."""
    lines = ["## Speed at every door (issue 9): each figure beside its floor", ""]
    if shared.get("kept"):
        when = shared.get("measured_at", {})
        lines += [
            "Measured by `bench/speed.py`; a measure skipped (`--skip`) keeps the figures "
            "of the run that made them: "
            + "; ".join(
                f"{name} {when.get(name, 'an earlier run')}" for name in MEASURES if name in when
            )
            + ".",
            "",
        ]
    for backend, found in by_backend.items():
        load = found.get("loadavg")
        lines += [
            f"### {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}"
            + (f" (load average {', '.join(f'{x:.1f}' for x in load)})" if load else ""),
            "",
            *table(found),
            "",
        ]
    sections = shared.get("sections", {})
    for name in sorted(sections, key=MEASURES.index):  # in the order measured, kept or not
        lines += [sections[name].strip(), ""]
    lines += chaining_section(shared.get("chaining"))
    tools_render: Callable[[dict[str, Any]], str] | None = shared.get("tools_render")
    if shared.get("tools") and tools_render is not None:
        lines += [tools_render(shared["tools"]), ""]
    else:
        lines += [
            "The tools accountants know (hledger, ledger-cli, Beancount) were not measured in "
            "this run; `bench/tools.py` measures them (last figures: bench/tools_results.md).",
            "",
        ]
    return lines


def _json_of(script: str, *args: str) -> dict[str, Any]:
    """Run ``bench/<script>`` in a process of its own; the JSON it prints."""
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        cwd=BENCH,
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def _section_of(script: str, *args: str) -> str:
    """Run ``bench/<script>``, which writes its own Markdown section (each figure beside
    its floor) and its figures as JSON into bench/data/; the section."""
    name = script.removesuffix(".py")
    out, figures = DATA / f"{name}.md", DATA / f"{name}.json"
    subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--out", str(out), "--json", str(figures)],
        check=True,
        cwd=BENCH,
    )
    return out.read_text()


def _generated(scale: float) -> dict[str, Any]:
    """``bench/generate.py`` loading the bench practice into a new file (removed after)."""
    DATA.mkdir(exist_ok=True)
    target, figures = DATA / "generated.db", DATA / "generator.json"
    figures.unlink(missing_ok=True)
    try:
        subprocess.run(
            [
                *(sys.executable, str(BENCH / "generate.py"), "--scale", f"{scale:g}"),
                *("--sqlite", str(target), "--json", str(figures)),
            ],
            check=False,  # a plan not met exits 1, and its JSON names the problems
            cwd=BENCH,
            stdout=subprocess.DEVNULL,
        )
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    found: dict[str, Any] = json.loads(figures.read_text())
    return found


def _log(message: str) -> None:
    print(f"speed: {message} (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)


def measure_all(args: argparse.Namespace) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    wanted = [m for m in MEASURES if m not in args.skip]
    sqlite: dict[str, Any] = {"loadavg": os.getloadavg()}
    by_backend: dict[str, dict[str, Any]] = {"sqlite": sqlite}
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    shared: dict[str, Any] = {"measured_at": dict.fromkeys(wanted, now)}
    writes = ["--pairs", str(args.pairs), "--processes", str(args.processes)]
    writes += ["--seconds", str(args.seconds)]
    if "startup" in wanted:
        _log("start-up and reads")
        sqlite["startup"] = _json_of("startup.py", "--db", str(args.sqlite_db))
    if "writers" in wanted:
        _log("the write path on SQLite")
        sqlite["writers"] = _json_of("writers.py", "--db", str(args.sqlite_db), *writes)
    sections: dict[str, str] = {}
    if "bulk" in wanted:
        _log("bulk loads")
        sections["bulk"] = _section_of("bulk.py")
    if "generator" in wanted:
        _log("the bench generator")
        sqlite["generator"] = _generated(args.scale)
    if "reports" in wanted:
        _log("reports")
        sections["reports"] = _section_of("reports.py", "--db", str(args.sqlite_db))
    shared["sections"] = sections
    if "postgresql" in wanted and args.pg_url:
        _log("the write path on PostgreSQL")
        by_backend["postgresql"] = {
            "loadavg": os.getloadavg(),
            "writers": _json_of("writers.py", "--db", args.pg_url, *writes),
            "many_factor": 3.0,
            "many_target": "3x the 1-process rate, 0 errors",
        }
    if "chaining" in wanted:
        _log("the cost of the chained journal")
        shared["chaining"] = _json_of("chaining.py")
    if "tools" in wanted:
        _log("the tools accountants know")
        shared["tools"] = _json_of("tools.py", "--json")
    return by_backend, shared


# Where each measure's figures are kept in bench/data/speed.json
PLACES = {
    "startup": ("by_backend", "sqlite", "startup"),
    "writers": ("by_backend", "sqlite", "writers"),
    "generator": ("by_backend", "sqlite", "generator"),
    "postgresql": ("by_backend", "postgresql"),
    "bulk": ("shared", "sections", "bulk"),
    "reports": ("shared", "sections", "reports"),
    "chaining": ("shared", "chaining"),
    "tools": ("shared", "tools"),
}


def keep_skipped(figures: dict[str, Any], earlier: dict[str, Any], skipped: list[str]) -> None:
    """A measure skipped in this run keeps its figures of the run before (and says so)."""
    for name in skipped:
        *path, last = PLACES[name]
        found: Any = earlier
        for part in (*path, last):
            found = found.get(part) if isinstance(found, dict) else None
        if found is None:
            continue
        into = figures
        for part in path:
            into = into.setdefault(part, {})
        into[last] = found
        when = earlier["shared"].get("measured_at", {}).get(name, "an earlier run")
        figures["shared"].setdefault("measured_at", {})[name] = when
        figures["shared"].setdefault("kept", []).append(name)
    # A backend none of whose measures ran this time: the load average they were made under
    measured = {
        place[1] for n, place in PLACES.items() if place[0] == "by_backend" and n not in skipped
    }
    for backend, found in earlier.get("by_backend", {}).items():
        if backend not in measured and backend in figures["by_backend"] and "loadavg" in found:
            figures["by_backend"][backend]["loadavg"] = found["loadavg"]


def replace_section(results: Path, section: list[str], name: str = "speed") -> None:
    """Put ``section`` between the ``name`` markers of ``results`` (after its title if it
    has none yet), keeping everything else."""
    text = results.read_text() if results.exists() else "# clinicledger bench figures\n"
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = "\n".join([begin, *section, end])
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        title, _, body = text.partition("\n")
        text = f"{title}\n\n{block}\n{body}"
    results.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-db", type=Path, default=BENCH / "data" / "clinicledger_bench.db")
    parser.add_argument(
        "--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/clinicledger_bench"
    )
    parser.add_argument("--skip", nargs="*", choices=MEASURES, default=[])
    parser.add_argument("--scale", type=float, default=1.0, help="the generator's practice")
    parser.add_argument("--pairs", type=int, default=600)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--render-only", action="store_true", help="from bench/data/speed.json")
    args = parser.parse_args(argv)
    args.sqlite_db = args.sqlite_db.resolve()  # each measure runs in bench/
    kept = BENCH / "data" / "speed.json"
    if args.render_only:
        figures = json.loads(kept.read_text())
    else:
        by_backend, shared = measure_all(args)
        figures = {"by_backend": by_backend, "shared": shared}
        if kept.exists():
            keep_skipped(figures, json.loads(kept.read_text()), args.skip)
        kept.parent.mkdir(exist_ok=True)
        kept.write_text(json.dumps(figures, indent=2))
    shared = dict(figures["shared"])
    if "tools" in shared:
        import tools  # its renderer only: tools.py imports nothing heavy

        shared["tools_render"] = tools.render
    replace_section(args.results, render(figures["by_backend"], shared))
    _log(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
