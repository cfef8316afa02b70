"""``report NAME [filters] [options]``: one command per report of the registry, each with its
own options; ``report save FAVOURITE NAME [...]``, ``report run FAVOURITE`` and
``report favourites`` for the reports a practice runs again and again.

A report's command also takes the filters and options of the other reports, hidden from
its help, so that a filter it does not take is refused by name (``--basis does not apply to
debtors``) rather than as an unknown option.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from clinicledger.cli.app import later, needs, settings, sub_app
from clinicledger.cli.output import out
from clinicledger.cli.parse import parse_date, parse_instant, words
from clinicledger.domain.choices import check_choice
from clinicledger.domain.permissions import Action, report_action
from clinicledger.render import FORMATS, write
from clinicledger.reports.base import PRESETS, Report, ReportWarning, collected
from clinicledger.reports.registry import OPTIONS, REPORTS, OptionKind, OptionSpec, ReportSpec
from clinicledger.shapes import reports as shapes

if TYPE_CHECKING:
    from clinicledger.services import charts, documents, reporting
else:
    reporting = later("clinicledger.services.reporting")
    documents = later("clinicledger.services.documents")  # WeasyPrint's: only for a PDF
    charts = later("clinicledger.services.charts")

report_app = sub_app(
    "report",
    "Reports: read-only queries over the journal, as a table, CSV or JSON, and reproducible "
    "as known at any earlier moment.",
)

# (flag, metavar, help, the filter it needs to apply) of the options every report may take.
FILTERS: dict[str, tuple[str, str, str, str]] = {
    "from_date": ("--from", "YYYY-MM-DD", "First day, inclusive", "from_date"),
    "to_date": ("--to", "YYYY-MM-DD", "Last day, inclusive", "to_date"),
    "preset": ("--preset", "PRESET", f"A date range: {', '.join(PRESETS)}", "from_date"),
    "as_of": ("--as-of", "YYYY-MM-DD", "As of this date", "as_of"),
    "as_known_at": (
        "--as-known-at",
        "TIMESTAMP",
        "As the ledger knew it at this moment (what it said then, to the cent)",
        "",
    ),
    "provider": ("--provider", "CODE", "Only this provider", "provider"),
    "location": ("--location", "CODE", "Only this location", "location"),
    "patient": ("--patient", "CODE", "Only this patient", "patient"),
    "payer": ("--payer", "CODE", "Only this payer", "payer"),
}


def _option(flag: str, metavar: str | None, help: str, *, hidden: bool, kind: type) -> Any:
    info = typer.Option(flag, metavar=metavar, help=help, hidden=hidden, show_default=False)
    return Annotated[kind | None, info]


FORMAT = Annotated[
    str | None,
    typer.Option("--format", metavar=words(FORMATS), help="How to show it (default table)"),
]
OUTPUT = Annotated[
    str | None, typer.Option(metavar="FILE", help="Write to FILE instead of the screen")
]


def _parameters(spec: ReportSpec | None) -> list[inspect.Parameter]:
    """A report command's parameters: every filter and option, those of other reports
    hidden, then where to write it. With ``spec`` None (a favourite, for any report):
    every filter and option shown, and only the format (a favourite keeps what to show,
    not where)."""

    def shown(applies: bool) -> bool:
        return spec is None or applies

    found: list[tuple[str, Any]] = []
    for name, (flag, metavar, help, needed) in FILTERS.items():
        applies = spec is not None and (not needed or needed in spec.filters)
        found.append((name, _option(flag, metavar, help, hidden=not shown(applies), kind=str)))
    for option in OPTIONS.values():
        own = spec.options if spec is not None else ()
        mine = next((o for o in own if o.name == option.name), option)
        applies = spec is not None and option.name in spec.option_names
        found.append((option.name, _report_option(mine, hidden=not shown(applies))))
    found.append(("format_", FORMAT))
    if spec is not None:
        found.append(("output", OUTPUT))
        chart = _option(
            "--chart",
            "FILE.png",
            "Also draw it as a chart, to FILE.png",
            hidden=not spec.chart,
            kind=str,
        )
        found.append(("chart", chart))
    return [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=None)
        for name, kind in found
    ]


def _report_option(option: OptionSpec, *, hidden: bool) -> Any:
    flag = "--" + option.name.replace("_", "-")
    help = option.help
    if option.kind is OptionKind.FLAG:
        return Annotated[
            bool | None, typer.Option(flag, help=help, hidden=hidden, show_default=False)
        ]
    if option.kind is OptionKind.DAYS:
        return _option(flag, "DAYS", help, hidden=hidden, kind=int)
    metavar = {
        OptionKind.CHOICE: "|".join(option.choices),
        OptionKind.WORDS: "KIND,...",
        OptionKind.FILE: "FILE.csv",
        OptionKind.TEXT: "NAME",
    }[option.kind]
    return _option(flag, metavar, help, hidden=hidden, kind=str)


def _request(name: str, given: dict[str, Any]) -> reporting.ReportRequest:
    """What the command line was asked, as the service's request."""

    def date(key: str) -> Any:
        text = given.get(key)
        return (
            parse_date(text, field=FILTERS[key][0].lstrip("-").replace("-", "_")) if text else None
        )

    known = given.get("as_known_at")
    return reporting.ReportRequest(
        report=name,
        from_date=date("from_date"),
        to_date=date("to_date"),
        preset=given.get("preset"),
        as_of=date("as_of"),
        as_known_at=parse_instant(known, field="as_known_at") if known else None,
        provider=given.get("provider"),
        location=given.get("location"),
        patient=given.get("patient"),
        payer=given.get("payer"),
        options={key: given.get(key) for key in OPTIONS if given.get(key) is not None},
        chart=given.get("chart") is not None,
    )


