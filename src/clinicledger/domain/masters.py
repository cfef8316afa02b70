"""The kinds of master data, what a person knows each by, and how many a listing shows."""

from __future__ import annotations

# The column a person knows each kind by besides its code: what a listing searches.
LABELS = {
    "location": "name",
    "provider": "name",
    "patient": "name",
    "payer": "name",
    "item": "description",
    "product": "title",
}

# A listing shows at most this many rows (and says how many more match): a practice has
# tens of thousands of patients, and a terminal or a page shows a few hundred at most.
LIST_ROWS_MAX = 500
