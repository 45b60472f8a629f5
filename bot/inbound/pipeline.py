"""One inbound message, start to finish, in one transaction:

    receive → duplicate → bounce / machine mail (an out-of-office goes on to the backup)
    → our own mail → authentication → correlation → who may act (the customer and a question
    are passed on to a person) → visible text → command → transition → outbox

The message is recorded on its inbound row before anything acts, so each Message-ID is applied
once across restarts and workers. Each step hands the message on or stops it with a named
``Stop`` (``bot.inbound.stops``), whose disposition says what happens: an answer, silence, or
held for an admin. Only a person allowed to act, writing about a referral we can find, changes
anything. `refbot referrals apply` enters at "who may act" (``handle_command``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session, select

from bot import access, commands, faults, lifecycle, referrals, tokens
from bot.app import App
from bot.db import transaction
from bot.errors import CommandError, NoCommand, NotFound, RefbotError, Refusal
from bot.inbound import crashes, limits, machines, stops
from bot.inbound.correlation import correlate
from bot.inbound.message import Inbound, TooComplex, authenticated, hashed_id, our_words, parse, sender_address
from bot.inbound.reply_text import visible_text, without_our_words
from bot.models import InboundMessage, OutboundMessage, Referral, Rfi

log = logging.getLogger(__name__)
_INBOUND = InboundMessage.__table__
_OUTCOME = update(_INBOUND).where(_INBOUND.c.id == bindparam("row_id"))  # what processing made of a message
# Made once, as Core: building the query and the ORM's compiling of it cost more than running it.
_SENT = select(OutboundMessage.__table__.c.raw).where(OutboundMessage.__table__.c.referral_id == bindparam("referral_id"))


class DatabaseUnavailable(RefbotError):
    """The database cannot be reached: leave the message where it is and try again later."""


@dataclass(frozen=True)
class Processed:
    message_id: str
    outcome: str  # a stop's outcome, or "applied:<TRIGGER>", or "limited"
    referral_id: str | None = None
    detail: str | None = None
    failed: bool = False  # True: the message belongs in the failed folder for an admin
    replied: bool = False  # whether refbot answered the sender (the reply limits count it)
    stop: stops.Stop | None = None


def process(app: App, raw: bytes, *, now: datetime, source: str = "", release_of: int | None = None) -> Processed:
    """Process one raw message. Never raises for bad mail; raises DatabaseUnavailable.

    ``release_of``: the inbound row of a held message an admin releases (`refbot inbox release`);
    it is processed again in its place, and the admin vouches for its sender (no DKIM check)."""
    try:
        inbound = parse(raw)
    except Exception as exc:  # too costly to read, or so broken that even the lenient parser gives up
        inbound = Inbound(message_id=hashed_id(raw), sender="", subject="", recipients=[], thread_ids=[])
        stop = (stops.TooComplex(str(exc)) if isinstance(exc, TooComplex)
                else stops.Unreadable(f"unreadable: {exc.__class__.__name__}: {exc}"))
        return set_aside(app, inbound, stop, now=now, source=source, raw=None if isinstance(exc, TooComplex) else raw)
    try:
        with transaction(app.engine) as session:
            if release_of is not None:  # in the same transaction: kept held if anything fails
                session.delete(session.get(InboundMessage, release_of))
                session.flush()
            # A Message-ID processed before, or in hand with another worker, stops here: the
            # column is unique (IntegrityError below), so no query needs to look first. Written
            # with Core, as its outcome below: nothing reads the row back as an object.
            inserted = session.connection().execute(insert(_INBOUND), {
                "message_id": inbound.message_id, "received_at": now, "sender": inbound.sender, "source": source,
                "outcome": "received", "replied": False})
            row = limits.Received(inserted.inserted_primary_key[0], inbound.sender)
            faults.crash_at("processing", raw)
            try:
                result = read(app, session, inbound, row, now=now, vouched=release_of is not None)
            except stops.Stop as stop:
                result = dispose(app, session, stop, sender=inbound.sender, row=row, now=now,
                                 message_id=inbound.message_id)
            session.connection().execute(_OUTCOME, {
                "row_id": row.id, "outcome": result.outcome, "referral_id": result.referral_id,
                "detail": result.detail and result.detail[:1000], "replied": result.replied,
                "raw": raw if result.failed else None})  # held: kept for `refbot inbox release`
            return _logged(result)
    except IntegrityError:
        return _logged(Processed(inbound.message_id, stops.Duplicate.outcome))
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(f"database unavailable: {exc.__class__.__name__}") from None
    except Exception as exc:  # a bug must not lose the message nor stop the loop
        log.exception("inbound processing failed", extra={"message_id": inbound.message_id})
        return set_aside(app, inbound, stops.Unreadable(f"{exc.__class__.__name__}: {exc}"), now=now, source=source,
                         raw=raw)


def read(app: App, session: Session, inbound: Inbound, row: limits.Received, *, now: datetime,
         vouched: bool = False) -> Processed:
    """The steps from machine mail to correlation; then the command, as for an admin."""
    if inbound.is_bounce:
        raise machines.bounce(app, session, inbound, now=now)
    if inbound.machine:
        raise machines.auto_reply(app, session, inbound, now=now)
    if _is_ourselves(app.config, inbound.sender):
        raise stops.OurOwn("from refbot's own address")
    security = app.config.security
    if security.require_dkim and not vouched and not authenticated(inbound, authserv_id=security.authserv_id):
        # A forged From must not act, nor get a reply: held for an admin.
        raise stops.Unauthenticated(f"no DKIM or DMARC pass for {inbound.sender} from {security.authserv_id}")
    found = correlate(app, session, inbound)  # held until the command has the referral in hand
    ours, addresses = _sent_about(session, found.referral_id)
    text = without_our_words(visible_text(inbound.body), ours=ours, addresses=addresses)
    result = handle_command(app, session, found.referral_id, sender=inbound.sender, text=text,
                            now=now, message_id=inbound.message_id, row=row)
    return Processed(result.message_id, result.outcome, result.referral_id,
                     f"matched by {found.matched_by}; {result.detail}", failed=result.failed, replied=result.replied,
                     stop=result.stop)


def handle_command(app: App, session: Session, referral_id: str, *, sender: str, text: str, now: datetime,
                   message_id: str | None = None, row: limits.Received | None = None) -> Processed:
    """Who may act → command → transition → outbox, and the answer when it stops. Without
    ``row`` (an admin acting by `refbot referrals apply`) no reply limit applies, and the
    timeline names the admin, acting for ``sender``."""
    try:
        return _apply_command(app, session, referral_id, sender=sender, text=text, now=now, message_id=message_id,
                              row=row)
    except stops.Stop as stop:
        return dispose(app, session, stop, sender=sender, row=row, now=now, message_id=message_id)


def _apply_command(app: App, session: Session, referral_id: str, *, sender: str, text: str, now: datetime,
                   message_id: str | None, row: limits.Received | None) -> Processed:
    try:
        referral = referrals.lock(session, referral_id)
    except NotFound:
        raise stops.Uncorrelated("no such referral", referral_id=referral_id) from None
    if not access.may_act(session, referral, sender):
        if access.is_customer(session, referral, sender):
            raise stops.CustomerReply(f"from the customer of {referral.id}", referral_id=referral.id, text=text)
        raise stops.Stranger(f"{sender} may not act on {referral.id}", referral_id=referral.id)
    today = now.astimezone(ZoneInfo(app.config.bot.timezone)).date()
    try:
        command = _read_command(text, referral, today=today)
        if command.name in lifecycle.ANSWERS and row is not None and not limits.may_reply(
                session, row, kind=f"applied:{command.name}", now=now, once_an_hour=False):
            return Processed(message_id, "limited", referral.id, "no answer: reply limit")
        by_admin = row is None
        effects = referrals.apply_trigger(session, app.mailer, app.config, referral, command, now=now,
                                          actor="admin" if by_admin else sender, on_behalf_of=sender if by_admin else None,
                                          message_id=message_id)
    except Refusal as refusal:
        if _is_question(refusal) and app.config.bot.admin_address:
            raise stops.Question(refusal, referral_id=referral.id, text=text) from None
        raise stops.Refused(refusal, referral_id=referral.id) from None
    log.info("reply applied", extra={"referral": referral.id, "command": effects.trigger, "status": referral.status})
    return Processed(message_id, f"applied:{effects.trigger}", referral.id, f"now {referral.status}", replied=True)


def _is_question(refusal: Refusal) -> bool:
    """Words without a command (not "not interested", which has its own hint): a question for a person."""
    return isinstance(refusal, NoCommand) and not refusal.why and bool(refusal.line)


def _read_command(text: str, referral: Referral, *, today) -> commands.Command:
    """The command in ``text``. A command that does not apply in the referral's state is
    refused for that, whatever is wrong with its arguments: fixing them would not help."""
    try:
        return commands.parse_reply(text, locale=referral.locale, currency=referral.currency, today=today)
    except CommandError as error:
        if error.command and error.command not in lifecycle.valid_commands(referral.status):
            raise lifecycle.refusal(referral.status, error.command, line=error.line) from None
        raise


def dispose(app: App, session: Session, stop: stops.Stop, *, sender: str, row: limits.Received | None, now: datetime,
            message_id: str | None) -> Processed:
    """What happens at ``stop``, as ``DISPOSITIONS`` says."""
    action = stops.disposition(stop)
    detail, replied = stop.detail, False
    referral = session.get(Referral, stop.referral_id) if stop.referral_id else None
    if isinstance(stop, stops.Refused) and referral is not None:
        detail = app.mailer.renderer.why(stop.refusal, referral=referral, by=referrals.entered_by(session, referral),
                                         now=now)
    forwarded = False
    if (isinstance(action, stops.Forward) or getattr(action, "forward", False)) and referral is not None:
        forwarded = _pass_on(app, session, stop, referral, sender=sender, now=now, message_id=message_id,
                             by_mail=row is not None)
        if forwarded:
            detail += f"; passed on to {app.config.bot.admin_address}"
        elif isinstance(action, stops.Forward):
            detail += "; held for an admin: no bot.admin_address"
    if isinstance(action, stops.Answer) and referral is not None:
        if action.only_to_partners and not access.is_partner_address(session, sender):
            log.warning("message from a stranger ignored", extra={"message_id": message_id, "outcome": stop.outcome})
        elif row is not None and not limits.may_reply(session, row, kind=stop.outcome, now=now,
                                                      once_an_hour=action.once_an_hour):
            detail += " (no answer: reply limit)"
        else:
            extra = {"refusal": stop.refusal, "forwarded": forwarded} if isinstance(stop, stops.Refused) else {}
            app.mailer.queue(session, action.template, referral=referral, rfi=session.get(Rfi, referral.rfi_id),
                             now=now, to=sender, in_reply_to=message_id, **extra)
            replied = True
    held = stops.holds(action) or (isinstance(action, stops.Forward) and not forwarded)
    return Processed(message_id or "", stop.outcome, stop.referral_id, detail, failed=held, replied=replied,
                     stop=stop)


def _pass_on(app: App, session: Session, stop: stops.Question | stops.CustomerReply, referral: Referral, *,
             sender: str, now: datetime, message_id: str | None, by_mail: bool) -> bool:
    """Record what a person wrote on the referral's timeline and forward it to
    ``bot.admin_address`` with the referral's summary, answerable straight to the sender.
    False when there is no admin address (or an admin typed it): nothing is forwarded."""
    admin = app.config.bot.admin_address
    forward = bool(admin and by_mail)
    referrals.record_event(session, referral, at=now, actor=sender, command=stop.outcome.upper(),
                           from_status=referral.status, message_id=message_id, note=stop.text or None,
                           detail=f"passed on to {admin}" if forward else None)
    if forward:
        app.mailer.queue(session, "admin/forward", referral=referral, rfi=session.get(Rfi, referral.rfi_id), now=now,
                         to=admin, reply_to=sender, sender=sender, text=stop.text, kind=stop.outcome)
    return forward


def _sent_about(session: Session, referral_id: str) -> tuple[list[str], set[str]]:
    """Both parts of every email refbot sent about the referral (the HTML read as text), and
    their reply addresses: whatever a reply quotes of them is not the partner's command, in
    whatever language the client marks the quote, and however it copies a button's link."""
    rows = session.execute(_SENT, {"referral_id": referral_id}).scalars()
    texts, addresses = [], set()
    for raw in rows:
        parts, reply_to = our_words(raw)
        texts += parts
        if reply_to:
            addresses.add(reply_to)
    return texts, addresses