def _format(given: str | None, default: str = "table") -> str:
    """``--format``, else ``json`` with the global ``--json``, else ``default``."""
    if given is None:
        return "json" if settings.as_json else default
    return check_choice(given, FORMATS, field="format")


# The command line's way out of a report's warning, by the warning's code: a report names
# no command, so the door that has commands words the hint.
WARNING_HINTS = {"unapplied_credit": "'clinicledger credit apply' for a patient"}


def _worded(report: Report) -> Report:
    """``report`` with the command line's hints added to its warnings."""
    return dataclasses.replace(
        report,
        warnings=tuple(
            ReportWarning(w.code, f"{w.text} ({WARNING_HINTS[w.code]})")
            if w.code in WARNING_HINTS
            else w
            for w in report.warnings
        ),
    )


def _show(
    report: Report,
    format_: str,
    output: str | None,
    chart: str | None = None,
    request: reporting.ReportRequest | None = None,
) -> None:
    if format_ != "pdf":
        write(_worded(report), format_, output, chart=chart)
        return
    report = collected(report)  # a PDF and its chart read every row
    from clinicledger.render.svg import bar_chart

    now = settings.clock()
    letterhead = documents.letterhead(settings.engine, now=now)
    drawn = (
        None if request is None else charts.report_chart(settings.engine, request, report, now=now)
    )
    write(
        _worded(report),
        format_,
        output,
        chart=chart,
        letterhead=letterhead,
        drawn=None if drawn is None else bar_chart(drawn, letterhead.formats.money),
    )


def _command(
    name: str, doc: str, parameters: list[inspect.Parameter], body: Callable[..., None]
) -> Callable[..., None]:
    """A Typer command with ``parameters`` built at run time (one per report)."""

    def command(**given: Any) -> None:
        body(**given)

    command.__name__ = name.replace("-", "_")
    command.__doc__ = doc
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    return command


def _report_command(name: str, spec: ReportSpec) -> Callable[..., None]:
    def run(**given: Any) -> None:
        format_ = _format(given.pop("format_"))
        output, chart = given.pop("output"), given.get("chart")
        request = _request(name, given)
        with reporting.streamed_request(settings.engine, request, now=settings.clock()) as report:
            _show(report, format_, output, chart, request)

    doc = spec.summary + "."
    return _command(name, doc, _parameters(spec), run)


for _name, _spec in REPORTS.items():
    report_app.command(_name)(needs(report_action(_name))(_report_command(_name, _spec)))


def _save(favourite: str, report: str, replace: bool | None, **given: Any) -> None:
    settings.authorise(report_action(report))  # a favourite is run once as it is saved
    reporting.save_favourite(
        settings.uow(),
        reporting.SaveFavourite(
            name=favourite,
            request=_request(report, given),
            format=given.get("format_") or "table",
            replace=bool(replace),
        ),
    )
    out(shapes.saved(favourite, report), f"saved {report} as '{favourite}'")


report_app.command("save")(
    needs(Action.REPORT_RUN)(
        _command(
            "save",
            "Keep a report and its filters as a favourite (a preset covers the day it is run).",
            [
                inspect.Parameter(
                    "favourite",
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    annotation=Annotated[
                        str, typer.Argument(metavar="FAVOURITE", help="The favourite's name")
                    ],
                ),
                inspect.Parameter(
                    "report",
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    annotation=Annotated[
                        str, typer.Argument(metavar="REPORT", help="The report to keep")
                    ],
                ),
                inspect.Parameter(
                    "replace",
                    inspect.Parameter.KEYWORD_ONLY,
                    default=None,
                    annotation=Annotated[
                        bool | None,
                        typer.Option("--replace", help="Replace a favourite of the same name"),
                    ],
                ),
                *_parameters(None),
            ],
            _save,
        )
    )
)

Favourite = Annotated[str, typer.Argument(metavar="FAVOURITE", help="The favourite's name")]


@report_app.command("run")
@needs(Action.REPORT_RUN)
def report_run(
    favourite: Favourite,
    format_: Annotated[
        str | None,
        typer.Option("--format", metavar=words(FORMATS), help="How to show it (default: as saved)"),
    ] = None,
    output: Annotated[
        str | None, typer.Option(metavar="FILE", help="Write to FILE instead of the screen")
    ] = None,
) -> None:
    """Run a favourite again, for the day it is run."""
    with reporting.streamed_favourite(settings.engine, favourite, now=settings.clock()) as (
        report,
        saved_format,
    ):
        settings.authorise(report_action(report.name))  # the report is known once it is read
        _show(report, _format(format_, saved_format), output)


@report_app.command("favourites")
@needs(Action.REPORT_RUN)
def report_favourites() -> None:
    """List the saved favourites."""
    found = reporting.list_favourites(settings.engine)
    out(
        shapes.favourites(found),
        "\n".join(
            f"{f.name}: {f.report}"
            + "".join(f" {key}={value}" for key, value in sorted(f.settings.items()))
            + ("" if f.format == "table" else f" (as {f.format})")
            for f in found
        )
        or "no favourites saved",
    )
