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
from itertools import islice
from typing import Callable, Iterable, Iterator

from sqlalchemy import insert, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot import faults
from bot.db import transaction
from bot.errors import BadInput, DeliveryError, NotFound
from bot.models import OutboundMessage, Referral
from bot.outbound.transports import PermanentFailure, Transport
from bot.outbound.wire import Composed

log = logging.getLogger(__name__)
Progress = Callable[[list[int]], Iterable[int]]
CLAIM_SECONDS = 60  # SQLite: a worker that dies mid-send frees its claim after this
BATCH = 50  # messages claimed, sent and recorded together


@dataclass
class Delivery:
    """What one pass of the sender did."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def enqueue(session: Session, message: Composed, *, kind: str, referral_id: str | None, now: datetime,
            not_before: datetime | None = None) -> None:
    """Queue ``message``; with ``not_before`` it is held until then (a notice that waits for
    the UNDO window), whatever a flush says.

    Inserted at once, without an ORM object: a queued row is read back only by queries, and
    the unit of work's bookkeeping for it cost more than the row."""
    session.connection().execute(_INSERT, {
        "message_id": message.message_id, "referral_id": referral_id, "kind": kind, "recipient": message.recipient,
        "subject": message.subject, "raw": message.raw, "status": "queued", "attempts": 0, "created_at": now,
        "next_attempt_at": not_before or now, "not_before": not_before})


# The table's, not the model's, on the session's connection: through the session even a Core
# insert flushes the session's pending changes first (they are written at its next flush).
_INSERT = insert(OutboundMessage.__table__)


def deliver(engine: Engine, transport: Transport, *, sender: str, now: datetime, max_attempts: int,
            retry_seconds: int, force: bool = False, only: int | None = None,
            progress: Progress = lambda items: items, stopping: Callable[[], bool] = lambda: False) -> Delivery:
    """Send every queued message that is due (all of them with ``force``), or until ``stopping``;
    ``progress`` wraps the list of message ids (a progress bar on a terminal)."""
    delivery = Delivery()
    policy = {"now": now, "max_attempts": max_attempts, "retry_seconds": retry_seconds}
    with transaction(engine) as session:
        waiting = due(session, now=now, force=force, only=only)
    try:
        for batch in batched(progress(waiting), BATCH):
            if stopping():
                break  # the rest stays queued for the next pass
            for message_id, outcome in _deliver_batch(engine, transport, batch, sender=sender,
                                                      stopping=stopping, policy=policy):
                getattr(delivery, outcome).append(message_id)
    finally:
        transport.close()
    return delivery


def due(session: Session, *, now: datetime, force: bool = False, only: int | None = None) -> list[int]:
    """The queued messages whose next attempt is due at ``now`` (with ``force``, whatever their
    backoff); a message held until later (``not_before``) is never due before then."""
    query = select(OutboundMessage.id).where(
        OutboundMessage.status == "queued",
        or_(OutboundMessage.not_before.is_(None), OutboundMessage.not_before <= now)).order_by(OutboundMessage.id)
    if not force:
        query = query.where(OutboundMessage.next_attempt_at <= now)
    if only is not None:
        query = query.where(OutboundMessage.id == only)
    return list(session.exec(query).all())


def _deliver_batch(engine: Engine, transport: Transport, ids: list[int], *, sender: str,
                   stopping: Callable[[], bool], policy: dict) -> list[tuple[int, str]]:
    """Claim a batch of messages, send each, record how each went ("sent", "retrying" or
    "failed"): two transactions for the batch, not three for each message. Messages another
    worker has, or that went out meanwhile, are left out.

    On PostgreSQL the claim is a row lock (FOR UPDATE SKIP LOCKED) held while sending: it ends
    with its worker, even one that dies. SQLite locks the whole database for a writer, so there
    the claim is a lease (``claimed_until``) that a dead worker leaves for a minute; several
    workers belong on PostgreSQL. A worker that dies mid-batch may send a message again after
    the claim ends, with the same Message-ID."""
    if engine.dialect.name == "postgresql":
        return _deliver_locked(engine, transport, ids, sender=sender, stopping=stopping, policy=policy)
    claimed = _claim(engine, ids, now=policy["now"])
    errors = _send_each(transport, claimed, sender=sender, stopping=stopping)
    with transaction(engine) as session:
        return _record_batch(session, [c[0] for c in claimed], errors, **policy)


def _deliver_locked(engine: Engine, transport: Transport, ids: list[int], *, sender: str,
                    stopping: Callable[[], bool], policy: dict) -> list[tuple[int, str]]:
    """PostgreSQL: the claim is the rows' lock, held while sending. A connection lost meanwhile
    (a restart, a failover, an admin's pg_terminate_backend) drops the lock and the record with
    it; the messages went out all the same, so their record is written again on a new
    connection rather than the batch sent twice."""
    claimed: list[int] = []
    errors: dict[int, Exception | None] = {}
    try:
        with transaction(engine) as session:
            rows = session.exec(select(OutboundMessage).where(OutboundMessage.id.in_(ids),
                                                              OutboundMessage.status == "queued")
                                .order_by(OutboundMessage.id).with_for_update(skip_locked=True)).all()
            claimed = [row.id for row in rows]
            errors.update(_send_each(transport, [(r.id, r.raw, r.recipient) for r in rows], sender=sender,
                                     stopping=stopping))
            return [(row.id, _record(session, row, errors[row.id], **policy)) for row in rows if row.id in errors]
    except DBAPIError as exc:
        if not (errors and exc.connection_invalidated):
            raise
        log.warning("outbox record written again on a new connection", extra={"messages": len(errors)})
        with transaction(engine) as session:
            return _record_batch(session, claimed, errors, **policy)


