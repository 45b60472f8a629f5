"""Which referral a message is about (SPEC §4): its signed token first (To, Cc, Delivered-To,
X-Original-To), then its thread (In-Reply-To, References) against the Message-IDs refbot sent,
then the subject tag. A token whose signature does not verify is forged."""

from __future__ import annotations

from typing import NamedTuple

from sqlmodel import Session, select

from bot import tokens
from bot.app import App
from bot.inbound import stops
from bot.inbound.message import Inbound
from bot.models import OutboundMessage, Referral


class Correlation(NamedTuple):
    referral_id: str
    matched_by: str  # "token", "thread" or "subject"
    # The referral when finding it loaded it: while someone holds it, the session's identity
    # map (which holds its objects weakly) gives it back without another query.
    referral: Referral | None = None


def correlate(app: App, session: Session, inbound: Inbound) -> Correlation:
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
        return Correlation(referral.id, "token", referral)
    if inbound.thread_ids:
        found = session.exec(
            select(OutboundMessage.referral_id).where(OutboundMessage.message_id.in_(inbound.thread_ids),
                                                      OutboundMessage.referral_id.is_not(None))
        ).first()
        if found:
            return Correlation(found, "thread")
    tagged = inbound.subject_referral
    if tagged and (referral := session.get(Referral, tagged)) is not None:
        return Correlation(tagged, "subject", referral)
    raise stops.Uncorrelated("no token, thread or subject tag names a referral")