def _is_ourselves(config, sender: str) -> bool:
    return sender == config.smtp.from_address or tokens.find_in_address(config.smtp.reply_address, sender) is not None


def record_too_large(app: App, headers: bytes, *, now: datetime, source: str) -> Processed:
    """A message over the size limit, read no further than its headers: recorded, set aside."""
    inbound = parse(headers)
    log.warning("inbound message too large", extra={"message_id": inbound.message_id, "source": source})
    stop = stops.TooLarge(f"over inbound.max_message_bytes ({app.config.inbound.max_message_bytes} bytes); not read")
    return set_aside(app, inbound, stop, now=now, source=source)


def record_crasher(app: App, raw: bytes, *, times: int, now: datetime, source: str) -> Processed:
    """A message that took the worker down ``times`` times: set aside unread (reading it may
    be what kills the worker), with its bytes, so that an admin can look at it."""
    inbound = Inbound(message_id=crashes.message_id(raw) or hashed_id(raw),
                      sender=sender_address(crashes.from_header(raw)), subject="", recipients=[], thread_ids=[])
    stop = stops.Crashed(f"the worker died {times} times with this message in hand; not tried again")
    return set_aside(app, inbound, stop, now=now, source=source, raw=raw)


def set_aside(app: App, inbound: Inbound, stop: stops.Stop, *, now: datetime, source: str,
              raw: bytes | None = None) -> Processed:
    """Record a message that could not go through the pipeline (with its bytes, for a release);
    it is held for an admin, and held even when recording it fails: one message never stops
    the inbox."""
    try:
        with transaction(app.engine) as session:
            session.add(InboundMessage(message_id=inbound.message_id, received_at=now, sender=inbound.sender,
                                       outcome=stop.outcome, detail=stop.detail[:1000], source=source, raw=raw))
    except IntegrityError:
        pass  # recorded before: a redelivery of the same message
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(f"database unavailable: {exc.__class__.__name__}") from None
    except Exception:  # whatever the database makes of it, the message is held
        log.exception("could not record a message set aside", extra={"message_id": inbound.message_id})
    return _logged(Processed(inbound.message_id, stop.outcome, detail=stop.detail, failed=True, stop=stop))


def _logged(result: Processed) -> Processed:
    # Ids and outcomes only: the detail may quote what people wrote, and is kept with the
    # message in the database for admins (`refbot inbox review`, the dashboard).
    log.info("inbound message", extra={"message_id": result.message_id, "outcome": result.outcome,
                                       "referral": result.referral_id})
    return result
