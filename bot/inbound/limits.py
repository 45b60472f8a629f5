"""The reply limits of SPEC §3, so that refbot cannot be drawn into a mail loop: to one sender,
at most one answer of the same kind an hour and ten answers a day. They are counted from the
inbound table, where every message and whether it was answered is recorded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func
from sqlmodel import Session, select

from bot.models import InboundMessage

REPLIES_PER_DAY = 10
SAME_KIND_EVERY = timedelta(hours=1)


class Received(NamedTuple):
    """The inbound row of the message being answered, as far as the limits need it."""

    id: int
    sender: str | None


def may_reply(session: Session, row: Received, *, kind: str, now: datetime, once_an_hour: bool) -> bool:
    """Whether the sender of ``row`` may get an answer of ``kind`` (an outcome, such as
    "refused:bad_value"); ``once_an_hour`` for refusals, which repeat when a sender loops."""
    answered = select(func.count()).select_from(InboundMessage).where(
        InboundMessage.sender == row.sender, InboundMessage.replied.is_(True), InboundMessage.id != row.id)
    if session.exec(answered.where(InboundMessage.received_at > now - timedelta(days=1))).one() >= REPLIES_PER_DAY:
        return False
    if not once_an_hour:
        return True
    same = answered.where(InboundMessage.outcome == kind, InboundMessage.received_at > now - SAME_KIND_EVERY)
    return not session.exec(same).one()
