"""The chain's canonical JSON (domain/chain.py) is byte for byte what ``json.dumps`` gave
when the stored hashes were made."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from clinicledger.domain.chain import canonical_json

# What a chained fact holds: text of any kind (escapes, non-ASCII, lone surrogates),
# integers of any size, None, and lists of them.
SCALARS = st.none() | st.integers() | st.text() | st.booleans()
FACTS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=6), max_leaves=40)


@given(FACTS)
def test_canonical_json_is_json_dumps_compact_and_unescaped(value: object) -> None:
    assert canonical_json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_canonical_json_of_an_entry_as_the_chain_hashes_it() -> None:
    posting = ["RECEIVABLE", 12000, 1, None, None, 1, 5, 6, None, None]
    facts = ["0" * 64, 7, "2026-01-01T08:00:00", "2026-01-01", "demo", "charge", None,
             'a "b" \\ \n é', None, [posting]]  # fmt: skip
    assert canonical_json(facts) == (
        '["' + "0" * 64 + '",7,"2026-01-01T08:00:00","2026-01-01","demo","charge",null,'
        '"a \\"b\\" \\\\ \\n é",null,[["RECEIVABLE",12000,1,null,null,1,5,6,null,null]]]'
    )
