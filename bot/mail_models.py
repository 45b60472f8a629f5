"""The tables of the mail side: partners and their profiles as the config describes them (who
the mail goes to), the outbox, every inbound message, the weekly digests sent.

Imported on first use through ``bot.models`` (``from bot.models import OutboundMessage`` works
as before): a command that only reads referrals does not pay for defining them at start-up.
``bot.models.all_tables`` makes sure they are in the metadata where every table must be.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models import _LAZY, _json, _time


class PartnerRow(SQLModel, table=True):
    model_config = _LAZY
    __tablename__ = "partner"
    id: str = Field(primary_key=True)
    name: str


class ProfileRow(SQLModel, table=True):
    """A partner's profile for one region, as the config last described it."""

    model_config = _LAZY
    __tablename__ = "profile"
    key: str = Field(primary_key=True)  # partner/REGION/locations, stable across config edits
    partner_id: str = Field(index=True)
    region: str
    locations: list[str] = _json()
    contact: str
    team: list[str] = _json()
    locale: str = "en"
    currency: str = "EUR"
    active: bool = True  # False once the config no longer has it; its referrals keep working
    backup: str | None = None  # gets the first email of a new referral when the contact is away
    digest: bool = False  # gets the weekly digest


class OutboundMessage(SQLModel, table=True):
    """The outbox: a rendered message with its fixed Message-ID, sent until accepted."""

    model_config = _LAZY
    __tablename__ = "outbox"
    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(sa_column=Column(String(255), unique=True, nullable=False))
    referral_id: str | None = Field(default=None, foreign_key="referral.id", index=True)
    kind: str  # template name, e.g. partner/new_referral
    recipient: str = Field(index=True)
    subject: str
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default="queued", index=True)  # queued | sent | failed | cancelled (by UNDO)
    attempts: int = 0
    created_at: datetime = _time()
    next_attempt_at: datetime = _time()
    claimed_until: datetime | None = _time(default=None)
    sent_at: datetime | None = _time(default=None)
    last_error: str | None = None
    # Never sent before this time, not even by a flush: a customer notice waits out the UNDO window.
    not_before: datetime | None = _time(default=None)


class InboundMessage(SQLModel, table=True):
    """Every message read, recorded before anything acts on it: each is applied once."""

    model_config = _LAZY
    __tablename__ = "inbound"
    __table_args__ = (UniqueConstraint("message_id"),)
    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(sa_type=String(998))
    received_at: datetime = _time()
    sender: str | None = None
    outcome: str = Field(default="received", index=True)  # what the inbound pipeline made of it: bot.inbound.stops
    referral_id: str | None = Field(default=None, index=True)
    detail: str | None = None
    replied: bool = False  # whether refbot answered it; the reply limits count these
    source: str | None = None  # "imap:INBOX uid 17", "smtp"
    # The message as received, kept while it is held for an admin: `refbot inbox release` reads it.
    raw: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class DigestSent(SQLModel, table=True):
    """One weekly digest per profile and week: the row is the lock between workers."""

    model_config = _LAZY
    __tablename__ = "digest_sent"
    profile_key: str = Field(primary_key=True)
    week: date = Field(primary_key=True)  # the local day the digest fell due
    sent_at: datetime = _time()
