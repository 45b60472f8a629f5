"""One inbound message, start to finish, in one transaction.

The steps run in a fixed order, each ending in a named outcome recorded on the message's
inbound row, which is written before anything acts: duplicate, machine mail, delivery
report, correlation, who may act, then the command. Only a person allowed to act, writing
about a referral we can find, changes anything.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session, select

from bot import actions, tokens
from bot.app import App
from bot.db import transaction
from bot.errors import NotAllowed, NotFound, RefbotError
from bot.inbound.message import Inbound, authenticated, parse
from bot.models import Event, InboundMessage, OutboundMessage, ProfileRow, Referral, Rfi

log = logging.getLogger(__name__)

REPLIES_PER_DAY = 10
SAME_REFUSAL_EVERY = timedelta(hours=1)


class DatabaseUnavailable(RefbotError):
    """The database cannot be reached: leave the message where it is and try again later."""


@dataclass(frozen=True)
class Processed:
    message_id: str
    outcome: str
    referral_id: str | None = None
    detail: str | None = None
    failed: bool = False  # True: the message belongs in the failed folder for an admin


def process(app: App, raw: bytes, *, now: datetime, source: str = "") -> Processed:
    """Process one raw message. Never raises for bad mail; raises DatabaseUnavailable."""
    try:
        inbound = parse(raw)
    except Exception as exc:  # mail so broken that even the lenient parser gives up
        inbound = Inbound(message_id=f"<sha256-{hashlib.sha256(raw).hexdigest()[:40]}@refbot.invalid>",
                          sender="", subject="", recipients=[], thread_ids=[])
        return _record_failure(app, inbound, now=now, source=source, detail=f"unreadable: {exc.__class__.__name__}: {exc}")
    try:
        with transaction(app.engine) as session:
            if session.exec(select(InboundMessage.id).where(InboundMessage.message_id == inbound.message_id)).first():
                return _logged(Processed(inbound.message_id, "duplicate"))
            row = InboundMessage(message_id=inbound.message_id, received_at=now, sender=inbound.sender, source=source)
            session.add(row)
            session.flush()  # a second worker with the same Message-ID stops here
            result = understand(app, session, inbound, row, now=now)
            row.outcome, row.referral_id, row.detail = result.outcome, result.referral_id, result.detail
            return _logged(result)
    except IntegrityError:
        return _logged(Processed(inbound.message_id, "duplicate"))
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(f"database unavailable: {exc.__class__.__name__}") from None
    except Exception as exc:  # a bug must not lose the message nor stop the loop
        log.exception("inbound processing failed", extra={"message_id": inbound.message_id})
        return _record_failure(app, inbound, now=now, source=source, detail=f"{exc.__class__.__name__}: {exc}")


def understand(app: App, session: Session, inbound: Inbound, row: InboundMessage, *, now: datetime) -> Processed:
    config, mid = app.config, inbound.message_id
    if inbound.is_bounce:
        return _bounce(session, inbound, now=now)
    if inbound.machine:
        return Processed(mid, "machine", detail=inbound.machine)
    if _is_ourselves(config, inbound.sender):
        return Processed(mid, "machine", detail="our own address")
    if config.security.require_dkim and not authenticated(inbound, authserv_id=config.security.authserv_id):
        # Held for an admin in the failed folder: a forged From must not act, nor get a reply.
        return Processed(mid, "unauthenticated", detail=f"no DKIM or DMARC pass for {inbound.sender} "
                         f"from {config.security.authserv_id}", failed=True)
    referral_id, matched_by, forged = correlate(app, session, inbound)
    if forged:
        _refuse_stranger(app, session, inbound, row, referral_id, now=now, kind="forged")
        return Processed(mid, "forged", referral_id, "the token's signature does not verify")
    if referral_id is None:
        return Processed(mid, "uncorrelated", detail="no token, thread or subject tag names a referral", failed=True)
    try:
        outcome = actions.act_on_reply(
            session, app.mailer, config, referral_id=referral_id, text=inbound.text, sender=inbound.sender,
            now=now, message_id=mid, allow_reply=lambda kind: _may_reply(session, inbound.sender, kind, now=now, row=row),
        )
    except NotAllowed:
        _refuse_stranger(app, session, inbound, row, referral_id, now=now, kind="stranger")
        return Processed(mid, "stranger", referral_id, f"{inbound.sender} may not act (matched by {matched_by})")
    except NotFound:
        return Processed(mid, "uncorrelated", referral_id, "no such referral", failed=True)
    if outcome.refusal:
        row.replied = not outcome.limited
        detail = outcome.refusal.message + (" (no reply: reply limit)" if outcome.limited else "")
        return Processed(mid, f"refused:{outcome.refusal.code}", referral_id, detail)
    if outcome.limited:
        return Processed(mid, "limited", referral_id, "no reply: reply limit")
    row.replied = True
    return Processed(mid, f"applied:{outcome.applied}", referral_id, f"matched by {matched_by}; now {outcome.status}")


def correlate(app: App, session: Session, inbound: Inbound) -> tuple[str | None, str | None, bool]:
    """The referral a message is about, how it was found, and whether its token is forged."""
    template = app.config.smtp.reply_address
    for address in inbound.recipients:
        token = tokens.find_in_address(template, address)
        if token is None:
            continue
        parsed = tokens.parse(token)
        referral = session.get(Referral, parsed[0]) if parsed else None
        if referral is None or not tokens.verify(app.mailer.secret, token, referral.profile_key):
            return (parsed[0] if parsed and referral else None), "token", True
        return referral.id, "token", False
    if inbound.thread_ids:
        found = session.exec(
            select(OutboundMessage.referral_id).where(OutboundMessage.message_id.in_(inbound.thread_ids),
                                                      OutboundMessage.referral_id.is_not(None))
        ).first()
        if found:
            return found, "thread", False
    tagged = inbound.subject_referral
    if tagged and session.get(Referral, tagged) is not None:
        return tagged, "subject", False
    return None, None, False


def _bounce(session: Session, inbound: Inbound, *, now: datetime) -> Processed:
    """Record a delivery report on the referral whose email it returns; never answer it."""
    mid = inbound.message_id
    if not inbound.bounce_of:
        return Processed(mid, "bounce", detail="delivery report for an unknown message")
    original = session.exec(select(OutboundMessage).where(OutboundMessage.message_id.in_(inbound.bounce_of))).first()
    if original is None or original.referral_id is None:
        return Processed(mid, "bounce", detail="delivery report for a message we did not send")
    referral = session.get(Referral, original.referral_id)
    detail = f"{original.kind} to {original.recipient} bounced" + (f": {inbound.bounce_detail}" if inbound.bounce_detail else "")
    referral.bounce = detail[:500]
    session.add(Event(referral_id=referral.id, at=now, from_status=referral.status,
                      to_status=referral.status, actor="system", command="BOUNCE", detail=detail[:500], message_id=mid))
    return Processed(mid, "bounce", referral.id, detail)


def _refuse_stranger(app: App, session: Session, inbound: Inbound, row: InboundMessage, referral_id: str | None,
                     *, now: datetime, kind: str) -> None:
    """A short refusal to a known partner address; silence for anyone else."""
    referral = session.get(Referral, referral_id) if referral_id else None
    if referral is None or not _is_partner_address(session, inbound.sender):
        log.warning("message from a stranger ignored", extra={"message_id": inbound.message_id, "outcome": kind})
        return
    if not _may_reply(session, inbound.sender, f"refused:{kind}", now=now, row=row):
        return
    refusal = NotAllowed(
        "This address may not act on this referral, or the reply address was changed. "
        "Reply from the address that received the referral, to the email refbot sent.",
        message_de="Diese Adresse darf die Empfehlung nicht ändern, oder die Antwortadresse wurde verändert. "
                   "Bitte antworten Sie von der Adresse, an die die Empfehlung ging, direkt auf unsere E-Mail.")
    app.mailer.queue(session, "partner/refusal", referral=referral, rfi=session.get(Rfi, referral.rfi_id), now=now,
                     to=inbound.sender, in_reply_to=inbound.message_id, refusal=refusal)
    row.replied = True


def _is_partner_address(session: Session, address: str) -> bool:
    for profile in session.exec(select(ProfileRow)).all():
        if profile.may_act(address):
            return True
    return False


def _is_ourselves(config, sender: str) -> bool:
    return sender == config.smtp.from_address or tokens.find_in_address(config.smtp.reply_address, sender) is not None


def _may_reply(session: Session, sender: str, kind: str, *, now: datetime, row: InboundMessage) -> bool:
    """At most one reply of the same kind an hour and ten replies a day to one sender."""
    answered = select(func.count()).select_from(InboundMessage).where(
        InboundMessage.sender == sender, InboundMessage.replied.is_(True), InboundMessage.id != row.id)
    if session.exec(answered.where(InboundMessage.received_at > now - timedelta(days=1))).one() >= REPLIES_PER_DAY:
        return False
    same = answered.where(InboundMessage.outcome == kind, InboundMessage.received_at > now - SAME_REFUSAL_EVERY)
    return not (kind.startswith("refused:") and session.exec(same).one())


def record_too_large(app: App, headers: bytes, *, now: datetime, source: str) -> Processed:
    """A message over the size limit, read no further than its headers: recorded, set aside."""
    inbound = parse(headers)
    detail = f"over inbound.max_message_bytes ({app.config.inbound.max_message_bytes} bytes); not read"
    log.warning("inbound message too large", extra={"message_id": inbound.message_id, "source": source})
    return _record_failure(app, inbound, now=now, source=source, detail=detail, outcome="too_large")


def _record_failure(app: App, inbound: Inbound, *, now: datetime, source: str, detail: str,
                    outcome: str = "failed") -> Processed:
    try:
        with transaction(app.engine) as session:
            session.add(InboundMessage(message_id=inbound.message_id, received_at=now, sender=inbound.sender,
                                       outcome=outcome, detail=detail[:1000], source=source))
    except IntegrityError:
        pass
    return Processed(inbound.message_id, outcome, detail=detail, failed=True)


def _logged(result: Processed) -> Processed:
    log.info("inbound message", extra={"message_id": result.message_id, "outcome": result.outcome,
                                       "referral": result.referral_id, "detail": result.detail})
    return result
