"""The persistent outbox: messages commit with the change that causes them, and a sender
delivers them with retries and backoff.

Each row holds the rendered bytes with their Message-ID, so a retry resends exactly the
same message. A row is claimed before sending (several workers never send it together)
and marked sent right after the server accepts it, so it is never sent twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.db import transaction
from bot.errors import BadInput, DeliveryError, NotFound
from bot.models import OutboundMessage, Referral
from bot.outbound.transports import PermanentFailure, Transport

log = logging.getLogger(__name__)
CLAIM_SECONDS = 300  # a worker that dies mid-send frees its claim after this
# Bodies are encoded when the message is built (quoted-printable, 76 columns); on the wire,
# headers fold only past 998 characters, because folding a short subject before its first
# word, as the 78-column default does, leaves some clients a subject with a leading space.
WIRE_POLICY = SMTP.clone(max_line_length=998)


@dataclass
class Delivery:
    """What one pass of the sender did."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def enqueue(session: Session, message: EmailMessage, *, kind: str, referral_id: str | None, now: datetime,
            not_before: datetime | None = None) -> OutboundMessage:
    row = OutboundMessage(
        message_id=message["Message-ID"], referral_id=referral_id, kind=kind,
        recipient=message["To"].addresses[0].addr_spec, subject=str(message["Subject"]),
        raw=message.as_bytes(policy=WIRE_POLICY), created_at=now, next_attempt_at=not_before or now,
        not_before=not_before,
    )
    session.add(row)
    return row


def deliver(engine: Engine, transport: Transport, *, sender: str, now: datetime, max_attempts: int,
            retry_seconds: int, force: bool = False, only: int | None = None) -> Delivery:
    """Send every queued message that is due (all of them with ``force``)."""
    delivery = Delivery()
    with transaction(engine) as session:
        query = select(OutboundMessage.id).where(
            OutboundMessage.status == "queued",
            or_(OutboundMessage.not_before.is_(None), OutboundMessage.not_before <= now)).order_by(OutboundMessage.id)
        if not force:
            query = query.where(OutboundMessage.next_attempt_at <= now)
        if only is not None:
            query = query.where(OutboundMessage.id == only)
        due = list(session.exec(query).all())
    try:
        for message_id in due:
            claimed = _claim(engine, message_id, now=now)
            if claimed is None:
                continue  # another worker has it
            raw, recipient = claimed
            try:
                transport.send(raw, sender=sender, recipient=recipient)
            except DeliveryError as exc:
                permanent = isinstance(exc, PermanentFailure)
                gave_up = _record_failure(engine, message_id, str(exc), now=now, permanent=permanent,
                                          max_attempts=max_attempts, retry_seconds=retry_seconds)
                (delivery.failed if gave_up else delivery.retrying).append(message_id)
                log.warning("outbox send failed", extra={"outbox_id": message_id, "error": str(exc), "gave_up": gave_up})
                continue
            _record_sent(engine, message_id, now=now)
            delivery.sent.append(message_id)
            log.info("outbox sent", extra={"outbox_id": message_id})
    finally:
        transport.close()
    return delivery


def _claim(engine: Engine, message_id: int, *, now: datetime) -> tuple[bytes, str] | None:
    with transaction(engine) as session:
        claimed = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id, OutboundMessage.status == "queued",
                   or_(OutboundMessage.claimed_until.is_(None), OutboundMessage.claimed_until < now))
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        ).rowcount
        if not claimed:
            return None
        row = session.get(OutboundMessage, message_id)
        return row.raw, row.recipient


def _record_sent(engine: Engine, message_id: int, *, now: datetime) -> None:
    with transaction(engine) as session:
        row = session.get(OutboundMessage, message_id)
        row.status, row.sent_at, row.claimed_until, row.last_error = "sent", now, None, None
        row.attempts += 1


def _record_failure(engine: Engine, message_id: int, error: str, *, now: datetime, permanent: bool,
                    max_attempts: int, retry_seconds: int) -> bool:
    with transaction(engine) as session:
        row = session.get(OutboundMessage, message_id)
        row.attempts += 1
        row.last_error = error[:500]
        row.claimed_until = None
        gave_up = permanent or row.attempts >= max_attempts
        if gave_up:
            row.status = "failed"
            if row.referral_id and row.kind.startswith("partner/"):
                referral = session.get(Referral, row.referral_id)
                referral.bounce = f"{row.kind} to {row.recipient}: {row.last_error}"
        else:
            row.next_attempt_at = now + timedelta(seconds=retry_seconds * 2 ** (row.attempts - 1))
        return gave_up


def cancel_held(session: Session, referral_id: str, *, since: datetime) -> list[OutboundMessage]:
    """Cancel what still waits for its time about ``referral_id`` and was queued at or after
    ``since`` (the notices of a change that UNDO took back): they are never sent."""
    rows = session.exec(select(OutboundMessage).where(
        OutboundMessage.referral_id == referral_id, OutboundMessage.status == "queued",
        OutboundMessage.not_before.is_not(None), OutboundMessage.created_at >= since)).all()
    for row in rows:
        row.status = "cancelled"
    return list(rows)


def requeue(session: Session, message_id: int, *, now: datetime) -> OutboundMessage:
    """Put a message (failed or waiting) back at the front of the queue."""
    row = session.get(OutboundMessage, message_id)
    if row is None:
        raise NotFound(f"outbox message {message_id}: no such message (see `refbot outbox list`)")
    if row.status == "cancelled":
        raise BadInput(f"outbox message {message_id} was cancelled by UNDO: the change it told of was taken back")
    if row.status == "sent":
        raise BadInput(f"outbox message {message_id} was already sent at {row.sent_at.isoformat()}; it is not sent twice")
    row.status, row.next_attempt_at, row.claimed_until = "queued", now, None
    return row
