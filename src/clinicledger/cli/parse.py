"""Text from the command line into plain values; every refusal names its field."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from clinicledger.domain.choices import LineKind
from clinicledger.domain.errors import InvalidInput
from clinicledger.domain.ids import parse_id
from clinicledger.domain.money import cents_from_text
from clinicledger.domain.text import check_plain, parse_date, parse_instant

if TYPE_CHECKING:
    from clinicledger.services.invoicing import LineSpec

__all__ = ["parse_date", "parse_instant", "parse_line_spec", "parse_targets", "words"]


def parse_targets(texts: list[str], *, field: str = "to") -> tuple[tuple[int, int], ...]:
    """``["L-000107=30.00", ...]`` -> ``((107, 3000), ...)``."""
    targets = []
    for text in texts:
        line_text, sep, amount_text = check_plain(text, field=field).partition("=")
        if not sep:
            raise InvalidInput(field, f"'{text}' is not LINE=AMOUNT", code="target_malformed")
        targets.append(
            (parse_id("line", line_text, field=field), cents_from_text(amount_text, field=field))
        )
    return tuple(targets)


_YES = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}


def parse_line_spec(text: str, *, n: int) -> LineSpec:
    """One ``--line`` SPEC: ``item=CODE,provider=DR,date=D[,fee=A][,client-billable=no]
    [,insurance=open][,inpatient=yes]`` | ``product=TITLE,fee=A`` |
    ``cancellation,provider=DR,date=D,fee=A``."""
    field = f"line {n}"
    parts: dict[str, str] = {}
    kind = LineKind.SERVICE
    for raw in check_plain(text, field=field).split(","):
        key, sep, value = raw.strip().partition("=")
        key = key.strip().lower()
        if key == "cancellation" and not sep:
            kind = LineKind.CANCELLATION
            continue
        if not sep or not value.strip():
            raise InvalidInput(field, f"'{raw}' is not KEY=VALUE", code="line_malformed")
        if key in parts:
            raise InvalidInput(field, f"'{key}' is given twice", code="line_malformed")
        parts[key] = value.strip()
    if "product" in parts:
        kind = LineKind.PRODUCT
    allowed = {
        LineKind.SERVICE: {
            "item",
            "provider",
            "date",
            "fee",
            "client-billable",
            "insurance",
            "inpatient",
        },
        LineKind.PRODUCT: {"product", "fee"},
        LineKind.CANCELLATION: {"provider", "date", "fee"},
    }[kind]
    unknown = sorted(set(parts) - allowed)
    if unknown:
        raise InvalidInput(
            field,
            f"'{unknown[0]}' is not allowed on a {kind.value} line "
            f"(allowed: {', '.join(sorted(allowed))})",
            code="line_malformed",
        )

    def flag(key: str, true_word: str, false_word: str, default: bool) -> bool:
        if key not in parts:
            return default
        word = parts[key].lower()
        if word in (true_word, false_word):
            return word == true_word
        if true_word == "yes" and word in _YES:
            return _YES[word]
        raise InvalidInput(
            field, f"{key}={parts[key]}: use {true_word} or {false_word}", code="line_malformed"
        )

    from clinicledger.services.invoicing import LineSpec  # loaded when a line is given

    return LineSpec(
        kind=kind,
        item_code=parts.get("item"),
        product_title=parts.get("product"),
        provider_code=parts.get("provider"),
        service_date=parse_date(parts["date"], field=field) if "date" in parts else None,
        fee_cents=cents_from_text(parts["fee"], field=field) if "fee" in parts else None,
        client_billable=flag("client-billable", "yes", "no", True),
        insurance_open=flag("insurance", "open", "closed", False),
        inpatient=flag("inpatient", "yes", "no", False),
    )


def words(allowed: Iterable[str]) -> str:
    """A closed set of words as help shows it: ``cash|cheque|...``, from the set itself."""
    return "|".join(allowed)
