"""The command line: ``clinicledger NOUN VERB``, one module per noun (as ``services/``).

Importing this module registers every command on :data:`app`; :func:`run` runs one and maps
any error to its exit code, in one place (``cli/errors.py``).
"""

from __future__ import annotations

import sys

import typer
from typer._click.exceptions import NoArgsIsHelpError  # Typer's own click, pinned with it

from clinicledger.cli import (  # noqa: F401  (each module adds its commands to the app)
    accounts,
    demo,
    documents,
    errors,
    imports,
    invoices,
    masters,
    payments,
    periods,
    reports,
    serve,
    users,
)
from clinicledger.cli.app import Settings, app, settings

__all__ = ["Settings", "app", "entry_point", "run", "settings"]


def run(argv: list[str] | None = None) -> int:
    """The console entry point: run a command and map any error to its exit code."""
    command = typer.main.get_command(app)
    args = sys.argv[1:] if argv is None else argv
    try:
        result = command.main(args=args, prog_name="clinicledger", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except NoArgsIsHelpError as bare:  # a group called with no command: its help, as usage
        print(bare.format_message())
        return errors.EXIT_USER_ERROR
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return errors.EXIT_USER_ERROR
    except Exception as exc:  # the one place every error is mapped to an exit code
        as_json = settings.as_json or "--json" in args
        return errors.report(exc, as_json=as_json, debug=settings.debug or "--debug" in args)
    finally:
        settings.close()
    return result if isinstance(result, int) else errors.EXIT_OK


def entry_point() -> None:
    sys.exit(run())
