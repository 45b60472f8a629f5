"""Applying a trigger to a referral inside a transaction: state, deadlines, timeline and
the emails it causes, all in the caller's one transaction.

``act_on_reply`` is the one code path for a partner command, whether it came in a real
reply or through ``refbot referrals apply``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot import commands, deadlines, lifecycle
from bot.config import Config
from bot.errors import AlreadyInEffect, Archived, NotAllowed, NotFound, Refusal
from bot.models import Event, ProfileRow, Referral, Rfi
from bot.outbound.mailer import Mailer, other_open
from bot.outbound.render import zone_label

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a reply did: applied (with the trigger) or refused (with the refusal)."""

    referral_id: str
    status: str
    applied: str | None = None
    refusal: Refusal | None = None
    limited: bool = False  # an answer was due but the reply limits held it back


def lock(session: Session, referral_id: str) -> Referral:
    """Load a referral for change; on PostgreSQL other workers wait until we commit."""
    referral = session.exec(select(Referral).where(Referral.id == referral_id).with_for_update()).first()
    if referral is None:
        raise NotFound(f"referral {referral_id}: no such referral (see `refbot referrals list`)")
    return referral


def act_on_reply(session: Session, mailer: Mailer, config: Config, *, referral_id: str, text: str,
                 sender: str, now: datetime, message_id: str | None = None,
                 allow_reply: Callable[[str], bool] = lambda kind: True) -> Outcome:
    """Read ``text`` as a partner command from ``sender`` and apply it, or answer why not.

    Raises NotAllowed (and sends nothing) when the sender may not act on the referral.
    ``allow_reply(kind)`` decides whether an answer that changes nothing (a refusal, STATUS,
    HELP) may be sent; inbound mail uses it to keep to the reply limits.
    """
    referral = lock(session, referral_id)
    profile = session.get(ProfileRow, referral.profile_key)
    if not (profile and profile.may_act(sender)) and sender.lower() != referral.contact.lower():
        raise NotAllowed(f"{sender} is not a contact or team member of the profile that received {referral.id}",
                         message_de=f"{sender} ist weder Kontakt noch Teammitglied des Profils, das {referral.id} "
                                    "erhalten hat.")
    rfi = session.get(Rfi, referral.rfi_id)
    today = now.astimezone(ZoneInfo(config.bot.timezone)).date()
    try:
        command = commands.parse_reply(text, locale=referral.locale, currency=referral.currency, today=today)
        if command.name in lifecycle.INFORMATIONAL and not allow_reply(command.name):
            return Outcome(referral.id, referral.status, limited=True)
        trigger = apply_trigger(session, mailer, config, referral, command, actor=sender, now=now,
                                message_id=message_id, in_reply_to=message_id)
    except Refusal as refusal:
        explain(session, refusal, referral, config)
        if not allow_reply(f"refused:{refusal.code}"):
            return Outcome(referral.id, referral.status, refusal=refusal, limited=True)
        mailer.queue(session, "partner/refusal", referral=referral, rfi=rfi, now=now, to=sender,
                     in_reply_to=message_id, refusal=refusal)
        log.info("reply refused", extra={"referral": referral.id, "refusal": refusal.code})
        return Outcome(referral.id, referral.status, refusal=refusal)
    log.info("reply applied", extra={"referral": referral.id, "command": trigger, "status": referral.status})
    return Outcome(referral.id, referral.status, applied=trigger)


def apply_trigger(session: Session, mailer: Mailer, config: Config, referral: Referral,
                  command: commands.Command | str, *, actor: str, now: datetime, message_id: str | None = None,
                  in_reply_to: str | None = None, detail: str | None = None) -> str:
    """Apply a command or TIMEOUT to a locked referral; raise the refusal when it does not apply."""
    effects = lifecycle.apply(referral, command, actor=actor, now=now)
    rfi = session.get(Rfi, referral.rfi_id)
    if effects.target is not None:
        event = Event(referral_id=referral.id, at=now, from_status=referral.status, to_status=effects.target,
                      actor=actor, command=effects.trigger, detail=effects.detail or detail, message_id=message_id)
        session.add(event)
        referral.status, referral.status_since = effects.target, now
        if effects.deal_value is not None:
            referral.deal_value, referral.currency = effects.deal_value, effects.currency or referral.currency
        if effects.closing_date is not None:
            referral.closing_date = effects.closing_date
        deadlines.plan(referral, now=now, timeouts=config.timeouts, tz=config.bot.timezone)
    for email in effects.emails:
        if email.audience == "customer" and not _customer_notice_wanted(config, email.template):
            continue
        extra = {"actor": actor, "reason": None if isinstance(command, str) else command.reason}
        if email.template == "customer/redirect":
            extra["other_open"] = other_open(session, referral)
        if email.template == "partner/status":
            extra["events"] = timeline(session, referral.id)
        # The partner who replied gets the answer (a team member, say); timeouts go to the contact.
        partner_to = actor if "@" in actor else None
        mailer.queue(session, email.template, referral=referral, rfi=rfi, now=now,
                     to=partner_to if email.audience == "partner" else None,
                     in_reply_to=in_reply_to if email.audience == "partner" else None, **extra)
    return effects.trigger


