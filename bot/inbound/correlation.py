"""Which referral a message is about (SPEC §4): its signed token first (To, Cc, Delivered-To,
X-Original-To), then its thread (In-Reply-To, References) against the Message-IDs refbot sent,
then the subject tag. A token whose signature does not verify is forged."""

from __future__ import annotations

from sqlmodel import Session, select

from bot import tokens
from bot.app import App
from bot.inbound import stops
from bot.inbound.message import Inbound
from bot.models import OutboundMessage, Referral


def correlate(app: App, session: Session, inbound: Inbound) -> tuple[str, str]:
    """The referral a message is about and how it was found: by token, thread or subject tag."""
    template = app.config.smtp.reply_address
    for address in inbound.recipients:
        token = tokens.find_in_address(template, address)
        if token is None:
            continue
        parsed = tokens.parse(token)
        referral = session.get(Referral, parsed[0]) if parsed else None
        if referral is None or not tokens.verify(app.mailer.secret, token, referral.profile_key):
            raise stops.Forged("the token's signature does not verify", referral_id=referral.id if referral else None)
        return referral.id, "token"
    if inbound.thread_ids:
        found = session.exec(
            select(OutboundMessage.referral_id).where(OutboundMessage.message_id.in_(inbound.thread_ids),
                                                      OutboundMessage.referral_id.is_not(None))
        ).first()
        if found:
            return found, "thread"
    tagged = inbound.subject_referral
    if tagged and session.get(Referral, tagged) is not None:
        return tagged, "subject"
    raise stops.Uncorrelated("no token, thread or subject tag names a referral")
