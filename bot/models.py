"""The tables: RFIs, referrals, their timeline; and in ``bot.mail_models``, imported on first
use, partners and profiles as loaded from config, and the mail going out and coming in.

Times are stored as naive UTC and come back as aware UTC; money is stored as a decimal
string so that no database turns it into a float.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timezone
from decimal import Decimal

from pydantic import ConfigDict
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlmodel import Field, SQLModel

from bot import lifecycle

# Crockford's base32 without I, L, O, U: ids read aloud on the phone stay unambiguous.
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_referral_id() -> str:
    return "R-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(5))


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; refbot stores aware UTC times only")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class DecimalText(TypeDecorator):
    """Decimal stored as its exact string, never a float."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else str(Decimal(value))

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


# SQLModel makes table rows without pydantic's validation: the schema pydantic would build for
# each table class at start-up waits until something asks for it (every command imports them).
_LAZY = ConfigDict(defer_build=True)


def _time(**kw):
    return Field(sa_type=UTCDateTime, **kw)


def _json(default=list):
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class Rfi(SQLModel, table=True):
    model_config = _LAZY
    id: str = Field(primary_key=True)  # the customer-facing RFI id, e.g. RFI-2026-0001
    customer: dict = _json(dict)
    region: str
    location: str | None = None
    need: str = Field(sa_type=Text)
    products: list[str] = _json()
    keywords: list[str] = _json()
    consent_to_share_contact: bool = True
    partners: list[str] = _json()  # the partners the RFI named; none: routed by ranking (and re-offered)
    submitted_at: datetime = _time()

    @property
    def company_size(self) -> str | None:
        return self.customer.get("size")


class Referral(SQLModel, table=True):
    model_config = _LAZY
    # The dashboard's "needs attention": open referrals that bounced, new ones about to be missed.
    __table_args__ = (Index("ix_referral_status_bounce", "status", "bounce"),
                      Index("ix_referral_status_deadline_at", "status", "deadline_at"))
    id: str = Field(primary_key=True)  # R-7K3Q9
    rfi_id: str = Field(foreign_key="rfi.id", index=True)
    partner_id: str = Field(index=True)
    profile_key: str = Field(foreign_key="profile.key")
    region: str
    location: str | None = None
    contact: str  # the profile contact at creation, who receives every email
    locale: str = "en"
    currency: str = "EUR"
    status: str = Field(default=lifecycle.INITIAL, index=True)  # a state of bot.lifecycle
    status_since: datetime = _time()
    deal_value: Decimal | None = Field(default=None, sa_type=DecimalText)
    closing_date: date | None = None
    created_at: datetime = _time(index=True)
    # The next timeout (new -> missed, evaluating -> expired); None when none applies.
    deadline_at: datetime | None = _time(default=None, index=True)
    next_reminder_at: datetime | None = _time(default=None, index=True)
    thread_id: str | None = None  # Message-ID of the first email, so replies thread together
    bounce: str | None = None  # the last delivery failure reported for a partner email
    # matching.reoffer: when the RFI goes on to the next-best profile (after the UNDO window).
    reoffer_due_at: datetime | None = _time(default=None, index=True)

    @property
    def archived(self) -> bool:
        return lifecycle.is_archived(self.status)


class Event(SQLModel, table=True):
    """One entry in a referral's timeline."""

    model_config = _LAZY
    id: int | None = Field(default=None, primary_key=True)
    referral_id: str = Field(foreign_key="referral.id", index=True)
    at: datetime = _time()
    from_status: str | None = None
    to_status: str
    actor: str  # an email address, "system" or "admin"
    on_behalf_of: str | None = None  # actor "admin": the partner address the admin acted for
    command: str | None = None
    detail: str | None = None
    message_id: str | None = None  # the inbound Message-ID that caused it
    reason: str | None = None  # DECLINE and LOST: the reason as the partner wrote it
    reason_code: str | None = Field(default=None, index=True)  # that reason classified (SPEC §3)
    note: str | None = Field(default=None, sa_type=Text)  # the lines the partner wrote after the command
    # An undoable change keeps what it replaced (state since, deadlines, estimate), for UNDO.
    before: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


# The dashboard's counts, kept as referrals change (bot.tally). Plain tables rather than models:
# nothing loads them as objects, and every command pays for defining a model at start-up.
# ``tally``: per hour of creation and profile, the referrals in each state (``name`` a state)
# and the first responses per bucket of ``bot.tally.RESPONSE_BOUNDS`` ("response:N", and
# "response:24h" for those within 24 hours).
tally = Table("tally", SQLModel.metadata,
              Column("hour", UTCDateTime, primary_key=True),  # created_at, down to the hour
              Column("profile_key", String, primary_key=True),
              Column("name", String, primary_key=True),
              Column("total", Integer, nullable=False))
# How many referrals each profile has in each state.
state_count = Table("state_count", SQLModel.metadata,
                    Column("profile_key", String, primary_key=True),
                    Column("status", String, primary_key=True),
                    Column("total", Integer, nullable=False))
# Each referral's first answer: the first time a partner (or an admin for one) moved it on from
# ``new``. The median response time is read off the index on (hours, created_at) alone.
first_response = Table("first_response", SQLModel.metadata,
                       Column("referral_id", String, ForeignKey("referral.id"), primary_key=True),
                       Column("profile_key", String, nullable=False),
                       Column("created_at", UTCDateTime, nullable=False, index=True),
                       Column("answered_at", UTCDateTime, nullable=False),
                       Column("hours", Float, nullable=False),
                       Index("ix_first_response_hours", "hours", "created_at"))


# The mail side's tables live in bot.mail_models, defined when something first asks for one:
# each table model costs a few milliseconds at start-up, and a command that only reads
# referrals uses none of them.
_MAIL_TABLES = ("PartnerRow", "ProfileRow", "OutboundMessage", "InboundMessage", "DigestSent")


def __getattr__(name: str):
    if name in _MAIL_TABLES:
        from bot import mail_models

        return getattr(mail_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def all_tables() -> MetaData:
    """The metadata with every table in it, the mail side's included: for making a database,
    and for comparing one with it."""
    from bot import mail_models  # noqa: F401  (defines its tables)

    return SQLModel.metadata
