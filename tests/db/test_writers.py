"""store/writers.py: writers to a SQLite ledger wait their turn in the kernel's queue, a
wait is bounded, and a turn given up is given back."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest

from clinicledger.store import writers
from clinicledger.store.writers import WriterQueue, writer_queue


def another_process_holds(path: Path) -> int:
    """A lock file descriptor of 'another process': a new open file (``flock`` belongs to
    an open file, so this one competes with the queue's exactly as another process's)."""
    fd = os.open(path.with_name(path.name + ".writer-lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_turn_is_taken_and_given_back(tmp_path: Path) -> None:
    queue = WriterQueue(tmp_path / "ledger.db")
    assert queue.acquire(timeout=1)
    queue.release()
    assert queue.acquire(timeout=1)
    queue.release()


def test_a_wait_for_another_process_is_bounded_then_the_turn_comes(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    other = another_process_holds(path)
    queue = WriterQueue(path)
    assert not queue.acquire(timeout=0.05)  # busy: the caller says so, holding nothing
    fcntl.flock(other, fcntl.LOCK_UN)
    assert queue.acquire(timeout=1)  # the abandoned wait gave the lock back
    # and while this process holds its turn, the other cannot take it
    with pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    queue.release()
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(other)


def test_a_wait_given_up_never_lets_go_of_a_later_turn(tmp_path: Path) -> None:
    """A wait that ran out ends later, in its thread: it must let go of its own attempt
    only, never of the turn that the next call took meanwhile (it did, now and then, when
    both used one open file)."""
    path = tmp_path / "ledger.db"
    queue = WriterQueue(path)
    for _ in range(200):
        other = another_process_holds(path)
        assert not queue.acquire(timeout=0.001)
        fcntl.flock(other, fcntl.LOCK_UN)
        assert queue.acquire(timeout=1)
        time.sleep(0.0005)  # the abandoned wait ends about now
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        queue.release()
        os.close(other)


def test_a_waiter_is_woken_when_the_holder_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    other = another_process_holds(path)
    queue = WriterQueue(path)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(queue.acquire(timeout=10)))
    waiter.start()
    waiter.join(0.1)
    assert waiter.is_alive() and got == []
    fcntl.flock(other, fcntl.LOCK_UN)
    waiter.join(5)
    assert got == [True]
    queue.release()
    os.close(other)


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    queue = WriterQueue(tmp_path / "ledger.db")
    inside = 0
    most = 0
    guard = threading.Lock()

    def write() -> None:
        nonlocal inside, most
        for _ in range(50):
            assert queue.acquire(timeout=10)
            with guard:
                inside += 1
                most = max(most, inside)
            with guard:
                inside -= 1
            queue.release()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1


def test_a_folder_that_takes_no_lock_file_falls_back_to_sqlites_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger in a folder where no lock file can be made (read-only to this user) is
    written as before: SQLite's own lock alone."""

    def refused(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(writers.os, "open", refused)
    queue = WriterQueue(tmp_path / "ledger.db")
    assert queue.acquire(timeout=1)
    queue.release()
    assert not (tmp_path / "ledger.db.writer-lock").exists()


def test_one_queue_per_file_per_process(tmp_path: Path) -> None:
    a = writer_queue(str(tmp_path / "ledger.db"))
    assert writer_queue(str(tmp_path / "." / "ledger.db")) is a
    assert writer_queue(str(tmp_path / "other.db")) is not a


def test_a_relative_name_is_the_file_in_the_folder_it_was_given_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    monkeypatch.chdir(tmp_path / "one")
    here = writer_queue("ledger.db")
    assert writer_queue(str(tmp_path / "one" / "ledger.db")) is here
    monkeypatch.chdir(tmp_path / "two")
    there = writer_queue("ledger.db")
    assert there is not here and there.path == (tmp_path / "two" / "ledger.db").resolve()
