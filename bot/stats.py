"""The program's numbers (SPEC §7 `refbot stats`, the dashboard, /metrics), counted by the
database: a handful of aggregate queries, however many referrals there are.

- first response: the first time a partner (or an admin for one) moved a referral on from
  ``new``; ``within_24h`` is the share answered within 24 hours of the referrals that were
  answered or have been waiting 24 hours;
- acceptance rate: of the referrals that have left ``new`` and ``evaluating``, the share accepted
  (now negotiating, won or lost);
- win rate: won among won and lost;
- pipeline and won value: the deal values of negotiating and of won referrals, per currency;
- reasons: DECLINE and LOST reasons by their code (a reason without a code counts as ``other``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Float, case, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, select

from bot import lifecycle, tally
from bot.models import Event, Referral

# SPEC §3: the codes a DECLINE or LOST reason is classified as.
REASON_CODES = ("budget", "customer_unresponsive", "other_vendor", "requirement_not_met", "not_a_customer",
                "timeline", "spam", "other")
ACCEPTED = ("negotiating", "won", "lost")
DECIDED = tuple(s for s in lifecycle.NAMES if s not in ("new", "evaluating"))


@dataclass(frozen=True)
class Scope:
    """Which referrals count: by partner, region, and created since a time."""

    partner: str | None = None
    region: str | None = None
    since: datetime | None = None
    profile: str | None = None

    def where(self, query):
        if self.partner:
            query = query.where(Referral.partner_id == self.partner)
        if self.region:
            query = query.where(Referral.region == self.region.upper())
        if self.since:
            query = query.where(Referral.created_at >= self.since)
        if self.profile:
            query = query.where(Referral.profile_key == self.profile)
        return query


@dataclass
class Stats:
    states: dict[str, int]
    median_hours: float | None
    within_24h: float | None
    acceptance_rate: float | None
    win_rate: float | None
    pipeline: dict[str, Decimal] = field(default_factory=dict)
    won: dict[str, Decimal] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.states.values())

    def as_json(self) -> dict:
        return {"states": self.states, "total": self.total,
                "first_response": {"median_hours": self.median_hours, "within_24h": self.within_24h},
                "acceptance_rate": self.acceptance_rate, "win_rate": self.win_rate,
                "pipeline": {c: str(v) for c, v in self.pipeline.items()},
                "won": {c: str(v) for c, v in self.won.items()}, "reasons": self.reasons}


def compute(session: Session, scope: Scope, *, now: datetime, money: bool = True) -> Stats:
    """Everything `refbot stats` shows; without ``money``, no deal values and reasons."""
    states = count_states(session, scope)
    median_hours, within = responsiveness(session, scope, now=now).get(None, (None, None))
    acceptance, wins = rates(states)
    found = Stats(states=states, median_hours=median_hours, within_24h=within, acceptance_rate=acceptance,
                  win_rate=wins)
    if money:
        found.pipeline, found.won = values(session, scope, "negotiating"), values(session, scope, "won")
        found.reasons = reasons(session, scope)
    return found


def recent(session: Session, starts: list[datetime], *, now: datetime) -> tuple[Stats, list[Counter]]:
    """``compute`` without money for the referrals created since ``starts[0]``, from the counts
    kept as referrals change (``bot.tally``): the same numbers, without reading the referrals
    (only the median walks the window's first responses, in order, on an index). Also the
    ``tally.spans`` of ``starts``."""
    counted = tally.spans(session, starts)
    total = sum(counted, Counter())
    states = {name: total[name] for name in lifecycle.NAMES}
    # The share answered within 24 hours counts those answered, and those waiting 24 hours or
    # more: the referrals created up to now - 24 h and those created after it that were answered.
    after = max(now - timedelta(hours=24) + timedelta(microseconds=1), starts[0])
    created_after, answered_lately = tally.created_from(session, after)
    waited = sum(states.values()) - created_after
    acceptance, wins = rates(states)
    found = Stats(states=states, median_hours=tally.median_hours(session, starts[0], tally.answered(total)),
                  within_24h=ratio(total[tally.WITHIN_DAY], waited + answered_lately),
                  acceptance_rate=acceptance, win_rate=wins)
    return found, counted


def rates(states: dict[str, int]) -> tuple[float | None, float | None]:
    """The acceptance rate and the win rate of referrals counted per state."""
    accepted, decided = sum(states[s] for s in ACCEPTED), sum(states[s] for s in DECIDED)
    return ratio(accepted, decided), ratio(states["won"], states["won"] + states["lost"])


def count_states(session: Session, scope: Scope) -> dict[str, int]:
    """Referrals per state, every state present."""
    query = scope.where(select(Referral.status, func.count()).group_by(Referral.status))
    found = dict(session.exec(query).all())
    return {name: found.get(name, 0) for name in lifecycle.NAMES}


class hours_between(FunctionElement):
    """``hours_between(later, earlier)``: the hours from one stored time to another, in SQL."""

    type = Float()
    inherit_cache = True


@compiles(hours_between, "sqlite")
def _hours_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 24.0)"


@compiles(hours_between, "postgresql")
def _hours_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0)"


def first_responses(scope: Scope, *, group=None):
    """A subquery: every answered referral in scope with the hours to its first response, and
    ``group`` (a column of the referral) when given."""
    first = func.min(Event.at)
    columns = [Referral.id, Referral.created_at, hours_between(first, Referral.created_at).label("hours")]
    query = (select(*columns, *([group.label("grp")] if group is not None else []))
             .join(Event, Event.referral_id == Referral.id)
             .where(Event.from_status == lifecycle.INITIAL, Event.to_status != lifecycle.INITIAL,
                    Event.actor != "system")
             .group_by(Referral.id, Referral.created_at, *([group] if group is not None else [])))
    return scope.where(query).subquery()


def medians(session: Session, answered, *, grouped: bool) -> dict:
    """The median hours of ``answered`` (from ``first_responses``), per group when ``grouped``
    (the key None otherwise), by window functions: no referral leaves the database."""
    partition = [answered.c.grp] if grouped else []
    ranked = select((answered.c.grp if grouped else literal(None)).label("grp"), answered.c.hours,
                    func.row_number().over(partition_by=partition, order_by=answered.c.hours).label("rn"),
                    func.count().over(partition_by=partition).label("n")).subquery()
    middle = (select(ranked.c.grp, func.avg(ranked.c.hours))
              .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])).group_by(ranked.c.grp))
    return {key: round(float(value), 1) for key, value in session.execute(middle).all()}


def responsiveness(session: Session, scope: Scope, *, now: datetime, group=None) -> dict:
    """(median hours to a first response, share answered within 24 hours), for the scope or per
    value of ``group`` (a column of the referral; the key is None without one)."""
    day = timedelta(hours=24)
    answered = first_responses(scope, group=group)
    counted = select(func.sum(case((answered.c.hours <= 24, 1), else_=0)),
                     func.sum(case((answered.c.created_at > now - day, 1), else_=0)))
    waited = scope.where(select(func.count()).select_from(Referral).where(Referral.created_at <= now - day))
    if group is not None:  # the group's value first in each row
        counted = counted.add_columns(answered.c.grp).group_by(answered.c.grp)
        waited = waited.add_columns(group).group_by(group)
    keyed = (lambda row: row[-1]) if group is not None else (lambda row: None)
    answers = {keyed(row): (row[0] or 0, row[1] or 0) for row in session.execute(counted).all()}
    older = {keyed(row): row[0] for row in session.execute(waited).all()}
    middle = medians(session, answered, grouped=group is not None)
    return {key: (middle.get(key), ratio(answers.get(key, (0, 0))[0], older.get(key, 0) + answers.get(key, (0, 0))[1]))
            for key in set(answers) | set(older)}


def values(session: Session, scope: Scope, status: str) -> dict[str, Decimal]:
    """The deal values of the referrals in ``status``, added up per currency."""
    query = scope.where(select(Referral.currency, Referral.deal_value)
                        .where(Referral.status == status, Referral.deal_value.is_not(None)))
    totals: dict[str, Decimal] = {}
    for currency, value in session.exec(query).all():
        totals[currency] = totals.get(currency, Decimal(0)) + value
    return dict(sorted(totals.items()))


def reasons(session: Session, scope: Scope) -> dict[str, int]:
    """DECLINE and LOST reasons per code, every code present."""
    code = func.coalesce(Event.reason_code, "other")
    query = (select(code, func.count()).join(Referral, Referral.id == Event.referral_id)
             .where(Event.to_status.in_(("declined", "lost")), Event.from_status != Event.to_status,
                    (Event.reason.is_not(None)) | (Event.reason_code.is_not(None)))
             .group_by(code))
    found = dict(session.exec(scope.where(query)).all())
    return {name: found.get(name, 0) for name in REASON_CODES}


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
