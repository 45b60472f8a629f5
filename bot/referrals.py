"""Changing a referral: lock it, apply a trigger (a partner's command, or the scheduler's
TIMEOUT), write its timeline and queue the emails it causes, all in the caller's one
transaction. This module is the only writer of timeline events.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING

from sqlalchemy import insert, or_
from sqlmodel import Session, select

from bot import deadlines, lifecycle, models, ranking, routing, tally, words
from bot.config import Config
from bot.errors import NotFound, NotValidNow, UndoClosed
from bot.models import Event, Referral, Rfi
from bot.outbound import outbox

if TYPE_CHECKING:  # the mailer reads the timeline from here
    from bot.outbound.mailer import Mailer
    from bot.routing import Route

log = logging.getLogger(__name__)
# Timeline entries that partners never see in STATUS: what the customer wrote is for admins.
PRIVATE_EVENTS = ("CUSTOMER_REPLY",)


def lock(session: Session, referral_id: str) -> Referral:
    """Load a referral for change; on PostgreSQL other workers wait until we commit. A SQLite
    writer holds the whole database already (BEGIN IMMEDIATE): there the referral this
    transaction loaded before (to correlate a reply, say) is taken without another query. On
    PostgreSQL another worker may have changed it since: the locked row replaces what the session
    holds (``populate_existing``; the ORM would otherwise keep the values it loaded first)."""
    if session.get_bind().dialect.name == "sqlite":
        referral = session.get(Referral, referral_id)
    else:
        referral = session.exec(select(Referral).where(Referral.id == referral_id).with_for_update()
                                .execution_options(populate_existing=True)).first()
    if referral is None:
        raise NotFound(f"referral {referral_id}: no such referral (see `refbot referrals list`)")
    return referral


def lock_unless_busy(session: Session, referral_id: str) -> Referral | None:
    """Load a referral for change, or None while another worker has it in hand (PostgreSQL's
    SKIP LOCKED): a sweep goes on to the next one instead of waiting."""
    return session.exec(select(Referral).where(Referral.id == referral_id).with_for_update(skip_locked=True)
                        .execution_options(populate_existing=True)).first()


def record_event(session: Session, referral: Referral, *, at: datetime, actor: str, command: str,
                 from_status: str | None, detail: str | None = None, message_id: str | None = None,
                 reason: str | None = None, reason_code: str | None = None, note: str | None = None,
                 before: dict | None = None, on_behalf_of: str | None = None) -> None:
    """One entry in the referral's timeline: into its current state, from ``from_status``.

    Inserted at once, without an ORM object: nothing reads an event back from the session (the
    timeline is queried), and the unit of work's bookkeeping for the row cost more than the row."""
    session.connection().execute(_INSERT_EVENT, {
        "referral_id": referral.id, "at": at, "from_status": from_status, "to_status": referral.status,
        "actor": actor, "command": command, "detail": None if detail is None else detail[:500],
        "message_id": message_id, "reason": reason, "reason_code": reason_code,
        "note": None if note is None else note[:4000], "before": before, "on_behalf_of": on_behalf_of})
    # the dashboard's counts change with the timeline
    tally.record(session, referral, at=at, actor=actor, from_status=from_status, to_status=referral.status)


# The table's, not the model's, on the session's connection: through the session even a Core
# insert flushes the referral's pending change first, and then once more for its thread id.
_INSERT_EVENT = insert(Event.__table__)


def apply_trigger(session: Session, mailer: Mailer, config: Config, referral: Referral,
                  command: lifecycle.Understood | str, *, actor: str, now: datetime, message_id: str | None = None,
                  detail: str | None = None, on_behalf_of: str | None = None) -> lifecycle.Effects:
    """Apply a command or TIMEOUT to a locked referral; raise the refusal when it does not apply.

    The partner who wrote (a team member, say) gets the answer; the emails of a timeout go to
    the profile's contact. An admin acting for a partner (actor "admin") is recorded as such
    on the timeline, and the emails are those the partner's own reply would have caused. The
    customer's email of a change that UNDO may take back waits for the UNDO window, and UNDO
    cancels it."""
    effects = lifecycle.apply(referral, command)
    rfi = session.get(Rfi, referral.rfi_id)
    said = None if isinstance(command, str) else command
    reason = said.reason if said else None
    replier = on_behalf_of or actor  # whom the emails speak of and go to
    context = {"actor": replier, "reason": reason, "reason_code": words.reason_code(reason) if reason else None}
    hold = None
    if effects.target == lifecycle.PREVIOUS:
        context["undone"] = undo(session, config, referral, actor=actor, now=now, message_id=message_id,
                                 line=said.line if said else None, on_behalf_of=on_behalf_of)
    elif effects.target is not None:
        before, snapshot = referral.status, _snapshot(referral)
        context["previous"] = SimpleNamespace(**snapshot)
        referral.status = effects.target
        if effects.target != before:  # UPDATE keeps the state and its "since"
            referral.status_since = now
        if effects.deal_value is not None:
            referral.deal_value, referral.currency = effects.deal_value, effects.currency or referral.currency
        if effects.closing_date is not None:
            referral.closing_date = effects.closing_date
        deadlines.plan(referral, now=now, timeouts=config.timeouts, tz=config.bot.timezone)
        if effects.undoable and config.timeouts.undo_minutes:
            hold = context["undo_until"] = now + timedelta(minutes=config.timeouts.undo_minutes)
        if referral.status in lifecycle.DROPPED and next_offer(session, config, rfi, now=now):
            # The scheduler offers the RFI on once UNDO can no longer take the change back.
            referral.reoffer_due_at = hold or now
            context["reoffered"] = True
        record_event(session, referral, at=now, actor=actor, command=effects.trigger, from_status=before,
                     detail=effects.detail or detail, message_id=message_id, reason=reason,
                     reason_code=context["reason_code"], note=said.note if said else None,
                     before=_stored(snapshot) if effects.undoable else None, on_behalf_of=on_behalf_of)
    notices = config.customer_notices
    for email in effects.emails:
        if not sends(email, notices):
            continue
        if email.audience == "customer":
            mailer.queue(session, email.template, referral=referral, rfi=rfi, now=now, not_before=hold, **context)
            continue
        mailer.queue(session, email.template, referral=referral, rfi=rfi, now=now,
                     to=replier if "@" in replier else None, in_reply_to=message_id, **context)
    return effects


