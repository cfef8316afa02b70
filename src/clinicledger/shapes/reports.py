"""Saved favourites (``report save``, ``report favourites``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clinicledger.services.reporting import Favourite


def saved(name: str, report: str) -> dict[str, Any]:
    return {"saved": name, "report": report}


def favourites(found: tuple[Favourite, ...]) -> dict[str, Any]:
    return {
        "favourites": [
            {"name": f.name, "report": f.report, "format": f.format, "settings": f.settings}
            for f in found
        ]
    }
