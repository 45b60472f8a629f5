"""What a profile's past adds to its fit for an RFI (SPEC §7): how responsive it is, and how it
answered similar referrals. ``routing`` scores the fit (region, location, keywords, size); this
module reads the timeline and returns the extra points with their reasons in words.

Responsiveness: the share of referrals answered within 24 hours and the median first response,
over ``matching.history_days``, pulled towards a neutral middle for profiles with few referrals,
so that a new profile is neither rewarded nor punished. History: similar referrals (sharing a
keyword or product) accepted count up, similar ones declined or passed on count down.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import func
from sqlmodel import Session, select

from bot.config import Config
from bot.models import Event, Referral, Rfi
from bot.routing import HistoryScore, Route, normalized_words

ANSWERS = ("INTERESTED", "NO THANKS")  # a first response is one of these from a person
RECOMMENDED = timedelta(hours=24)
PRIOR = 2  # imagined referrals, half answered in time, that every profile starts with
ACCEPTED = ("negotiating", "won", "lost")  # reached ACCEPT
DECLINED = ("skipped", "declined")  # said NO THANKS or DECLINE


@dataclass
class Record:
    """One profile's referrals in the window."""

    decided: int = 0  # answered, or older than 24 hours
    in_time: int = 0  # answered within 24 hours
    hours: list[float] = field(default_factory=list)  # first-response times
    accepted_similar: int = 0
    declined_similar: int = 0

    @property
    def share(self) -> float | None:
        return self.in_time / self.decided if self.decided else None

    @property
    def median_hours(self) -> float | None:
        return median(self.hours) if self.hours else None


def records(session: Session, *, since: datetime, now: datetime, like: set[str] | None = None,
            window: Window | None = None) -> dict[str, Record]:
    """Every profile's record since ``since``, by profile key; similar means sharing one of ``like``."""
    counted = window.counted(session, since, now) if window is not None else Counted(_rows(session, since), now)
    return counted.records(like)


class Counted:
    """The window's referrals counted once: each profile's responsiveness, which is the same for
    every RFI, and the referrals it accepted or declined by their keywords and products, so that
    an RFI's similar ones are looked up by its words instead of by reading the whole window."""

    def __init__(self, rows, now: datetime) -> None:
        self.base: dict[str, Record] = {}
        # word -> (row, profile key, accepted) of each accepted or declined referral with that word
        self.decided_by_word: dict[str, list[tuple[int, str, bool]]] = {}
        for index, (profile_key, created_at, status, keywords, products, at) in enumerate(rows):
            record = self.base.setdefault(profile_key, Record())  # at: the first answer, or None
            if at is not None:
                record.hours.append((at - created_at).total_seconds() / 3600)
            if at is not None or now - created_at >= RECOMMENDED or status == "missed":
                record.decided += 1
                record.in_time += at is not None and at - created_at <= RECOMMENDED
            if status in ACCEPTED + DECLINED:
                for word in normalized_words([*keywords, *products]):
                    self.decided_by_word.setdefault(word, []).append((index, profile_key, status in ACCEPTED))

    def records(self, like: set[str] | None) -> dict[str, Record]:
        """The records with the accepted and declined referrals similar to ``like`` counted; the
        shared records are copied only where a count changes."""
        similar = {hit for word in like or () for hit in self.decided_by_word.get(word, ())}  # each referral once
        found = dict(self.base)
        for _row, profile_key, accepted in similar:
            if found[profile_key] is self.base[profile_key]:
                found[profile_key] = replace(self.base[profile_key])
            found[profile_key].accepted_similar += accepted
            found[profile_key].declined_similar += not accepted
        return found


class Window:
    """The window's referrals read and counted once for a file of RFIs routed at one ``now``.
    What is read stays true for the whole file: the referrals it creates are new, unanswered
    and younger than a day, so they count for no profile's record; reading the window again
    for each RFI would cost the square of the file's size."""

    def __init__(self) -> None:
        self._counted: dict[tuple[datetime, datetime], Counted] = {}

    def counted(self, session: Session, since: datetime, now: datetime) -> Counted:
        if (since, now) not in self._counted:
            self._counted[since, now] = Counted(_rows(session, since), now)
        return self._counted[since, now]


def _rows(session: Session, since: datetime) -> list[tuple]:
    # Only the columns counted, and the first answers joined in the same query: whole rows
    # would cost a multiple.
    first_answer = (select(Event.referral_id, func.min(Event.at).label("at"))
                    .where(Event.from_status == "new", Event.command.in_(ANSWERS))
                    .group_by(Event.referral_id).subquery())
    return list(session.exec(
        select(Referral.profile_key, Referral.created_at, Referral.status, Rfi.keywords, Rfi.products,
               first_answer.c.at)
        .join(Rfi, Referral.rfi_id == Rfi.id)
        .outerjoin(first_answer, first_answer.c.referral_id == Referral.id)
        .where(Referral.created_at >= since)).all())


def history(session: Session, config: Config, rfi, *, now: datetime, window: Window | None = None) -> HistoryScore:
    """The scorer ``routing.route`` adds to each candidate's fit for ``rfi``."""
    matching = config.matching
    weights = matching.weights
    found: dict[str, Record] | None = None

    def score(candidate: Route) -> tuple[float, list[str]]:
        nonlocal found
        if found is None:  # read when first asked: an RFI that names its partners is not ranked
            found = records(session, since=now - timedelta(days=matching.history_days), now=now,
                            like=normalized_words([*rfi.keywords, *rfi.products]), window=window)
        record = found.get(candidate.key, Record())
        points, reasons = 0.0, []
        if record.decided:
            # Pulled towards 50 % by PRIOR imagined referrals: two quick answers are not a record yet.
            share = (record.in_time + PRIOR / 2) / (record.decided + PRIOR)
            speed = 0.0 if record.median_hours is None else max(-1.0, min(1.0, 1 - record.median_hours / 24))
            points += weights.responsiveness * (0.75 * (2 * share - 1) + 0.25 * speed)
            reasons.append(f"answers {record.share:.0%} within 24 h ({record.decided} referral"
                           f"{'s' if record.decided != 1 else ''})".replace("%", " %"))
            if record.median_hours is not None:
                reasons.append(f"median first response {hours(record.median_hours)}")
        else:
            reasons.append(f"no referrals in the last {matching.history_days} days: neutral responsiveness")
        if record.accepted_similar:
            reasons.append(f"accepted {plural(record.accepted_similar, 'similar referral')}")
        if record.declined_similar:
            reasons.append(f"declined {plural(record.declined_similar, 'similar referral')}")
        points += weights.history * max(-3, min(3, record.accepted_similar - record.declined_similar))
        return points, reasons

    return score


def hours(value: float) -> str:
    return f"{value * 60:.0f} min" if value < 1 else f"{value:.0f} h"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
