"""Saved report settings ("favourites", reference 004 "Receipts Listing"): a report's name
and its :class:`ReportParams` as a JSON-able dict, and back.

Pure: no storage here. ``report save NAME ...`` stores :func:`favourite_data` (as JSON
text) under NAME; ``report run NAME`` reads it back with :func:`favourite_from_data`.

Dates are ISO text (``"2024-10-02"``, exactly ``YYYY-MM-DD``), ``as_known_at`` naive UTC
ISO text like ``recorded_at`` (``YYYY-MM-DDTHH:MM:SS[.ffffff]``). A favourite may instead
keep a date ``preset`` (``"today"``, ``"last-month"``, ...): the end-of-day Receipts
Listing is saved once and each run covers the day it is run, so the dates are worked out
from ``today`` when it is read back.

The dict carries ``"version": 1``; reading refuses an unknown version, an unknown key and a
value of the wrong type, naming the field, so a damaged favourite never runs a report
with settings nobody chose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from clinicledger.domain.choices import check_choice
from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.text import date_from_text, instant_from_text
from clinicledger.reports.base import PRESETS, ReportParams, preset_range

VERSION = 1
DATE_FIELDS = ("from_date", "to_date", "as_of")
CODE_FIELDS = ("provider", "location", "patient", "payer")
TOP_KEYS = frozenset({"version", "report", "preset", "parameters"})
PARAMETER_KEYS = frozenset({*DATE_FIELDS, "as_known_at", *CODE_FIELDS, "options"})

Scalar = str | int | bool | None


def favourite_data(
    report: str, params: ReportParams, *, preset: str | None = None
) -> dict[str, Any]:
    """``(report, params)`` as a dict of JSON values; with ``preset`` the range is not
    stored as dates (``from_date`` and ``to_date`` must then be left out)."""
    if not report:
        raise InvalidInput("report", "a report name is required", code="report_missing")
    parameters: dict[str, Any] = {}
    if preset is not None:
        preset = _check_preset(preset)
        if params.from_date is not None or params.to_date is not None:
            raise InvalidInput(
                "preset", "give a preset or dates (from, to), not both", code="range_conflict"
            )
    for name in DATE_FIELDS:
        value = getattr(params, name)
        if value is not None:
            parameters[name] = value.isoformat()
    if params.as_known_at is not None:
        moment = params.as_known_at
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        parameters["as_known_at"] = moment.isoformat()
    for name in CODE_FIELDS:
        value = getattr(params, name)
        if value is not None:
            parameters[name] = value
    options = {key: _option_value(key, value) for key, value in sorted(params.options.items())}
    options = {key: value for key, value in options.items() if value is not None}
    if options:
        parameters["options"] = options
    data: dict[str, Any] = {"version": VERSION, "report": report, "parameters": parameters}
    if preset is not None:
        data["preset"] = preset
    return data


def favourite_from_data(
    data: Mapping[str, Any], *, today: dt.date | None = None
) -> tuple[str, ReportParams]:
    """A stored favourite back as ``(report, params)``; a preset is resolved against
    ``today`` (the practice's business date, which the caller passes)."""
    if not isinstance(data, Mapping):
        raise InvalidInput("favourite", "is not an object", code="favourite_malformed")
    _no_unknown_keys(data, TOP_KEYS, "a favourite")
    version = data.get("version")
    if type(version) is not int or version != VERSION:  # True and 1.0 equal 1, too
        raise InvalidInput(
            "version",
            f"favourite version {data.get('version')!r} is not {VERSION}",
            code="favourite_version",
        )
    report = data.get("report")
    if not isinstance(report, str) or not report:
        raise InvalidInput("report", "a report name is required", code="favourite_malformed")
    parameters = data.get("parameters", {})
    if not isinstance(parameters, Mapping):
        raise InvalidInput("parameters", "is not an object", code="favourite_malformed")
    _no_unknown_keys(parameters, PARAMETER_KEYS, "a favourite's parameters")

    values: dict[str, Any] = {}
    for name in DATE_FIELDS:
        text = parameters.get(name)
        if text is not None:
            values[name] = _date(name, text)
    if parameters.get("as_known_at") is not None:
        values["as_known_at"] = _moment("as_known_at", parameters["as_known_at"])
    for name in CODE_FIELDS:
        code = parameters.get(name)
        if code is not None:
            if not isinstance(code, str) or not code:
                raise InvalidInput(name, "is not a code", code="favourite_malformed")
            values[name] = code
    options = parameters.get("options", {})
    if not isinstance(options, Mapping):
        raise InvalidInput("options", "is not an object", code="favourite_malformed")
    values["options"] = {str(key): _option_value(str(key), value) for key, value in options.items()}

    preset = data.get("preset")
    if preset is not None:
        preset = _check_preset(preset)
        if "from_date" in values or "to_date" in values:
            raise InvalidInput(
                "preset", "a favourite has a preset or dates, not both", code="range_conflict"
            )
        if today is None:
            raise InvalidInput(
                "preset", f"the preset '{preset}' needs today's date", code="today_missing"
            )
        values["from_date"], values["to_date"] = preset_range(preset, today)
    return report, ReportParams(**values)


def _check_preset(preset: object) -> str:
    return check_choice(str(preset), PRESETS, field="preset")


def _no_unknown_keys(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise InvalidInput(unknown[0], f"is not a key of {where}", code="favourite_malformed")


def _option_value(key: str, value: Any) -> Scalar | list[Scalar]:
    """Options are text, whole numbers, true/false, or lists of those. Never floats."""
    if isinstance(value, tuple | list):
        return [_scalar(key, item) for item in value]
    return _scalar(key, value)


def _scalar(key: str, value: Any) -> Scalar:
    if value is None or isinstance(value, str | bool | int):
        return value
    raise InvalidInput(
        key, f"an option of type {type(value).__name__} cannot be saved", code="option_malformed"
    )


def _date(name: str, text: Any) -> dt.date:
    """``YYYY-MM-DD`` exactly (``date.fromisoformat`` also reads ``2018-W05-4``)."""
    if isinstance(text, str):
        try:
            return date_from_text(text)
        except ValueError:
            pass
    raise InvalidInput(name, f"{text!r} is not a date (YYYY-MM-DD)", code="favourite_malformed")


def _moment(name: str, text: Any) -> dt.datetime:
    if isinstance(text, str):
        try:
            moment = instant_from_text(text)
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                return moment
    raise InvalidInput(
        name, f"{text!r} is not a UTC time (YYYY-MM-DDTHH:MM:SS)", code="favourite_malformed"
    )
