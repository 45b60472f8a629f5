"""Which partner profiles an RFI goes to: the named partners, or the best matches.

Ranking is a list of scored reasons so an admin can see why a partner was chosen. The
``history`` seam is where responsiveness and past acceptances will weigh in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol

from bot.config import Config, Partner, Profile
from bot.db import profile_key


class RfiFacts(Protocol):
    region: str
    location: str | None
    keywords: list[str]
    products: list[str]
    partners: list[str]
    company_size: str | None


@dataclass
class Route:
    partner: Partner
    profile: Profile
    score: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return profile_key(self.partner.id, self.profile.region, self.profile.locations)


@dataclass(frozen=True)
class Unrouted:
    partner: str
    reason: str


# A later issue ranks by responsiveness and history; it plugs in here.
HistoryScore = Callable[[Route], tuple[int, str | None]]


def route(rfi: RfiFacts, config: Config, *, history: HistoryScore | None = None) -> tuple[list[Route], list[Unrouted]]:
    if rfi.partners:
        return _named(rfi, config)
    ranked = rank(candidates(rfi, config.partners), rfi, history=history)
    return ranked[: config.matching.max_partners], []


def _named(rfi: RfiFacts, config: Config) -> tuple[list[Route], list[Unrouted]]:
    routes, unrouted = [], []
    for partner_id in dict.fromkeys(rfi.partners):  # a partner named twice gets one referral
        partner = config.partner(partner_id)
        if partner is None:
            unrouted.append(Unrouted(partner_id, "unknown partner"))
            continue
        found = rank(candidates(rfi, [partner]), rfi)
        if not found:
            where = rfi.region + (f"/{rfi.location}" if rfi.location else "")
            unrouted.append(Unrouted(partner_id, f"no profile for {where}"))
            continue
        routes.append(found[0])
    return routes, unrouted


def candidates(rfi: RfiFacts, partners: Iterable[Partner]) -> list[Route]:
    """Every profile serving the RFI's region and location, the best one per partner."""
    found: dict[str, Route] = {}
    for partner in partners:
        for profile in partner.profiles:
            if not profile.serves(rfi.region, rfi.location):
                continue
            candidate = _score(Route(partner, profile), rfi)
            best = found.get(partner.id)
            if best is None or candidate.score > best.score:
                found[partner.id] = candidate
    return list(found.values())


def rank(routes: list[Route], rfi: RfiFacts, *, history: HistoryScore | None = None) -> list[Route]:
    for candidate in routes:
        if history:
            points, reason = history(candidate)
            candidate.score += points
            if reason:
                candidate.reasons.append(reason)
    return sorted(routes, key=lambda r: (-r.score, r.partner.id))


def _score(candidate: Route, rfi: RfiFacts) -> Route:
    profile = candidate.profile
    if profile.locations:
        candidate.score += 2
        candidate.reasons.append(f"serves {rfi.location}")
    else:
        candidate.score += 1
        candidate.reasons.append(f"serves all of {profile.region}")
    wanted = {k.casefold() for k in [*rfi.keywords, *rfi.products]}
    overlap = sorted(k for k in profile.keywords if k.casefold() in wanted)
    if overlap:
        candidate.score += 2 * len(overlap)
        candidate.reasons.append("keywords: " + ", ".join(overlap))
    if rfi.company_size and profile.company_sizes:
        if rfi.company_size in profile.company_sizes:
            candidate.score += 1
            candidate.reasons.append(f"prefers {rfi.company_size} companies")
        else:
            candidate.score -= 1
            candidate.reasons.append(f"prefers {', '.join(profile.company_sizes)} companies")
    return candidate
