"""What the dashboard's pages show, read in a few aggregate or paged queries each: no page
loads every referral. The overview's numbers come from the counts kept as referrals change
(``bot.tally``), so it costs the same on a hundred referrals as on a hundred thousand."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from bot import lifecycle, stats, tally
from bot.inbound import held
from bot.models import Event, InboundMessage, OutboundMessage, PartnerRow, ProfileRow, Referral, Rfi

PER_PAGE = 50
WEEKS = 12
# How the weekly chart groups the states: (name, colour, states).
OUTCOMES = (("open", "#9e9e9e", lifecycle.ACTIVE), ("won", "#2e7d32", ("won",)), ("lost", "#c62828", ("lost",)),
            ("dropped", "#ef9f00", ("skipped", "missed", "declined", "expired")))
# The first-response chart's buckets: (label, upper bound in hours), as bot.tally counts them.
RESPONSE_BUCKETS = tuple(zip(("< 1 h", "1–4 h", "4–24 h", "1–3 days", "> 3 days"), (*tally.RESPONSE_BOUNDS, None)))
FUNNEL = (("offered", lifecycle.NAMES), ("evaluated", ("evaluating", "declined", "expired", *stats.ACCEPTED)),
          ("accepted", stats.ACCEPTED), ("won", ("won",)))


@dataclass
class Page:
    items: list
    number: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))


def paged(session: Session, query, count_query, number: int) -> Page:
    total = session.exec(count_query).one()
    number = min(max(number, 1), max(1, -(-total // PER_PAGE)))
    return Page(list(session.exec(query.offset((number - 1) * PER_PAGE).limit(PER_PAGE)).all()), number, total)


# -- the overview ------------------------------------------------------------------------------


def attention(session: Session, *, now: datetime) -> dict:
    """What needs an admin: held mail, undeliverable mail, bounced partner emails, and new
    referrals whose deadline falls within a day."""
    bounced = select(Referral).where(Referral.bounce.is_not(None), Referral.status.in_(lifecycle.ACTIVE))
    missing = select(Referral).where(Referral.status == lifecycle.INITIAL, Referral.deadline_at <= now + timedelta(days=1))
    return {
        "held": held.count(session),
        "undeliverable": _count(session, select(func.count()).select_from(OutboundMessage)
                                .where(OutboundMessage.status == "failed")),
        # The newest by id from the index on (status, bounce): ordered by the index on created_at,
        # SQLite would walk every referral to find the few that bounced.
        "bounced": session.exec(select(Referral).where(Referral.id.in_(bounced.with_only_columns(Referral.id)))
                                .order_by(Referral.created_at.desc()).limit(10)).all(),
        "bounced_count": _count(session, select(func.count()).select_from(bounced.subquery())),
        "about_to_miss": session.exec(missing.order_by(Referral.deadline_at).limit(10)).all(),
        "about_to_miss_count": _count(session, select(func.count()).select_from(missing.subquery())),
    }


def week_starts(*, now: datetime, tz: str) -> list[datetime]:
    """The Mondays (00:00 local time) that start each of the last ``WEEKS`` weeks, oldest first."""
    today = now.astimezone(ZoneInfo(tz)).date()
    monday = today - timedelta(days=today.weekday())
    return [datetime.combine(monday - timedelta(weeks=n), time(0), ZoneInfo(tz)) for n in range(WEEKS - 1, -1, -1)]


def referrals_per_week(weeks: list[Counter]) -> dict[str, list[int]]:
    """Referrals created in each week (``tally.spans``), by how they stand now (OUTCOMES)."""
    return {name: [sum(week[status] for status in states) for week in weeks] for name, _, states in OUTCOMES}


def response_times(counts: Counter) -> list[int]:
    """How many referrals of ``tally.spans`` were first answered within each bucket."""
    return [counts[name] for name in tally.BUCKETS]


def funnel(states: dict[str, int]) -> list[tuple[str, int]]:
    return [(label, sum(states[s] for s in reached)) for label, reached in FUNNEL]


# -- referrals ---------------------------------------------------------------------------------


def referrals(session: Session, *, state: str | None, partner: str | None, region: str | None, number: int) -> Page:
    scope = stats.Scope(partner=partner or None, region=region or None)
    where = scope.where(select(Referral, Rfi).join(Rfi, Rfi.id == Referral.rfi_id))
    counted = scope.where(select(func.count()).select_from(Referral))
    if state:
        where, counted = where.where(Referral.status == state), counted.where(Referral.status == state)
    return paged(session, where.order_by(Referral.created_at.desc(), Referral.id.desc()), counted, number)


def partner_ids(session: Session) -> list[str]:
    return list(session.exec(select(PartnerRow.id).order_by(PartnerRow.id)).all())


def referral(session: Session, referral_id: str) -> dict | None:
    found = session.get(Referral, referral_id)
    if found is None:
        return None
    sent = session.exec(select(OutboundMessage).where(OutboundMessage.referral_id == found.id)
                        .order_by(OutboundMessage.created_at, OutboundMessage.id)).all()
    received = session.exec(select(InboundMessage).where(InboundMessage.referral_id == found.id)
                            .order_by(InboundMessage.received_at, InboundMessage.id)).all()
    events = session.exec(select(Event).where(Event.referral_id == found.id).order_by(Event.at, Event.id)).all()
    return {"referral": found, "rfi": session.get(Rfi, found.rfi_id), "events": events,
            "sent": [(row, text_of(row.raw)) for row in sent], "received": received,
            "partner": session.get(PartnerRow, found.partner_id)}


def text_of(raw: bytes | None) -> str:
    """The plain-text part of a stored email."""
    if not raw:
        return ""
    try:
        body = message_from_bytes(raw, policy=default_policy).get_body(("plain",))
        return body.get_content() if body is not None else ""
    except Exception:  # an email we cannot read back is shown without its text, not as an error
        return ""


# -- partners ----------------------------------------------------------------------------------


def partners(session: Session, *, now: datetime) -> list[dict]:
    """Each profile with its referrals per state, responsiveness, acceptance and win rates."""
    per_state: dict[str, dict[str, int]] = {}
    for key, status, count in session.exec(select(Referral.profile_key, Referral.status, func.count())
                                           .group_by(Referral.profile_key, Referral.status)).all():
        per_state.setdefault(key, {})[status] = count
    responsive = stats.responsiveness(session, stats.Scope(), now=now, group=Referral.profile_key)
    names = dict(session.exec(select(PartnerRow.id, PartnerRow.name)).all())
    rows = []
    for profile in session.exec(select(ProfileRow).order_by(ProfileRow.partner_id, ProfileRow.region)).all():
        states = per_state.get(profile.key, {})
        total = sum(states.values())
        acceptance, wins = stats.rates({name: states.get(name, 0) for name in lifecycle.NAMES})
        median_hours, within = responsive.get(profile.key, (None, None))
        rows.append({"profile": profile, "name": names.get(profile.partner_id, profile.partner_id), "total": total,
                     "open": sum(states.get(s, 0) for s in lifecycle.ACTIVE), "within_24h": within,
                     "median_hours": median_hours,
                     "acceptance_rate": acceptance, "win_rate": wins, "won": states.get("won", 0)})
    return rows


# -- mail --------------------------------------------------------------------------------------


def inbox(session: Session, *, number: int) -> tuple[Page, dict[str, int]]:
    query = (select(InboundMessage).where(InboundMessage.outcome.in_(held.HELD))
             .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()))
    outcomes = dict(session.exec(select(InboundMessage.outcome, func.count()).group_by(InboundMessage.outcome)
                                 .order_by(func.count().desc())).all())
    return paged(session, query, select(func.count()).select_from(query.subquery()), number), outcomes


def outbox(session: Session, *, status: str | None, number: int) -> tuple[Page, dict[str, int]]:
    query = select(OutboundMessage).order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc())
    counted = select(func.count()).select_from(OutboundMessage)
    if status:
        query, counted = query.where(OutboundMessage.status == status), counted.where(OutboundMessage.status == status)
    statuses = dict(session.exec(select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)).all())
    return paged(session, query, counted, number), statuses


def _count(session: Session, query) -> int:
    return session.exec(query).one()
