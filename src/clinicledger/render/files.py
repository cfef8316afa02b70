"""Files a command writes (a report's ``--output``, its ``--chart``): each one whole or not
at all.

Every file is first written to a new file beside it, and only once all of them are are
they renamed over their targets: a file that cannot be written (its folder missing or
taking no new files, a folder of that name, a full disk) leaves what was there as it was,
writes none of the others, and is refused naming the input it came from rather than with
a traceback. A target that is no file to replace (a terminal, ``/dev/null``, a pipe) is
written as it is, after the others are staged.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.text import shown


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    """A file to write: its ``data``, or its ``text`` written as it is made (UTF-8) by a
    function given the open file (a report streamed row by row)."""

    path: str
    field: str  # the input that named it: "output", "chart"
    data: bytes = b""
    text: Callable[[TextIO], None] | None = None

    def write_to(self, handle: BinaryIO) -> None:
        if self.text is None:
            handle.write(self.data)
            return
        out = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        self.text(out)
        out.flush()
        out.detach()  # the caller closes the file


def write_whole(outputs: Sequence[Output]) -> None:
    """Write every one of ``outputs``, or refuse (``output_unwritable``, naming the first
    that cannot be written) having written none."""
    staged: list[tuple[Output, Path, str | None]] = []
    try:
        for output in outputs:
            staged.append(_stage(output))
        for output, target, temporary in staged:
            _move(output, target, temporary)
    finally:
        for _, _, temporary in staged:
            if temporary is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)


def _stage(output: Output) -> tuple[Output, Path, str | None]:
    """Where ``output`` goes, and the new file beside it holding its data (None: a target
    written as it is, once every other one is staged)."""
    target = Path(os.path.realpath(output.path))  # a link's file, not the link
    folder = shown(os.path.dirname(output.path) or ".")
    if not target.parent.is_dir():
        raise _unwritable(output, f"the folder {folder} does not exist")
    try:
        found = target.stat()
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise _unwritable(output, _reason(exc)) from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise _unwritable(output, os.strerror(errno.EISDIR))
    if found is not None and not stat.S_ISREG(found.st_mode):
        return output, target, None
    try:
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError as exc:
        raise _unwritable(output, f"no file can be made in {folder} ({_reason(exc)})") from None
    try:
        # the mode a plain open() would give: the file's own, else what the umask allows
        os.fchmod(descriptor, stat.S_IMODE(found.st_mode) if found else 0o666 & ~_umask())
        with os.fdopen(descriptor, "wb") as handle:
            output.write_to(handle)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        os.unlink(temporary)
        raise _unwritable(output, _reason(exc)) from None
    except BaseException:  # a report failing part-way through its rows: no file is left
        os.unlink(temporary)
        raise
    return output, target, temporary


def _move(output: Output, target: Path, temporary: str | None) -> None:
    try:
        if temporary is None:
            with open(target, "wb") as handle:
                output.write_to(handle)
        else:
            os.replace(temporary, target)
    except OSError as exc:
        raise _unwritable(output, _reason(exc)) from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _unwritable(output: Output, reason: str) -> InvalidInput:
    return InvalidInput(
        output.field, f"cannot write {shown(output.path)}: {reason}", code="output_unwritable"
    )
