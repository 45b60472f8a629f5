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

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median

from sqlalchemy import func
from sqlmodel import Session, select

from bot import lifecycle
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


def compute(session: Session, scope: Scope, *, now: datetime) -> Stats:
    states = count_states(session, scope)
    median_hours, within = responsiveness(session, scope, now=now)
    accepted, decided = sum(states[s] for s in ACCEPTED), sum(states[s] for s in DECIDED)
    return Stats(states=states, median_hours=median_hours, within_24h=within,
                 acceptance_rate=ratio(accepted, decided), win_rate=ratio(states["won"], states["won"] + states["lost"]),
                 pipeline=values(session, scope, "negotiating"), won=values(session, scope, "won"),
                 reasons=reasons(session, scope))


def count_states(session: Session, scope: Scope) -> dict[str, int]:
    """Referrals per state, every state present."""
    query = scope.where(select(Referral.status, func.count()).group_by(Referral.status))
    found = dict(session.exec(query).all())
    return {name: found.get(name, 0) for name in lifecycle.NAMES}


def first_responses(session: Session, scope: Scope):
    """(created_at, first response) of every answered referral in scope."""
    query = (select(Referral.created_at, func.min(Event.at)).join(Event, Event.referral_id == Referral.id)
             .where(Event.from_status == lifecycle.INITIAL, Event.to_status != lifecycle.INITIAL,
                    Event.actor != "system")
             .group_by(Referral.id, Referral.created_at))
    return session.exec(scope.where(query)).all()


def responsiveness(session: Session, scope: Scope, *, now: datetime) -> tuple[float | None, float | None]:
    """The median hours to a first response, and the share answered within 24 hours."""
    day = timedelta(hours=24)
    answered = [(created, first - created) for created, first in first_responses(session, scope)]
    waited = session.exec(scope.where(select(func.count()).select_from(Referral)
                                      .where(Referral.created_at <= now - day))).one()
    recent_answers = sum(1 for created, _ in answered if created > now - day)
    median_hours = round(median(d.total_seconds() for _, d in answered) / 3600, 1) if answered else None
    return median_hours, ratio(sum(1 for _, d in answered if d <= day), waited + recent_answers)


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
