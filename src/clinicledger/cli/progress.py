"""A Rich progress bar on stderr for long work, on a terminal only (STYLE.md: "messages
and Rich progress bars (TTY only, anything over a second) to stderr"): nothing with
``--json`` or when stderr is a pipe or a file, so scripts and logs get the output alone."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from clinicledger.cli.app import settings

# (step, done, total): what the work is doing now, how many of its rows are done of how
# many (a total of 0: not known yet)
Tell = Callable[[str, int, int], None]


def shown() -> bool:
    """Is a progress bar to be shown: a person at a terminal, not a script."""
    return not settings.as_json and sys.stderr.isatty()


@contextmanager
def progress_bar(label: str) -> Iterator[Tell | None]:
    """A bar labelled ``label`` for the work inside, told how far it has got by the
    function yielded; None (and nothing shown) when :func:`shown` is false. The bar is
    removed when the work ends, so that only the result stays on the screen."""
    if not shown():
        yield None
        return
    from rich.console import Console  # only for a terminal: Rich takes time to import
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def tell(step: str, done: int, total: int) -> None:
            progress.update(
                task, description=f"{label}: {step}", completed=done, total=total or None
            )

        yield tell
