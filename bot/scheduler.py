"""Deadlines and reminders as sweeps: functions of ``now`` that are safe to repeat.

Deadlines live on the referral, so a bot that was down catches up on its next sweep:
whatever fell due is applied once, reminders that were overtaken by a timeout are not sent,
and of several reminders that fell due while down only one goes out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import digest, lifecycle, referrals
from bot.config import Config
from bot.db import transaction
from bot.deadlines import next_reminder
from bot.models import Referral, Rfi
from bot.outbound.mailer import Mailer

log = logging.getLogger(__name__)


@dataclass
class Sweep:
    """What one sweep did: referral ids per kind of action."""

    timed_out: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    reoffered: list[str] = field(default_factory=list)  # the new referrals
    digests: list[str] = field(default_factory=list)  # the profiles sent their weekly digest


def sweep(engine: Engine, mailer: Mailer, config: Config, *, now: datetime,
          stopping: Callable[[], bool] = lambda: False) -> Sweep:
    """Apply every timeout and reminder due at ``now``, each referral in its own transaction,
    or until ``stopping``: what is left is still due at the next sweep."""
    done = Sweep()
    for referral_id in _due(engine, Referral.deadline_at, now):
        if stopping():
            return done
        if _time_out(engine, mailer, config, referral_id, now=now):
            done.timed_out.append(referral_id)
    for referral_id in _due(engine, Referral.next_reminder_at, now):
        if stopping():
            return done
        if _remind(engine, mailer, config, referral_id, now=now):
            done.reminded.append(referral_id)
    for referral_id in _due(engine, Referral.reoffer_due_at, now, states=lifecycle.DROPPED):
        if stopping():
            return done
        if (offered := _reoffer(engine, mailer, config, referral_id, now=now)):
            done.reoffered.append(offered)
    done.digests = digest.sweep(engine, mailer, config, now=now)
    return done


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


def _due(engine: Engine, column, now: datetime, *, states: tuple[str, ...] = lifecycle.ACTIVE) -> list[str]:
    with transaction(engine) as session:
        query = select(Referral.id).where(column <= now, Referral.status.in_(states)).order_by(column)
        return list(session.exec(query).all())


def _time_out(engine: Engine, mailer: Mailer, config: Config, referral_id: str, *, now: datetime) -> bool:
    with transaction(engine) as session:
        referral = referrals.lock_unless_busy(session, referral_id)
        # Checked again under the lock: another worker may have handled it meanwhile.
        if referral is None or referral.status not in lifecycle.ACTIVE or referral.deadline_at is None or referral.deadline_at > now:
            return False
        due = referral.deadline_at
        referrals.apply_trigger(session, mailer, config, referral, lifecycle.TIMEOUT, actor="system", now=now,
                                detail=f"no reply by {due.isoformat()}")
        log.info("referral timed out", extra={"referral": referral_id, "status": referral.status})
        return True


def _remind(engine: Engine, mailer: Mailer, config: Config, referral_id: str, *, now: datetime) -> bool:
    with transaction(engine) as session:
        referral = referrals.lock_unless_busy(session, referral_id)
        if referral is None or referral.status not in lifecycle.ACTIVE or referral.next_reminder_at is None or referral.next_reminder_at > now:
            return False
        rfi = session.get(Rfi, referral.rfi_id)
        reminder = lifecycle.state(referral.status).reminder
        mailer.queue(session, reminder.template, referral=referral, rfi=rfi, now=now)
        referral.next_reminder_at = next_reminder(referral, after=now, timeouts=config.timeouts, tz=config.bot.timezone)
        log.info("referral reminded", extra={"referral": referral_id, "status": referral.status})
        return True


def _reoffer(engine: Engine, mailer: Mailer, config: Config, referral_id: str, *, now: datetime) -> str | None:
    """``matching.reoffer``: the RFI of a dropped referral goes on to the next-best profile."""
    with transaction(engine) as session:
        referral = referrals.lock(session, referral_id)
        if referral.reoffer_due_at is None or referral.reoffer_due_at > now or referral.status not in lifecycle.DROPPED:
            return None
        referral.reoffer_due_at = None
        rfi = session.get(Rfi, referral.rfi_id)
        chosen = referrals.next_offer(session, config, rfi, now=now)
        if chosen is None:
            return None
        offered = referrals.offer(session, mailer, config, rfi, chosen, now=now,
                                  detail=f"offered on after {referral.id} was {referral.status}")
        log.info("rfi offered on", extra={"referral": referral_id, "offered": offered.id})
        return offered.id
