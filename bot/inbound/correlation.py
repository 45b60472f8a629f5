"""Which referral a message is about (SPEC §4): its signed token first (To, Cc, Delivered-To,
X-Original-To), then its thread (In-Reply-To, References) against the Message-IDs refbot sent,
then the subject tag. A token whose signature does not verify is forged."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam
from sqlmodel import Session, select

from bot import tokens
from bot.app import App
from bot.inbound import stops
from bot.inbound.message import Inbound
from bot.models import OutboundMessage, ProfileRow, Referral, Rfi


class Correlation(NamedTuple):
    referral_id: str
    matched_by: str  # "token", "thread" or "subject"
    # The referral with its RFI and profile when finding it loaded them: while someone holds
    # them, the session's identity map (which holds its objects weakly) gives them back to the
    # lock, to who may act and to the change without a query each.
    held: tuple = ()


def correlate(app: App, session: Session, inbound: Inbound) -> Correlation:
    """The referral a message is about and how it was found: by token, thread or subject tag."""
    template = app.config.smtp.reply_address
    for address in inbound.recipients:
        token = tokens.find_in_address(template, address)
        if token is None:
            continue
        parsed = tokens.parse(token)
        held = _load(session, parsed[0]) if parsed else ()
        referral = held[0] if held else None
        if referral is None or not tokens.verify(app.mailer.secret, token, referral.profile_key):
            raise stops.Forged("the token's signature does not verify", referral_id=referral.id if referral else None)
        return Correlation(referral.id, "token", held)
    if inbound.thread_ids:
        found = session.exec(
            select(OutboundMessage.referral_id).where(OutboundMessage.message_id.in_(inbound.thread_ids),
                                                      OutboundMessage.referral_id.is_not(None))
        ).first()
        if found:
            return Correlation(found, "thread")
    tagged = inbound.subject_referral
    if tagged and (held := _load(session, tagged)):
        return Correlation(tagged, "subject", held)
    raise stops.Uncorrelated("no token, thread or subject tag names a referral")


def _load(session: Session, referral_id: str) -> tuple:
    """The referral, its RFI and its profile (None if the config dropped it), by one query; () if
    there is no such referral."""
    return tuple(session.exec(_LOAD, params={"referral_id": referral_id}).first() or ())


_LOAD = (select(Referral, Rfi, ProfileRow).join(Rfi, Rfi.id == Referral.rfi_id)
         .join(ProfileRow, ProfileRow.key == Referral.profile_key, isouter=True)
         .where(Referral.id == bindparam("referral_id")))