def _customer_notice_wanted(config: Config, template: str) -> bool:
    notices = config.customer_notices
    if template == "customer/partner_will_contact":
        return notices.enabled and notices.partner_will_contact
    return notices.enabled


def timeline(session: Session, referral_id: str) -> list[Event]:
    return list(session.exec(select(Event).where(Event.referral_id == referral_id).order_by(Event.at, Event.id)).all())


def explain(session: Session, refusal: Refusal, referral: Referral, config: Config) -> None:
    """Add to an already-in-effect or archived refusal since when and by whom."""
    if not isinstance(refusal, (AlreadyInEffect, Archived)):
        return
    last = session.exec(
        select(Event).where(Event.referral_id == referral.id, Event.to_status == referral.status)
        .order_by(Event.at.desc(), Event.id.desc())
    ).first()
    when = local_time(referral.status_since, config.bot.timezone)
    when_de = local_time(referral.status_since, config.bot.timezone, locale="de")
    who = last.actor if last else "system"
    who_de = {"system": "automatisch", "admin": "durch die Administration"}.get(who, f"von {who}")
    status_de = lifecycle.state_de(referral.status)
    if isinstance(refusal, Archived):
        refusal.message = f"This referral was archived as {referral.status} on {when} (by {who}); nothing changes it any more."
        refusal.message_de = (f"Diese Empfehlung wurde am {when_de} als „{status_de}“ archiviert ({who_de}) "
                              "und kann nicht mehr geändert werden.")
    else:
        refusal.message = f"Already {referral.status} since {when} by {who}; nothing changed."
        refusal.message_de = (f"Die Empfehlung ist bereits seit {when_de} im Status „{status_de}“ ({who_de}); "
                              "es wurde nichts geändert.")


def local_time(moment: datetime, tz: str, *, locale: str = "en") -> str:
    """A stored time in the bot's time zone: "2026-11-24 11:00 CET"; German "24.11.2026, 11:00 MEZ"."""
    local = moment.astimezone(ZoneInfo(tz))
    if locale == "de":  # as the German emails show times
        return f"{local:%d.%m.%Y, %H:%M} {zone_label(local, 'de')}"
    return local.strftime("%Y-%m-%d %H:%M %Z")


def referral_summary(session: Session, referral: Referral, *, with_events: bool) -> dict:
    """The JSON shape of SPEC §7 for one referral."""
    rfi = session.get(Rfi, referral.rfi_id)
    data = {
        "id": referral.id, "rfi_id": referral.rfi_id, "partner": referral.partner_id,
        "region": referral.region, "location": referral.location, "contact": referral.contact,
        "status": referral.status, "archived": referral.archived,
        "deal_value": None if referral.deal_value is None else str(referral.deal_value),
        "currency": referral.currency,
        "closing_date": referral.closing_date.isoformat() if referral.closing_date else None,
        "created_at": iso(referral.created_at), "status_since": iso(referral.status_since),
        "deadline_at": iso(referral.deadline_at), "next_reminder_at": iso(referral.next_reminder_at),
        "bounce": referral.bounce,
        "customer": dict(rfi.customer) if rfi else {},
        "need": rfi.need if rfi else None,
    }
    if with_events:
        data["events"] = [
            {"at": iso(e.at), "from": e.from_status, "to": e.to_status, "actor": e.actor,
             "command": e.command, "detail": e.detail, "message_id": e.message_id}
            for e in timeline(session, referral.id)
        ]
    return data


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")