def _record_batch(session: Session, claimed: list[int], errors: dict[int, Exception | None], *, now: datetime,
                  max_attempts: int, retry_seconds: int) -> list[tuple[int, str]]:
    """How each claimed message went, ordered by id. The sent ones (nearly all) are one UPDATE,
    without loading their rows and bytes again; a failure is recorded row by row."""
    sent = [i for i in claimed if i in errors and errors[i] is None]
    untried = [i for i in claimed if i not in errors]  # stopping: free for the next pass
    for ids, values in ((sent, {"status": "sent", "sent_at": now, "last_error": None,
                                "attempts": OutboundMessage.attempts + 1, "claimed_until": None}),
                        (untried, {"claimed_until": None})):
        if ids:
            session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(ids)).values(**values)
                            .execution_options(synchronize_session=False))
    for message_id in sent:
        log.info("outbox sent", extra={"outbox_id": message_id})
    done = [(message_id, "sent") for message_id in sent]
    tried = [i for i in claimed if errors.get(i) is not None]
    if tried:
        rows = session.exec(select(OutboundMessage).where(OutboundMessage.id.in_(tried))).all()
        done += [(row.id, _record(session, row, errors[row.id], now=now, max_attempts=max_attempts,
                                  retry_seconds=retry_seconds)) for row in rows]
    return sorted(done)


def batched(items: Iterable[int], size: int) -> Iterator[list[int]]:
    """``items`` in lists of ``size`` (the last may be shorter), taken as they are needed."""
    items = iter(items)
    while batch := list(islice(items, size)):
        yield batch


def _send_each(transport: Transport, messages: list[tuple[int, bytes, str]], *, sender: str,
               stopping: Callable[[], bool]) -> dict[int, Exception | None]:
    """Send each message in turn until ``stopping``: the error of each one tried (None: sent)."""
    errors: dict[int, Exception | None] = {}
    for message_id, raw, recipient in messages:
        if stopping():
            break
        errors[message_id] = _try_send(transport, raw, sender=sender, recipient=recipient, message_id=message_id)
        faults.crash_at("after-send", raw)  # accepted by the server, not yet recorded as sent
    return errors


def _try_send(transport: Transport, raw: bytes, *, sender: str, recipient: str, message_id: int) -> Exception | None:
    try:
        transport.send(raw, sender=sender, recipient=recipient)
    except Exception as exc:  # noqa: BLE001 - one message never holds up the others
        if not isinstance(exc, DeliveryError):
            log.exception("outbox send raised", extra={"outbox_id": message_id})
        return exc
    return None


def _claim(engine: Engine, ids: list[int], *, now: datetime) -> list[tuple[int, bytes, str]]:
    """SQLite: lease the queued messages of ``ids`` that no other worker holds; what each is."""
    with transaction(engine) as session:
        claimed = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids), OutboundMessage.status == "queued",
                   or_(OutboundMessage.claimed_until.is_(None), OutboundMessage.claimed_until < now))
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            .returning(OutboundMessage.id, OutboundMessage.raw, OutboundMessage.recipient)
        ).all()
        return sorted((row.id, row.raw, row.recipient) for row in claimed)


def _record(session: Session, row: OutboundMessage, error: Exception | None, *, now: datetime, max_attempts: int,
            retry_seconds: int) -> str:
    row.attempts += 1
    row.claimed_until = None
    if error is None:
        row.status, row.sent_at, row.last_error = "sent", now, None
        log.info("outbox sent", extra={"outbox_id": row.id})
        return "sent"
    row.last_error = (str(error) or error.__class__.__name__)[:500]
    gave_up = isinstance(error, PermanentFailure) or row.attempts >= max_attempts
    # The server's answer may name the recipient: the log gets its code, the outbox the whole.
    code = row.last_error.split()[0] if row.last_error[:3].isdigit() else error.__class__.__name__
    log.warning("outbox send failed", extra={"outbox_id": row.id, "error": code, "gave_up": gave_up})
    if not gave_up:
        row.next_attempt_at = now + timedelta(seconds=retry_seconds * 2 ** (row.attempts - 1))
        return "retrying"
    row.status = "failed"
    if row.referral_id and row.kind.startswith("partner/"):
        referral = session.get(Referral, row.referral_id)
        referral.bounce = f"{row.kind} to {row.recipient}: {row.last_error}"
    return "failed"


def requeue_failed(session: Session, *, now: datetime) -> int:
    """Put every failed message back in the queue (`refbot outbox flush`); how many."""
    return session.execute(update(OutboundMessage).where(OutboundMessage.status == "failed")
                           .values(status="queued", next_attempt_at=now, claimed_until=None)).rowcount


def unsent(session: Session) -> list[int]:
    """The ids of every message not (yet) accepted by the mail server."""
    return list(session.exec(select(OutboundMessage.id).where(OutboundMessage.status != "sent")
                             .order_by(OutboundMessage.id)).all())


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
