"""Refusals of the chain's own inputs: a head to compare with, given wrongly."""

from __future__ import annotations

import pytest

from .reproduce import assert_refused, case, on_backends

MESSAGE = "expect_head: a head is ENTRIES/AUDIT_RECORDS:HASH, as a period close prints it"

CASES = [
    case(
        f"head-{name}",
        ("check", "--expect-head", text),
        "head_malformed",
        "expect_head",
        MESSAGE,
    )
    for name, text in [
        ("without-audit-records", "12:" + "0" * 64),
        ("short-hash", "12/20:abc"),
        ("upper-case-hash", "12/20:" + "A" * 64),
        ("not-a-number", "twelve/20:" + "0" * 64),
    ]
]


@pytest.mark.parametrize(("engine", "case"), on_backends(CASES), indirect=["engine"])
def test_a_malformed_head_is_refused(engine, case, practice, cli) -> None:
    assert_refused(cli, engine, case)
