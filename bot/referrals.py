"""Changing a referral: lock it, apply a trigger (a partner's command, or the scheduler's
TIMEOUT), write its timeline and queue the emails it causes, all in the caller's one
transaction. This module is the only writer of timeline events.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_
from sqlmodel import Session, select

from bot import deadlines, lifecycle
from bot.config import Config
from bot.errors import NotFound
from bot.models import Event, Referral, Rfi

if TYPE_CHECKING:  # the mailer reads the timeline from here
    from bot.outbound.mailer import Mailer

log = logging.getLogger(__name__)


def lock(session: Session, referral_id: str) -> Referral:
    """Load a referral for change; on PostgreSQL other workers wait until we commit."""
    referral = session.exec(select(Referral).where(Referral.id == referral_id).with_for_update()).first()
    if referral is None:
        raise NotFound(f"referral {referral_id}: no such referral (see `refbot referrals list`)")
    return referral


def lock_unless_busy(session: Session, referral_id: str) -> Referral | None:
    """Load a referral for change, or None while another worker has it in hand (PostgreSQL's
    SKIP LOCKED): a sweep goes on to the next one instead of waiting."""
    return session.exec(select(Referral).where(Referral.id == referral_id).with_for_update(skip_locked=True)).first()


def record_event(session: Session, referral: Referral, *, at: datetime, actor: str, command: str,
                 from_status: str | None, detail: str | None = None, message_id: str | None = None,
                 reason: str | None = None, on_behalf_of: str | None = None) -> Event:
    """One entry in the referral's timeline: into its current state, from ``from_status``."""
    event = Event(referral_id=referral.id, at=at, from_status=from_status, to_status=referral.status, actor=actor,
                  command=command, detail=None if detail is None else detail[:500], message_id=message_id,
                  reason=reason, on_behalf_of=on_behalf_of)
    session.add(event)
    return event


def apply_trigger(session: Session, mailer: Mailer, config: Config, referral: Referral,
                  command: lifecycle.Understood | str, *, actor: str, now: datetime, message_id: str | None = None,
                  detail: str | None = None, on_behalf_of: str | None = None) -> lifecycle.Effects:
    """Apply a command or TIMEOUT to a locked referral; raise the refusal when it does not apply.

    The partner who wrote (a team member, say) gets the answer; the emails of a timeout go to
    the profile's contact. An admin acting for a partner (actor "admin") is recorded as such
    on the timeline, and the emails are those the partner's own reply would have caused."""
    effects = lifecycle.apply(referral, command)
    reason = None if isinstance(command, str) else command.reason
    if effects.target is not None:
        before = referral.status
        referral.status, referral.status_since = effects.target, now
        if effects.deal_value is not None:
            referral.deal_value, referral.currency = effects.deal_value, effects.currency or referral.currency
        if effects.closing_date is not None:
            referral.closing_date = effects.closing_date
        deadlines.plan(referral, now=now, timeouts=config.timeouts, tz=config.bot.timezone)
        record_event(session, referral, at=now, actor=actor, command=effects.trigger, from_status=before,
                     detail=effects.detail or detail, message_id=message_id, reason=reason, on_behalf_of=on_behalf_of)
    replier = on_behalf_of or actor
    rfi = session.get(Rfi, referral.rfi_id)
    notices = config.customer_notices
    for email in effects.emails:
        if not sends(email, notices):
            continue
        if email.audience == "customer":
            mailer.queue(session, email.template, referral=referral, rfi=rfi, now=now, actor=replier, reason=reason)
            continue
        mailer.queue(session, email.template, referral=referral, rfi=rfi, now=now, actor=replier, reason=reason,
                     to=replier if "@" in replier else None, in_reply_to=message_id)
    return effects


def sends(email: lifecycle.Email, notices) -> bool:
    """Whether an email of the lifecycle goes out: partner emails always, a customer's when
    ``[customer_notices]`` is enabled and the email's own switch is on."""
    return email.audience != "customer" or (notices.enabled and getattr(notices, email.switch))


def timeline(session: Session, referral_id: str) -> list[Event]:
    return list(session.exec(select(Event).where(Event.referral_id == referral_id).order_by(Event.at, Event.id)).all())


def entered_by(session: Session, referral: Referral) -> str:
    """Who put the referral into its current state: an address, "system" or "admin"."""
    last = session.exec(
        select(Event.actor).where(Event.referral_id == referral.id, Event.to_status == referral.status,
                                  or_(Event.from_status.is_(None), Event.from_status != Event.to_status))
        .order_by(Event.at.desc(), Event.id.desc())
    ).first()
    return last or "system"
