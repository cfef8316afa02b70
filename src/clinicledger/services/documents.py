"""What a printed page is headed with: the practice (its name and ABN), how it shows money
and dates (Babel, in the practice's currency and time zone), and the moment it is
printed. Every PDF, a report's and a document's, is headed by one of these."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from clinicledger.render.html import Formats
from clinicledger.render.pdf import Letterhead
from clinicledger.store import lookups
from clinicledger.store.engine import Engine
from clinicledger.store.uow import reading

DEFAULT_LOCALE = "en_AU"


def letterhead(engine: Engine, *, now: dt.datetime, locale: str = DEFAULT_LOCALE) -> Letterhead:
    """The letterhead of a page printed at ``now`` (aware, or the practice's local time)."""
    with reading(engine) as conn:
        practice = lookups.require_practice(conn)
        printed_at = lookups.practice_instant(conn, now).replace(tzinfo=dt.UTC)
    return Letterhead(
        practice=practice,
        formats=Formats(
            locale=locale, currency=practice.currency, zone=ZoneInfo(practice.timezone)
        ),
        printed_at=printed_at,
    )
