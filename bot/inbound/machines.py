"""What machine mail does, though it is never answered: a delivery report is recorded on the
referral whose email it returns, and the contact's out-of-office reply to a new referral sends
that referral's first email on to the profile's backup and team (SPEC §2, §3)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot import lifecycle, referrals, tokens
from bot.app import App
from bot.inbound import stops
from bot.inbound.correlation import correlate
from bot.inbound.message import SUBJECT_TAG, Inbound
from bot.models import Event, OutboundMessage, ProfileRow, Referral, Rfi


def bounce(app: App, session: Session, inbound: Inbound, *, now: datetime) -> stops.Bounce:
    """Record a delivery report on the referral whose email it returns: found by the returned
    Message-ID, else by a reply token or the subject tag in the report or returned headers."""
    original = session.exec(select(OutboundMessage).where(OutboundMessage.message_id.in_(inbound.bounce_of))
                            .order_by(OutboundMessage.id)).first() if inbound.bounce_of else None
    referral = session.get(Referral, original.referral_id) if original and original.referral_id else None
    if referral is None:
        referral = _referral_named_in(app, session, f"{inbound.subject}\n{inbound.bounce_text}")
    if referral is None:
        return stops.Bounce("delivery report for no message of ours that we can find")
    what = f"{original.kind} to {original.recipient}" if original else "an email about it"
    detail = f"{what} bounced" + (f": {inbound.bounce_detail}" if inbound.bounce_detail else "")
    referral.bounce = detail[:500]
    referrals.record_event(session, referral, at=now, actor="system", command="BOUNCE", from_status=referral.status,
                           detail=detail, message_id=inbound.message_id)
    return stops.Bounce(detail, referral_id=referral.id)


def _referral_named_in(app: App, session: Session, text: str) -> Referral | None:
    for token in tokens.find_in_text(app.config.smtp.reply_address, text):
        referral = session.get(Referral, tokens.parse(token)[0])
        if referral is not None and tokens.verify(app.mailer.secret, token, referral.profile_key):
            return referral
    tagged = SUBJECT_TAG.search(text)
    return session.get(Referral, tagged.group(1).upper()) if tagged else None


def auto_reply(app: App, session: Session, inbound: Inbound, *, now: datetime) -> stops.MachineMail:
    """Machine mail other than a bounce: the contact's out-of-office reply to a new referral
    sends its first email at once to the profile's backup and team, once per referral."""
    if not inbound.is_auto_reply:
        return stops.MachineMail(inbound.machine)
    try:
        referral_id = correlate(app, session, inbound).referral_id
    except stops.Stop:
        return stops.MachineMail(inbound.machine)
    referral = referrals.lock(session, referral_id)
    if referral.status != lifecycle.INITIAL or inbound.sender != referral.contact.lower():
        return stops.MachineMail(inbound.machine, referral_id=referral.id)
    if session.exec(select(Event.id).where(Event.referral_id == referral.id,
                                           Event.command == stops.OutOfOffice.outcome.upper())).first():
        return stops.MachineMail(f"{inbound.machine}; already sent on to the backup and team", referral_id=referral.id)
    profile = session.get(ProfileRow, referral.profile_key)
    had = set(session.exec(select(OutboundMessage.recipient).where(OutboundMessage.referral_id == referral.id)).all())
    others = [a for a in dict.fromkeys([profile.backup, *profile.team]) if a and a not in had] if profile else []
    rfi = session.get(Rfi, referral.rfi_id)
    for address in others:
        app.mailer.queue(session, "partner/new_referral", referral=referral, rfi=rfi, now=now, to=address,
                         away=referral.contact)
    detail = f"{referral.contact} is away: first email sent to {', '.join(others) or 'nobody (no backup or team)'}"
    referrals.record_event(session, referral, at=now, actor="system", command=stops.OutOfOffice.outcome.upper(),
                           from_status=referral.status, detail=detail, message_id=inbound.message_id)
    return stops.OutOfOffice(detail, referral_id=referral.id)
