"""Counts kept as referrals change, so that the dashboard's numbers cost the same on a thousand
referrals as on a million (issue 10): referrals per profile and state (``state_count``), the
same per hour of creation, with the first responses per bucket (``tally``), and each
referral's first response (``first_response``, for the median); the tables are in
``bot.models``.

``record`` sees every timeline event (``referrals.record_event`` writes them all, and every
change of state has one; UNDO is an event from the undone state back, so it moves the counts
back). A transaction's changes are added up in its session and written just before it
commits, in one fixed order, each as ``total = total + delta``: workers on PostgreSQL that
share a row wait for each other instead of deadlocking, and a transaction rolled back writes
none. Nothing that changes a referral may bypass ``record_event``; data written behind its
back (a bulk import) needs ``rebuild``.

``spans`` reads them for spans of creation times: the whole hours from ``tally``, the hours
that a span's start cuts from the referrals themselves (an hour's worth each), so that any
span is exact.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, delete, event, func, insert, literal, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, select

from bot import lifecycle
from bot.models import Event, Referral, first_response, state_count
from bot.models import tally as hourly

HOUR = timedelta(hours=1)
RESPONSE_BOUNDS = (1, 4, 24, 72)  # where the first-response buckets end, in hours; the last has no end
WITHIN_DAY = "response:24h"  # first responses within 24 hours (inclusive), beside the buckets
_CHANGES = "refbot_tally_changes"  # the key of a session's pending changes in Session.info
_SAVED = "refbot_tally_saved"  # the pending changes as each open savepoint began
_ENDED = "refbot_tally_ended"  # ... and as the savepoint that has just ended began
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def bucket(hours: float) -> str:
    return f"response:{next((i for i, end in enumerate(RESPONSE_BOUNDS) if hours < end), len(RESPONSE_BOUNDS))}"


BUCKETS = tuple(f"response:{i}" for i in range(len(RESPONSE_BOUNDS) + 1))


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


# -- keeping them ------------------------------------------------------------------------------


def record(session: Session, referral: Referral, *, at: datetime, actor: str, from_status: str | None,
           to_status: str) -> None:
    """Count a timeline event of ``referral`` (in its session, written at commit)."""
    changes: Counter = session.info.setdefault(_CHANGES, Counter())
    hour, profile = hour_of(referral.created_at), referral.profile_key
    if from_status != to_status:
        for status, delta in ((from_status, -1), (to_status, 1)):
            if status is not None:
                changes[(0, _EPOCH, profile, status)] += delta
                changes[(1, hour, profile, status)] += delta
    if from_status == lifecycle.INITIAL and to_status != lifecycle.INITIAL and actor != "system":
        _answered(session, referral, at, changes)


def _answered(session: Session, referral: Referral, at: datetime, changes: Counter) -> None:
    """A first response, unless the referral had an earlier one (UNDO does not take it back)."""
    hour, profile = hour_of(referral.created_at), referral.profile_key
    hours = (at - referral.created_at).total_seconds() / 3600
    # On the session's connection: through the session, a Core statement first flushes the
    # referral's change, which then takes an UPDATE of its own (its emails change it again).
    connection = session.connection()
    inserted = connection.execute(_statements(session)[2], {
        "referral_id": referral.id, "profile_key": profile, "created_at": referral.created_at, "answered_at": at,
        "hours": hours})
    if not inserted.rowcount:  # answered before, and taken back by UNDO: the first answer stays
        answers = first_response.c
        first = connection.execute(select(answers.answered_at, answers.hours)
                                   .where(answers.referral_id == referral.id)).one()
        if at >= first.answered_at:
            return
        # An earlier answer recorded after a later one: the first after all.
        _count_response(changes, hour, profile, first.hours, -1)
        connection.execute(first_response.update().where(answers.referral_id == referral.id)
                           .values(answered_at=at, hours=hours))
    _count_response(changes, hour, profile, hours, 1)


def _count_response(changes: Counter, hour: datetime, profile: str, hours: float, delta: int) -> None:
    changes[(1, hour, profile, bucket(hours))] += delta
    if hours <= 24:
        changes[(1, hour, profile, WITHIN_DAY)] += delta


@event.listens_for(OrmSession, "before_commit")
def _write(session: OrmSession) -> None:
    # SQLAlchemy calls this for a savepoint's release too. Its counts wait for the transaction's
    # commit (a savepoint rolled back later restores them, see ``_restore``): the sweep's batch
    # writes each count once, and takes the counts' row locks only at the end, after every
    # referral's lock, as every worker does.
    if session.in_nested_transaction():
        return
    changes = session.info.pop(_CHANGES, None)
    if not changes:
        return
    # The transaction's own rows first: once it holds a count's row lock (which other workers may
    # wait for), it takes no lock but those of other counts, in the same order as everyone.
    session.flush()
    rows: tuple[list, list] = ([], [])
    for (table, hour, profile, name), delta in sorted(changes.items()):  # one order for every worker
        if delta:
            rows[table].append({"profile_key": profile, "status": name, "total": delta} if table == 0 else
                               {"hour": hour, "profile_key": profile, "name": name, "total": delta})
    for statement, given in zip(_statements(session), rows):
        if given:
            session.execute(statement, given)


_STATEMENTS: dict[str, tuple] = {}


def _statements(session: OrmSession) -> tuple:
    """Adding to a count of ``state_count`` and of ``tally`` (``total = total + delta``), and
    inserting a first response unless there is one: made once per database kind, so that
    SQLAlchemy compiles each once."""
    dialect = session.get_bind().dialect.name
    if dialect not in _STATEMENTS:
        insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
        adding = []
        for table, keys in ((state_count, ["profile_key", "status"]), (hourly, ["hour", "profile_key", "name"])):
            statement = insert_into(table)
            adding.append(statement.on_conflict_do_update(
                index_elements=keys, set_={"total": table.c.total + statement.excluded.total}))
        _STATEMENTS[dialect] = (*adding, insert_into(first_response).on_conflict_do_nothing(
            index_elements=["referral_id"]))
    return _STATEMENTS[dialect]


# A savepoint rolled back takes its counts back too (the sweep commits the referrals before one
# that failed): the pending counts as it began are kept until it ends, and restored if SQLAlchemy
# then reports it rolled back (it reports the end first, then the rollback).
@event.listens_for(OrmSession, "after_transaction_create")
def _save(session: OrmSession, transaction) -> None:
    if transaction.nested:
        session.info.setdefault(_SAVED, {})[id(transaction)] = Counter(session.info.get(_CHANGES, ()))


@event.listens_for(OrmSession, "after_transaction_end")
def _forget(session: OrmSession, transaction) -> None:
    if transaction.nested:
        session.info[_ENDED] = session.info.get(_SAVED, {}).pop(id(transaction), None)
    elif transaction.parent is None:  # rolled back, or closed without a commit: nothing was counted
        for key in (_CHANGES, _SAVED, _ENDED):
            session.info.pop(key, None)


@event.listens_for(OrmSession, "after_soft_rollback")
def _restore(session: OrmSession, previous) -> None:
    ended = session.info.pop(_ENDED, None)
    if previous.nested and ended is not None:
        session.info[_CHANGES] = ended


# -- reading them ------------------------------------------------------------------------------


def states(session: Session) -> dict[str, int]:
    """Referrals per state, every state present."""
    counts = state_count.c
    found = dict(session.exec(select(counts.status, func.sum(counts.total)).group_by(counts.status)).all())
    return {name: int(found.get(name) or 0) for name in lifecycle.NAMES}


def spans(session: Session, starts: list[datetime]) -> list[Counter]:
    """For the referrals created from each of ``starts`` (ascending) to the next, the last to
    now: how many are in each state (keyed by state), how many were first answered in each
    bucket (``BUCKETS``), and within 24 hours (``WITHIN_DAY``). Whole hours come from the
    tally; an hour that a start cuts is counted from the referrals themselves."""
    found = [Counter() for _ in starts]
    cut = sorted({hour_of(start) for start in starts if hour_of(start) != start})

    def span(column):
        return case(*((column >= start, i) for i, start in reversed(list(enumerate(starts)))), else_=-1)

    index = span(hourly.c.hour)  # one object: PostgreSQL must see the same expression, binds and all, twice
    whole = (select(index, hourly.c.name, func.sum(hourly.c.total))
             .where(hourly.c.hour >= starts[0], hourly.c.hour.not_in(cut)).group_by(index, hourly.c.name))
    for at, name, total in session.exec(whole).all():
        found[at][name] += int(total)
    if not cut:
        return found
    referral, answers = Referral.__table__.c, first_response.c

    def within_cut(column):
        return or_(*((column >= hour) & (column < hour + HOUR) for hour in cut)) & (column >= starts[0])

    index = span(referral.created_at)
    for at, status, total in session.exec(
            select(index, referral.status, func.count())
            .where(within_cut(referral.created_at)).group_by(index, referral.status)).all():
        found[at][status] += total
    index, named = span(answers.created_at), _bucket_name(answers.hours)
    for at, name, total, within in session.exec(
            select(index, named, func.count(), func.sum(case((answers.hours <= 24, 1), else_=0)))
            .where(within_cut(answers.created_at)).group_by(index, named)).all():
        found[at][name] += total
        found[at][WITHIN_DAY] += within
    return found


def _bucket_name(hours):
    """``bucket`` in SQL."""
    return case(*((hours < end, literal(f"response:{i}")) for i, end in enumerate(RESPONSE_BOUNDS)),
                else_=literal(f"response:{len(RESPONSE_BOUNDS)}"))


def answered(counts: Counter) -> int:
    return sum(counts[name] for name in BUCKETS)


def created_from(session: Session, moment: datetime) -> tuple[int, int]:
    """How many referrals were created from ``moment`` on, and how many of them were answered:
    whole hours from the tally, the hour that ``moment`` cuts counted on the indexes on
    ``created_at`` (no row is read)."""
    whole = hour_of(moment) + (HOUR if hour_of(moment) != moment else timedelta(0))
    names = hourly.c.name
    referrals, answers = session.exec(
        select(func.sum(case((names.in_(lifecycle.NAMES), hourly.c.total), else_=0)),
               func.sum(case((names.in_(BUCKETS), hourly.c.total), else_=0))).where(hourly.c.hour >= whole)).one()
    referrals, answers = int(referrals or 0), int(answers or 0)
    if whole != moment:
        for table in (Referral.__table__, first_response):
            counted = session.exec(select(func.count()).select_from(table)
                                   .where(table.c.created_at >= moment, table.c.created_at < whole)).one()
            if table is first_response:
                answers += counted
            else:
                referrals += counted
    return referrals, answers


def median_hours(session: Session, since: datetime, answered_since: int) -> float | None:
    """The median hours to a first response of the ``answered_since`` referrals created since
    ``since``, read in order off the index on (hours, created_at): no more than half of them."""
    if not answered_since:
        return None
    middle = (answered_since - 1) // 2
    answers = first_response.c
    values = session.exec(select(answers.hours).where(answers.created_at >= since)
                          .order_by(answers.hours).offset(middle).limit(2)).all()
    values = values[:1] if answered_since % 2 else values[:2]
    return round(sum(values) / len(values), 1)


# -- making them from the tables ---------------------------------------------------------------


class _hour_floor(FunctionElement):
    """A stored time down to its hour, stored as refbot stores times."""

    type = hourly.c.hour.type
    inherit_cache = True


@compiles(_hour_floor, "sqlite")
def _hour_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m-%d %H:00:00.000000', {compiler.process(element.clauses, **kw)})"


@compiles(_hour_floor, "postgresql")
def _hour_postgresql(element, compiler, **kw):
    return f"date_trunc('hour', {compiler.process(element.clauses, **kw)})"


def rebuild(connection: Connection) -> None:
    """Count everything again from the referrals and their timelines (the migration that made
    these tables, and data written behind ``record_event``'s back)."""
    from bot.stats import hours_between  # stats reads these counts: imported here, not at the top

    for table in (hourly, state_count, first_response):
        connection.execute(delete(table))
    referral, entry = Referral.__table__.c, Event.__table__.c
    connection.execute(insert(state_count).from_select(
        ["profile_key", "status", "total"],
        select(referral.profile_key, referral.status, func.count()).group_by(referral.profile_key, referral.status)))
    hour = _hour_floor(referral.created_at)
    connection.execute(insert(hourly).from_select(
        ["hour", "profile_key", "name", "total"],
        select(hour, referral.profile_key, referral.status, func.count())
        .group_by(hour, referral.profile_key, referral.status)))
    first = func.min(entry.at)
    connection.execute(insert(first_response).from_select(
        ["referral_id", "profile_key", "created_at", "answered_at", "hours"],
        select(referral.id, referral.profile_key, referral.created_at, first, hours_between(first, referral.created_at))
        .join(Event.__table__, entry.referral_id == referral.id)
        .where(entry.from_status == lifecycle.INITIAL, entry.to_status != lifecycle.INITIAL, entry.actor != "system")
        .group_by(referral.id, referral.profile_key, referral.created_at)))
    answers = first_response.c
    hour = _hour_floor(answers.created_at)
    name = _bucket_name(answers.hours)
    connection.execute(insert(hourly).from_select(
        ["hour", "profile_key", "name", "total"],
        select(hour, answers.profile_key, name, func.count()).group_by(hour, answers.profile_key, name)))
    connection.execute(insert(hourly).from_select(
        ["hour", "profile_key", "name", "total"],
        select(hour, answers.profile_key, literal(WITHIN_DAY), func.count()).where(answers.hours <= 24)
        .group_by(hour, answers.profile_key)))
