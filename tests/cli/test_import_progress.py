"""``import``'s progress bar: on stderr when it is a terminal, never in a pipe or a file,
never with ``--json``; the result on stdout is the same either way."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

PATIENTS = "code,name\nP1,Ava Ashdown\nP2,Noah Bellamy\nP3,Mia Carrow\n"


def run(tmp_path: Path, *args: str, terminal: bool) -> tuple[int, str, str]:
    """Run ``clinicledger --db ledger.db ARGS`` in a process of its own, its stderr a
    terminal (a pseudo-terminal) or a pipe; (exit status, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICLEDGER_")}
    env.update(TERM="xterm-256color", COLUMNS="120", CLINICLEDGER_LOG_DIR=str(tmp_path / "log"))
    command = [
        sys.executable,
        "-c",
        "from clinicledger.cli.main import entry_point; entry_point()",
        "--db",
        str(tmp_path / "ledger.db"),
        *args,
    ]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        return done.returncode, done.stdout, done.stderr
    controller, terminal_end = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the other end closed (Linux: EIO)
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read)
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=terminal_end, env=env, text=True
    ) as process:
        os.close(terminal_end)
        reader.start()
        out, _ = process.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(controller)
    return process.returncode, out, b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_shows_the_progress_of_an_import(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(PATIENTS)
    assert run(tmp_path, "init", terminal=False)[0] == 0
    status, out, err = run(
        tmp_path, "import", "patients", str(tmp_path / "patients.csv"), terminal=True
    )
    assert status == 0, err
    assert out.endswith("patients.csv: 3 created, 0 unchanged\n")
    assert "importing patients.csv" in err  # the bar, on the terminal
    assert "\x1b[" in err  # drawn, and removed at the end


def test_a_pipe_or_json_gets_no_progress_bar(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(PATIENTS)
    assert run(tmp_path, "init", terminal=False)[0] == 0
    status, out, err = run(
        tmp_path, "import", "patients", str(tmp_path / "patients.csv"), terminal=False
    )
    assert (status, err) == (0, "")
    assert out.endswith("patients.csv: 3 created, 0 unchanged\n")
    (tmp_path / "more.csv").write_text(PATIENTS + "P4,Leo Dunmore\n")
    status, out, err = run(
        tmp_path, "--json", "import", "patients", str(tmp_path / "more.csv"), terminal=True
    )
    assert status == 0
    assert '"created": 1, "unchanged": 3' in out
    assert "importing" not in err and "\x1b[" not in err
