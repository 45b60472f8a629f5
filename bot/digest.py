"""The weekly digest (SPEC §2): each profile with ``digest = true`` gets one email a week, at
``[digest]`` weekday and hour in the bot's time zone: the referrals waiting on it with their
deadlines, its deals past their closing date, and last week's responsiveness beside the
program's median.

A sweep like the others: a function of ``now``, safe to repeat. Each digest is recorded in
``digest_sent`` (one row per profile and week, the row is the lock between workers), so a bot
that was down at the hour sends the week's digest when it comes back, and never twice. A week
with nothing to tell (nothing waiting or overdue, no referral in the week) sends nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from statistics import median
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import ranking
from bot.config import Config
from bot.db import reading, transaction
from bot.models import DigestSent, ProfileRow, Referral
from bot.outbound.mailer import Mailer

log = logging.getLogger(__name__)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WAITING = ("new", "evaluating")  # the states in which the partner owes an answer


def last_due(now: datetime, config: Config) -> datetime:
    """The most recent digest time at or before ``now`` (aware, in the bot's time zone)."""
    tz = ZoneInfo(config.bot.timezone)
    local = now.astimezone(tz)
    days_back = (local.weekday() - WEEKDAYS.index(config.digest.weekday)) % 7
    due = datetime.combine(local.date() - timedelta(days=days_back), time(config.digest.hour), tz)
    return due if due <= local else due - timedelta(days=7)


def sweep(engine: Engine, mailer: Mailer, config: Config, *, now: datetime) -> list[str]:
    """Send this week's digest to every profile that wants one and has not had it; their keys."""
    due = last_due(now, config)
    # Read without the write lock, and only the profiles still waiting for this week's: a sweep
    # with nothing to send takes no lock and costs one query however many profiles there are.
    with transaction(reading(engine)) as session:
        had_it = select(DigestSent.profile_key).where(DigestSent.week == due.date())
        keys = list(session.exec(select(ProfileRow.key).where(ProfileRow.digest.is_(True), ProfileRow.active.is_(True),
                                                              ProfileRow.key.not_in(had_it))).all())
    sent = []
    for key in keys:
        try:
            with transaction(engine) as session:
                if session.get(DigestSent, (key, due.date())) is not None:
                    continue
                session.add(DigestSent(profile_key=key, week=due.date(), sent_at=now))
                session.flush()  # a second worker stops here
                if queue(session, mailer, config, session.get(ProfileRow, key), now=now):
                    sent.append(key)
        except IntegrityError:
            continue
    if sent:
        log.info("digests queued", extra={"profiles": sent})
    return sent


def due(session: Session, config: Config, *, now: datetime) -> list[ProfileRow]:
    """The profiles whose digest of this week has not gone out and would tell something
    (`refbot tick --dry-run`); reads only."""
    week = last_due(now, config).date()
    wanting = session.exec(select(ProfileRow).where(ProfileRow.digest.is_(True), ProfileRow.active.is_(True))
                           .order_by(ProfileRow.key)).all()
    return [p for p in wanting if session.get(DigestSent, (p.key, week)) is None
            and _contents(session, config, p, now=now) is not None]


def queue(session: Session, mailer: Mailer, config: Config, profile: ProfileRow, *, now: datetime) -> bool:
    """Queue the profile's digest; False when there is nothing to tell."""
    contents = _contents(session, config, profile, now=now)
    if contents is None:
        return False
    mailer.queue_digest(session, profile, now=now, **contents)
    return True


def _contents(session: Session, config: Config, profile: ProfileRow, *, now: datetime) -> dict | None:
    """What the profile's digest says, or None when there is nothing to tell."""
    today = now.astimezone(ZoneInfo(config.bot.timezone)).date()
    mine = select(Referral).where(Referral.profile_key == profile.key)
    waiting = session.exec(mine.where(Referral.status.in_(WAITING)).order_by(Referral.deadline_at)).all()
    overdue = session.exec(mine.where(Referral.status == "negotiating", Referral.closing_date < today)
                           .order_by(Referral.closing_date)).all()
    week = ranking.records(session, since=now - timedelta(days=7), now=now)
    everyone = [hours for record in week.values() for hours in record.hours]
    decided = sum(r.decided for r in week.values())
    own = week.get(profile.key)
    if not (waiting or overdue or own):
        return None
    own = own or ranking.Record()
    return {"waiting": list(waiting), "overdue": list(overdue), "week": SimpleNamespace(
        decided=own.decided, in_time=own.in_time, share=own.share, median_hours=own.median_hours,
        program_share=sum(r.in_time for r in week.values()) / decided if decided else None,
        program_median_hours=median(everyone) if everyone else None)}
