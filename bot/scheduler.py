"""Deadlines and reminders as sweeps: functions of ``now`` that are safe to repeat.

Deadlines live on the referral, so a bot that was down catches up on its next sweep:
whatever fell due is applied once, reminders that were overtaken by a timeout are not sent,
and of several reminders that fell due while down only one goes out.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import digest, lifecycle, referrals
from bot.config import Config
from bot.db import reading, transaction
from bot.deadlines import next_reminder
from bot.models import PartnerRow, Referral, Rfi
from bot.outbound.mailer import Mailer

log = logging.getLogger(__name__)
BATCH_SECONDS = 0.2  # about the longest a sweep holds the write lock before it commits what it did
CHUNK = 10  # referrals locked and loaded by one query


@dataclass
class Sweep:
    """What one sweep did: referral ids per kind of action."""

    timed_out: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    reoffered: list[str] = field(default_factory=list)  # the new referrals
    digests: list[str] = field(default_factory=list)  # the profiles sent their weekly digest


def sweep(engine: Engine, mailer: Mailer, config: Config, *, now: datetime,
          stopping: Callable[[], bool] = lambda: False) -> Sweep:
    """Apply every timeout and reminder due at ``now``, each referral with its emails at once
    (see ``_each``), or until ``stopping``: what is left is still due at the next sweep."""
    done = Sweep()
    passes = ((Referral.deadline_at, lifecycle.ACTIVE, _lock_unless_busy, _time_out, done.timed_out),
              (Referral.next_reminder_at, lifecycle.ACTIVE, _lock_unless_busy, _remind, done.reminded),
              (Referral.reoffer_due_at, lifecycle.DROPPED, _lock, _reoffer, done.reoffered))
    for column, states, lock, act, results in passes:
        if not _each(engine, _due(engine, column, now, states=states), results, lock=lock, stopping=stopping,
                     act=partial(act, mailer=mailer, config=config, now=now)):
            return done
    done.digests = digest.sweep(engine, mailer, config, now=now)
    return done


Locked = tuple  # a referral as ``_lock_unless_busy`` or ``_lock`` loads it: the Referral first


def _each(engine: Engine, referral_ids: list[str], results: list[str], *,
          lock: Callable[[Session, list[str]], dict[str, Locked]], act: Callable[[Session, Locked | None], str | None],
          stopping: Callable[[], bool]) -> bool:
    """``act`` on each referral as ``lock`` loaded it (None when another worker has it), adding
    what it returns to ``results``; False when ``stopping`` ended it early.

    A referral's change and the emails it queues commit together, never one without the
    other. Several referrals share a commit (a commit waits for the disk, and that wait was a
    quarter of a timeout's cost), for about ``BATCH_SECONDS``, so a worker waiting for the
    write lock waits no longer; ``CHUNK`` of them are locked and loaded by one query. A crash
    before the commit loses nothing: the batch's referrals are still due at the next sweep,
    and none is applied twice. Each referral runs in a savepoint: when one fails, the ones
    before it commit and the error goes on, as it did with a transaction each."""
    chunks = [referral_ids[start:start + CHUNK] for start in range(0, len(referral_ids), CHUNK)]
    pending = iter(chunks)
    while chunks:
        with transaction(engine) as session:
            started = time.monotonic()
            for chunk in pending:
                locked = lock(session, chunk)  # held to the chunk's end: the session finds them again
                for referral_id in chunk:
                    if stopping():
                        return False
                    try:
                        with session.begin_nested():
                            result = act(session, locked.get(referral_id))
                    except Exception:
                        session.commit()  # the batch's referrals before this one
                        raise
                    if result:
                        results.append(result)
                if time.monotonic() - started >= BATCH_SECONDS:
                    break
            else:
                return True
    return True


@dataclass(frozen=True)
class Planned:
    """What a sweep at some time would do (`refbot tick --dry-run`)."""

    referral_id: str | None  # None for a digest, which is about a profile
    action: str  # "time out", "remind", "offer on" or "digest"
    status: str | None
    target: str | None  # the state a timeout leads to
    emails: tuple[str, ...]  # the templates that would be sent
    profile: str | None = None  # who gets the new offer, or the digest


def plan(engine: Engine, config: Config, *, now: datetime) -> list[Planned]:
    """What ``sweep`` would do at ``now``, changing nothing: timeouts first (a referral that
    times out is not reminded), then reminders, re-offers and digests."""
    planned: list[Planned] = []
    with transaction(engine) as session:
        for column, action in ((Referral.deadline_at, "time out"), (Referral.next_reminder_at, "remind")):
            query = select(Referral).where(column <= now, Referral.status.in_(lifecycle.ACTIVE)).order_by(column)
            for referral in session.exec(query).all():
                if action == "remind" and any(p.referral_id == referral.id for p in planned):
                    continue
                planned.append(_planned(referral, action, config))
        dropped = select(Referral).where(Referral.reoffer_due_at <= now, Referral.status.in_(lifecycle.DROPPED))
        for referral in session.exec(dropped.order_by(Referral.reoffer_due_at)).all():
            chosen = referrals.next_offer(session, config, session.get(Rfi, referral.rfi_id), now=now)
            if chosen is not None:
                planned.append(Planned(referral.id, "offer on", referral.status, None, ("partner/new_referral",),
                                       profile=chosen.key))
        planned += [Planned(None, "digest", None, None, ("partner/digest",), profile=profile.key)
                    for profile in digest.due(session, config, now=now)]
    return planned


def _planned(referral: Referral, action: str, config: Config) -> Planned:
    if action == "remind":
        return Planned(referral.id, action, referral.status, None,
                       (lifecycle.state(referral.status).reminder.template,))
    effects = lifecycle.apply(referral, lifecycle.TIMEOUT)
    emails = tuple(e.template for e in effects.emails if referrals.sends(e, config.customer_notices))
    return Planned(referral.id, action, referral.status, effects.target, emails)


def _due(engine: Engine, column, now: datetime, *, states: tuple[str, ...]) -> list[str]:
    """The referrals due by ``column``, read without the write lock: each is checked again
    under its lock before anything changes."""
    with transaction(reading(engine)) as session:
        query = select(Referral.id).where(column <= now, Referral.status.in_(states)).order_by(column)
        return list(session.exec(query).all())


def _lock_unless_busy(session: Session, referral_ids: list[str]) -> dict[str, Locked]:
    """``referrals.lock_unless_busy`` for several referrals at once, loading each one's RFI and
    partner in the same query: while the caller holds them, the lookups of
    ``referrals.apply_trigger`` and the mailer find them in the session instead of asking the
    database again. A timeout was ten statements (lock, RFI, partner twice, thread id apart),
    now five: its four writes and the mailer's count of other open referrals."""
    query = (select(Referral, Rfi, PartnerRow).join(Rfi, Rfi.id == Referral.rfi_id)
             .join(PartnerRow, PartnerRow.id == Referral.partner_id, isouter=True)
             .where(Referral.id.in_(referral_ids)).order_by(Referral.id).with_for_update(of=Referral, skip_locked=True)
             .execution_options(populate_existing=True))  # as it is now, not as the session saw it
    return {row[0].id: tuple(row) for row in session.exec(query)}


def _lock(session: Session, referral_ids: list[str]) -> dict[str, Locked]:
    """``referrals.lock`` for several referrals at once: another worker's are waited for (in the
    order of their ids, as every worker takes them, so two never wait for each other)."""
    query = (select(Referral).where(Referral.id.in_(referral_ids)).order_by(Referral.id).with_for_update()
             .execution_options(populate_existing=True))
    return {referral.id: (referral,) for referral in session.exec(query)}


def _time_out(session: Session, locked: Locked | None, *, mailer: Mailer, config: Config, now: datetime) -> str | None:
    referral = locked[0] if locked else None
    # Checked again under the lock: another worker may have handled it meanwhile.
    if referral is None or referral.status not in lifecycle.ACTIVE or referral.deadline_at is None or referral.deadline_at > now:
        return None
    due = referral.deadline_at
    referrals.apply_trigger(session, mailer, config, referral, lifecycle.TIMEOUT, actor="system", now=now,
                            detail=f"no reply by {due.isoformat()}")
    log.info("referral timed out", extra={"referral": referral.id, "status": referral.status})
    return referral.id


def _remind(session: Session, locked: Locked | None, *, mailer: Mailer, config: Config, now: datetime) -> str | None:
    referral, rfi = locked[:2] if locked else (None, None)
    if referral is None or referral.status not in lifecycle.ACTIVE or referral.next_reminder_at is None or referral.next_reminder_at > now:
        return None
    reminder = lifecycle.state(referral.status).reminder
    mailer.queue(session, reminder.template, referral=referral, rfi=rfi, now=now)
    referral.next_reminder_at = next_reminder(referral, after=now, timeouts=config.timeouts, tz=config.bot.timezone)
    log.info("referral reminded", extra={"referral": referral.id, "status": referral.status})
    return referral.id


def _reoffer(session: Session, locked: Locked | None, *, mailer: Mailer, config: Config, now: datetime) -> str | None:
    """``matching.reoffer``: the RFI of a dropped referral goes on to the next-best profile;
    the new referral's id."""
    referral = locked[0] if locked else None
    if referral is None or referral.reoffer_due_at is None or referral.reoffer_due_at > now or referral.status not in lifecycle.DROPPED:
        return None
    referral.reoffer_due_at = None
    rfi = session.get(Rfi, referral.rfi_id)
    chosen = referrals.next_offer(session, config, rfi, now=now)
    if chosen is None:
        return None
    offered = referrals.offer(session, mailer, config, rfi, chosen, now=now,
                              detail=f"offered on after {referral.id} was {referral.status}")
    log.info("rfi offered on", extra={"referral": referral.id, "offered": offered.id})
    return offered.id
