"""Mail held for an admin: what the pipeline set aside (``Hold`` in ``DISPOSITIONS``), kept
with its bytes so that `refbot inbox release` can process it again as if it had just arrived.

A message set aside unread (over ``inbound.max_message_bytes``) was never read whole, so it
cannot be released; the copy in the IMAP failed folder is the admin's.
"""

from __future__ import annotations

import email
from datetime import datetime
from email.policy import default as default_policy

from sqlalchemy import func
from sqlmodel import Session, select

from bot.app import App
from bot.db import transaction
from bot.errors import BadInput, NotFound
from bot.inbound import stops
from bot.inbound.pipeline import Processed, process
from bot.models import InboundMessage

HELD: tuple[str, ...] = tuple(sorted(kind.outcome for kind, action in stops.DISPOSITIONS.items()
                                     if stops.holds(action)))


def held(session: Session, *, limit: int, offset: int = 0) -> list[InboundMessage]:
    """Held messages, newest first."""
    query = (select(InboundMessage).where(InboundMessage.outcome.in_(HELD))
             .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).offset(offset).limit(limit))
    return list(session.exec(query).all())


def count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(InboundMessage).where(InboundMessage.outcome.in_(HELD))).one()


def subject(row: InboundMessage) -> str | None:
    """The Subject of a held message, when its bytes were kept."""
    if row.raw is None:
        return None
    headers = row.raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        return " ".join(str(email.message_from_bytes(headers, policy=default_policy)["Subject"] or "").split())
    except Exception:  # a header so broken the parser gives up on it
        return None


def release(app: App, row_id: int, *, now: datetime) -> Processed:
    """Process a held message again, as if it had just arrived (the admin vouches for its sender)."""
    with transaction(app.engine) as session:
        row = session.get(InboundMessage, row_id)
        if row is None:
            raise NotFound(f"inbound message {row_id}: no such message (see `refbot inbox review`)")
        if row.outcome not in HELD:
            raise BadInput(f"inbound message {row_id} is not held (it was {row.outcome}); nothing to release")
        if row.raw is None:
            raise BadInput(f"inbound message {row_id} was set aside unread ({row.detail}); its content was not kept: "
                           "find it in the inbound failed folder")
        raw = row.raw
    return process(app, raw, now=now, source=f"released from {row_id}", release_of=row_id)
