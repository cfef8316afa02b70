"""Clerks writing to one SQLite ledger take turns in a queue the kernel keeps, instead of
SQLite's busy handler, so that none waits long while others write.

Why: SQLite lets one writer in at a time and makes the others retry after sleeping 1, 2,
5, 10 ... up to 100 ms. A clerk who has backed off to 100 ms keeps missing the moments the
lock is free while the others, retrying sooner, take it: with eight processes recording
and allocating payments, 28 of 1,323 transactions waited over a second and one 4.4 s (bench,
issue 9), and all eight together wrote less than one alone. Here a writer first takes an
exclusive ``flock`` on ``<ledger>.writer-lock``: the waiters sleep in the kernel and are
woken the moment it is released, so a turn comes after the turns ahead of it. Threads of
one process queue on a lock of their own first (a process's ``flock`` is its own).

A wait is bounded: past ``timeout`` the caller is told the ledger is busy, as SQLite's own
busy timeout would (a thread that was still waiting for the file lock gives it back the
moment it gets it). The file lock is advisory: other programs (the ``sqlite3`` shell, a
migration) are kept out by SQLite's own lock, as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path

_QUEUES: dict[tuple[int, Path], WriterQueue] = {}
_QUEUES_GUARD = threading.Lock()
_NAMED: dict[tuple[int, str, str], WriterQueue] = {}  # by the name a caller gave


class WriterQueue:
    """The turn-taking of the writers of one ledger file, in this process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".writer-lock")
        self._threads = threading.Lock()
        self._held: int | None = None  # the open lock file that holds the turn
        self._waiter: _Waiter | None = None  # waits in the kernel when the turn is taken

    def acquire(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for this process's turn; True once it is
        ours, False if the wait ran out (nothing is held then)."""
        if not self._threads.acquire(timeout=timeout):
            return False
        try:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o660)
        except OSError:
            return True  # no lock file to be had (a read-only folder): SQLite's lock alone
        if self._flock_within(fd, timeout):
            self._held = fd
            return True
        self._threads.release()
        return False

    def release(self) -> None:
        if self._held is not None:
            os.close(self._held)  # closing the open file lets its lock go
            self._held = None
        self._threads.release()

    def _flock_within(self, fd: int, timeout: float) -> bool:
        """An exclusive ``flock`` on ``fd`` within ``timeout`` seconds. Each turn opens
        the lock file anew: a ``flock`` belongs to an open file, so a wait abandoned on
        one open file can never let go of a turn that a later call took on another."""
        with contextlib.suppress(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        if self._waiter is None:
            self._waiter = _Waiter()
        if self._waiter.wait(fd, timeout):
            return True
        self._waiter = None  # it is left with the abandoned wait, and ends with it
        return False


class _Waiter:
    """A thread that waits in the kernel for a ``flock`` on behalf of one process's
    writers, one wait at a time. The kernel's wait has no timeout of its own, so the
    caller waits for this thread, with one. The thread is kept from one wait to the next:
    starting a thread for each wait and ending it put both on the path from one writer's
    commit to the next one's start (bench, 8 processes on 2 cores: the hand-over took
    0.24-0.29 ms at the median instead of 0.08-0.12 ms, some 10% of a transaction).

    A wait given up leaves its ``fd`` to the thread, which closes it (letting the lock
    go) once the wait ends, and then ends too; the queue makes another for the next."""

    def __init__(self) -> None:
        self._fd = -1
        self._asked = threading.Lock()  # released: a wait is asked for, on self._fd
        self._got = threading.Lock()  # released: the flock asked for is held
        self._guard = threading.Lock()
        self._abandoned = False
        self._asked.acquire()
        self._got.acquire()
        threading.Thread(target=self._run, name="clinicledger-writer-turn", daemon=True).start()

    def wait(self, fd: int, timeout: float) -> bool:
        """The flock on ``fd`` within ``timeout`` seconds; False once given up (this
        waiter then serves no other)."""
        self._fd = fd
        self._asked.release()
        if self._got.acquire(timeout=timeout):
            return True
        with self._guard:
            if self._got.acquire(blocking=False):  # it came just as the wait ran out
                return True
            self._abandoned = True
        return False

    def _run(self) -> None:
        while True:
            self._asked.acquire()
            fd = self._fd
            fcntl.flock(fd, fcntl.LOCK_EX)
            with self._guard:
                if self._abandoned:
                    os.close(fd)
                    return
                self._got.release()


def writer_queue(database: str) -> WriterQueue:
    """The queue of the SQLite ledger file ``database``: one per file per process (a forked
    child has a queue, and a thread lock, of its own). Two names of one file share it; a
    name is resolved once (every unit of work asks: resolving costs a system call a
    folder), a relative one in the folder it was given in."""
    named = (os.getpid(), database if os.path.isabs(database) else os.getcwd(), database)
    queue = _NAMED.get(named)
    if queue is not None:
        return queue
    key = (os.getpid(), Path(database).resolve())
    with _QUEUES_GUARD:
        queue = _QUEUES.get(key)
        if queue is None:
            queue = _QUEUES[key] = WriterQueue(key[1])
        _NAMED[named] = queue
        return queue