def sends(email: lifecycle.Email, notices) -> bool:
    """Whether an email of the lifecycle goes out: partner emails always, a customer's when
    ``[customer_notices]`` is enabled and the email's own switch is on."""
    return email.audience != "customer" or (notices.enabled and getattr(notices, email.switch))


def undo(session: Session, config: Config, referral: Referral, *, actor: str, now: datetime,
         message_id: str | None, line: str | None, on_behalf_of: str | None = None) -> str:
    """Take back the change that put the referral in its state, within ``timeouts.undo_minutes``:
    state, deadlines and estimate as they were, an event, and its held notices cancelled.
    Returns the command taken back."""
    change = session.exec(
        select(Event).where(Event.referral_id == referral.id, Event.to_status == referral.status,
                            Event.from_status != Event.to_status).order_by(Event.at.desc(), Event.id.desc())
    ).first()
    if change is None or change.before is None:
        raise NotValidNow(command="UNDO", line=line)
    closed = change.at + timedelta(minutes=config.timeouts.undo_minutes)
    if now >= closed:
        raise UndoClosed(command="UNDO", line=line, closed=closed, undone=change.command)
    undone_status = referral.status
    referral.status = change.from_status
    for key, value in _loaded(change.before).items():
        setattr(referral, key, value)
    cancelled = outbox.cancel_held(session, referral.id, since=change.at)
    record_event(session, referral, at=now, actor=actor, command="UNDO", from_status=undone_status,
                 message_id=message_id, on_behalf_of=on_behalf_of, detail=f"took back {change.command}"
                 + (f"; {len(cancelled)} notice(s) not sent" if cancelled else ""))
    return change.command


# What an undoable change replaces, kept on its event for UNDO (JSON: times and dates as ISO text).
_KEPT = ("status_since", "deadline_at", "next_reminder_at", "deal_value", "currency", "closing_date",
         "reoffer_due_at")


def _snapshot(referral: Referral) -> dict:
    return {key: getattr(referral, key) for key in _KEPT}


def _stored(snapshot: dict) -> dict:
    return {key: None if value is None else (str(value) if isinstance(value, Decimal) else
                                             value.isoformat() if isinstance(value, (date, datetime)) else value)
            for key, value in snapshot.items()}


def _loaded(stored: dict) -> dict:
    kinds = {"deal_value": Decimal, "closing_date": date.fromisoformat, "currency": str}
    return {key: None if value is None else kinds.get(key, datetime.fromisoformat)(value)
            for key, value in stored.items() if key in _KEPT}


def offer(session: Session, mailer: Mailer, config: Config, rfi: Rfi, chosen: Route, *, now: datetime,
          detail: str | None = None) -> Referral:
    """A new referral of ``rfi`` for the chosen profile, and its first email in the outbox."""
    referral = Referral(
        id=_free_id(session), rfi_id=rfi.id, partner_id=chosen.partner.id, profile_key=chosen.key,
        region=rfi.region, location=rfi.location, contact=chosen.profile.contact, locale=chosen.profile.locale,
        currency=chosen.profile.currency, status=lifecycle.INITIAL, status_since=now, created_at=now,
    )
    deadlines.plan(referral, now=now, timeouts=config.timeouts, tz=config.bot.timezone)
    session.add(referral)
    session.flush()
    record_event(session, referral, at=now, actor="system", command="RFI", from_status=None,
                 detail="; ".join(filter(None, [detail, *chosen.reasons])))
    mailer.queue(session, "partner/new_referral", referral=referral, rfi=rfi, now=now)
    return referral


def next_offer(session: Session, config: Config, rfi: Rfi, *, now: datetime) -> Route | None:
    """``matching.reoffer``: the next-best profile for an RFI that named no partner and has not
    yet gone to ``matching.max_offers`` profiles; None when it goes no further."""
    matching = config.matching
    if not matching.reoffer or rfi.partners:
        return None
    had = set(session.exec(select(Referral.profile_key).where(Referral.rfi_id == rfi.id)).all())
    if len(had) >= matching.max_offers:
        return None
    found = routing.ranked(rfi, config, history=ranking.history(session, config, rfi, now=now), leave_out=had)
    return found[0] if found else None


def _free_id(session: Session) -> str:
    while True:
        candidate = models.new_referral_id()
        if session.get(Referral, candidate) is None:
            return candidate


def entered_by(session: Session, referral: Referral) -> str:
    """Who put the referral into its current state: an address, "system" or "admin"."""
    last = session.exec(
        select(Event.actor).where(Event.referral_id == referral.id, Event.to_status == referral.status,
                                  or_(Event.from_status.is_(None), Event.from_status != Event.to_status))
        .order_by(Event.at.desc(), Event.id.desc())
    ).first()
    return last or "system"
