"""Command lines against the practice of ``cli.harness`` (today is 2024-03-02)."""

from __future__ import annotations

TODAY = "2024-03-02"
SERVICE = f"item=90801,provider=DR1,date={TODAY}"


def invoice(*lines: str, patient: str = "P1", location: str = "MAIN") -> tuple[str, ...]:
    argv = ("invoice", "create", "--patient", patient, "--location", location)
    for line in lines or (SERVICE,):
        argv += ("--line", line)
    return argv


def record(
    amount: str = "30.00",
    *extra: str,
    party: str = "P1",
    method: str = "cash",
    received: str = TODAY,
    location: str = "MAIN",
) -> tuple[str, ...]:
    return (
        "payment",
        "record",
        "--from",
        party,
        "--amount",
        amount,
        "--method",
        method,
        "--received",
        received,
        "--location",
        location,
        *extra,
    )


def allocate(payment: str, *targets: str) -> tuple[str, ...]:
    argv: tuple[str, ...] = ("payment", "allocate", payment)
    for target in targets:
        argv += ("--to", target)
    return argv


def refund(payment: str, amount: str, reason: str = "overpaid at the desk") -> tuple[str, ...]:
    return ("payment", "refund", payment, "--amount", amount, "--reason", reason)


def adjust(line: str, amount: str, reason: str = "discount") -> tuple[str, ...]:
    return ("line", "adjust", line, "--amount", amount, "--reason", reason)


def transfer(line: str, amount: str) -> tuple[str, ...]:
    return ("line", "transfer", line, "--to-patient", "--amount", amount, "--reason", "gap")


def close(day: str) -> tuple[str, ...]:
    return ("period", "close", day)
