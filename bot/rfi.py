"""RFIs: read and validate the file, route it, create the referrals and queue their emails."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot import ranking, referrals
from bot.config import Config, email_address
from bot.db import reading, transaction
from bot.errors import RfiError
from bot.locales import LOCALES
from bot.models import Referral, Rfi
from bot.outbound.mailer import Mailer
from bot.routing import Unrouted, route
from bot.validation import describe

log = logging.getLogger(__name__)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: str) -> str:
    """Words a person wrote: not blank, and no control characters (no database keeps a NUL)."""
    if _CONTROL.search(value):
        raise ValueError("contains a control character")
    if not value.strip():
        raise ValueError("is blank")
    return value.strip()


def _single_line(value: str) -> str:
    # These values may reach a header or a one-line field: a line break is never real data.
    if "\r" in value or "\n" in value:
        raise ValueError("must be a single line (it contains a line break)")
    return _text(value)


Line = Annotated[str, AfterValidator(_single_line)]
Text = Annotated[str, AfterValidator(_text)]


class CustomerInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line = Field(min_length=1)
    email: Annotated[Line, AfterValidator(email_address)]
    company: Line | None = None
    phone: Line | None = None
    size: Literal["small", "medium", "large", "enterprise"] | None = None
    locale: Literal[LOCALES] | None = None  # the language of the customer's notices


class RfiInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rfi_id: Line = Field(min_length=1, max_length=100)
    customer: CustomerInput
    region: Line = Field(min_length=1)
    location: Line | None = None
    need: Text
    products: list[Line] = []
    keywords: list[Line] = []
    partners: list[Line] = []
    consent_to_share_contact: bool = True

    @property
    def company_size(self) -> str | None:
        return self.customer.size


@dataclass
class Submitted:
    rfi_id: str
    referrals: list[Referral] = field(default_factory=list)
    unrouted: list[Unrouted] = field(default_factory=list)
    created: bool = True

    def as_json(self) -> dict:
        return {
            "rfi_id": self.rfi_id,
            "referrals": [{"id": r.id, "partner": r.partner_id, "contact": r.contact} for r in self.referrals],
            "unrouted": [{"partner": u.partner, "reason": u.reason} for u in self.unrouted],
        }


@dataclass
class Entry:
    """One RFI of a file, or why it could not be read; ``line`` is where it starts."""

    line: int
    rfi: RfiInput | None = None
    error: str | None = None
    named: str | None = None  # the rfi_id a refused RFI gave, so that the admin can find it

    @property
    def rfi_id(self) -> str | None:
        return self.rfi.rfi_id if self.rfi else self.named


def read_file(text: str, *, source: str) -> tuple[list[Entry], bool]:
    """The RFIs of a file: one JSON object, a JSON array of them, or JSON lines (one object a
    line). Each is read on its own, so a bad one is reported with its line and the others are
    still taken. Also says whether the file held several (a list is printed for them)."""
    try:
        return _read_file(text, source=source)
    except RecursionError:  # JSON nested thousands deep: no RFI looks like that
        return [Entry(1, error=f"{source}: not an RFI: JSON nested too deeply")], False


def _read_file(text: str, *, source: str) -> tuple[list[Entry], bool]:
    if text.lstrip().startswith("["):
        return _array(text, source=source), True
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # more than one JSON document: JSON lines
            lines = enumerate(text.splitlines(), start=1)
            return [_json_line(line, number, source=source) for number, line in lines if line.strip()], True
        return [Entry(exc.lineno, error=f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} "
                                        f"column {exc.colno}")], False
    return [_validated(data, 1, source=source)], False


def _json_line(text: str, line: int, *, source: str) -> Entry:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Entry(line, error=f"{source} line {line}: not valid JSON: {exc.msg} (column {exc.colno})")
    return _validated(data, line, source=f"{source} line {line}")


def _validated(data, line: int, *, source: str) -> Entry:
    if not isinstance(data, dict):
        return Entry(line, error=f"{source}: expected a JSON object with rfi_id, customer, region and need")
    try:
        return Entry(line, RfiInput.model_validate(data))
    except ValidationError as exc:
        named = data.get("rfi_id") if isinstance(data.get("rfi_id"), str) else None
        return Entry(line, error=f"{source}: {describe(exc, root=RfiInput)}", named=named)


def _array(text: str, *, source: str) -> list[Entry]:
    """The items of a JSON array, each with the line it starts on; a syntax error ends the
    array there (what follows cannot be told apart) and is reported with its line."""
    decoder, entries = json.JSONDecoder(), []
    position = _skip_space(text, text.index("[") + 1)
    if text.startswith("]", position):
        return entries
    while True:
        line = text.count("\n", 0, position) + 1
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            return [*entries, Entry(line, error=f"{source} line {exc.lineno}: not valid JSON: {exc.msg} "
                                                f"(column {exc.colno}); the RFIs after it were not read")]
        entries.append(_validated(item, line, source=f"{source} line {line}"))
        position = _skip_space(text, position)
        after = text[position:position + 1]
        if after == "]":
            return entries
        if after != ",":
            line = text.count("\n", 0, position) + 1
            problem = f"expected , or ] after an RFI, found {after!r}" if after else "the array is not closed with ]"
            return [*entries, Entry(line, error=f"{source} line {line}: {problem}; the RFIs after it were not read")]
        position = _skip_space(text, position + 1)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def unseen(engine: Engine, ids: list[str]) -> set[str]:
    """Which of ``ids`` no RFI has yet, read for a whole file in a query per 500 ids, so that
    each of its RFIs need not look its id up on its own (``submit(unseen=True)``)."""
    wanted, found = list(dict.fromkeys(ids)), set()
    with transaction(reading(engine)) as session:
        for start in range(0, len(wanted), 500):
            found.update(session.exec(select(Rfi.id).where(Rfi.id.in_(wanted[start:start + 500]))).all())
    return set(wanted) - found


def submit(engine: Engine, mailer: Mailer, config: Config, rfi: RfiInput, *, now: datetime,
           window: ranking.Window | None = None, unseen: bool = False) -> Submitted:
    """Create a referral per routed profile and queue its first email, all in one transaction.

    Submitting an RFI id that exists creates nothing and returns what the first time made,
    also when another worker submits it at the same moment. A file of RFIs routed at one ``now``
    shares one ``window`` of the ranking's history. ``unseen``: the id was not there when the
    file was read (``unseen()``), so it is not looked up again; if another process has stored it
    since, storing it fails on the id, and the second attempt looks it up.
    """
    try:
        return _submit(engine, mailer, config, rfi, now=now, window=window, unseen=unseen)
    except IntegrityError:  # the same rfi_id committed by another process meanwhile
        return _submit(engine, mailer, config, rfi, now=now, window=window, unseen=False)


def _submit(engine: Engine, mailer: Mailer, config: Config, rfi: RfiInput, *, now: datetime,
            window: ranking.Window | None, unseen: bool) -> Submitted:
    with transaction(engine) as session:
        if not unseen and session.get(Rfi, rfi.rfi_id) is not None:
            existing = session.exec(select(Referral).where(Referral.rfi_id == rfi.rfi_id).order_by(Referral.created_at)).all()
            return Submitted(rfi.rfi_id, list(existing), created=False)
        routes, unrouted = route(rfi, config, history=ranking.history(session, config, rfi, now=now, window=window))
        if not routes:
            reasons = "; ".join(f"{u.partner}: {u.reason}" for u in unrouted) or (
                f"no partner profile serves region {rfi.region}" + (f", location {rfi.location}" if rfi.location else ""))
            raise RfiError(f"{rfi.rfi_id}: not routed to any partner ({reasons})")
        row = Rfi(id=rfi.rfi_id, customer=rfi.customer.model_dump(exclude_none=True), region=rfi.region.upper(),
                  location=rfi.location, need=rfi.need, products=rfi.products, keywords=rfi.keywords,
                  consent_to_share_contact=rfi.consent_to_share_contact, partners=list(rfi.partners),
                  submitted_at=now)
        session.add(row)
        session.flush()
        created = [referrals.offer(session, mailer, config, row, chosen, now=now) for chosen in routes]
        log.info("rfi routed", extra={"rfi": rfi.rfi_id, "referrals": [r.id for r in created],
                                      "unrouted": [u.partner for u in unrouted]})
        return Submitted(rfi.rfi_id, created, unrouted)
