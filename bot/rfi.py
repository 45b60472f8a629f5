"""RFIs: read and validate the file, route it, create the referrals and queue their emails."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import ranking, referrals
from bot.config import Config, describe, email_address
from bot.db import transaction
from bot.errors import RfiError
from bot.locales import LOCALES
from bot.models import Referral, Rfi
from bot.outbound.mailer import Mailer
from bot.routing import Unrouted, route

log = logging.getLogger(__name__)


def _one_line(value: str) -> str:
    # These values may reach a header or a one-line field: a line break is never real data.
    if "\r" in value or "\n" in value:
        raise ValueError("must be a single line (it contains a line break)")
    return value.strip()


Line = Annotated[str, AfterValidator(_one_line)]


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
    need: str = Field(min_length=1)
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


def read(text: str, *, source: str = "RFI") -> RfiInput:
    """Parse and validate one RFI from JSON text; errors name the field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RfiError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise RfiError(f"{source}: expected a JSON object with rfi_id, customer, region and need")
    try:
        return RfiInput.model_validate(data)
    except ValidationError as exc:
        raise RfiError(f"{source}: {describe(exc)}") from None


def submit(engine: Engine, mailer: Mailer, config: Config, rfi: RfiInput, *, now: datetime) -> Submitted:
    """Create a referral per routed profile and queue its first email, all in one transaction.

    Submitting an RFI id that exists creates nothing and returns what the first time made.
    """
    with transaction(engine) as session:
        if session.get(Rfi, rfi.rfi_id) is not None:
            existing = session.exec(select(Referral).where(Referral.rfi_id == rfi.rfi_id).order_by(Referral.created_at)).all()
            return Submitted(rfi.rfi_id, list(existing), created=False)
        routes, unrouted = route(rfi, config, history=ranking.history(session, config, rfi, now=now))
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
