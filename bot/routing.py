"""Which partner profiles an RFI goes to: the named partners, or the best matches.

Ranking is a list of scored reasons so an admin can see why a partner was chosen: the fit of
region, location, keywords and company size here, weighed by ``matching.weights``; what the
profile's past adds (responsiveness, history with similar referrals) comes from ``history``
(``bot.ranking``).
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
    score: float = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return profile_key(self.partner.id, self.profile.region, self.profile.locations)


@dataclass(frozen=True)
class Unrouted:
    partner: str
    reason: str


# What a profile's past adds to its score, with the reasons in words (bot.ranking.history).
HistoryScore = Callable[[Route], tuple[float, list[str]]]


def route(rfi: RfiFacts, config: Config, *, history: HistoryScore | None = None) -> tuple[list[Route], list[Unrouted]]:
    if rfi.partners:
        return _named(rfi, config)
    return ranked(rfi, config, history=history)[: config.matching.max_partners], []


def ranked(rfi: RfiFacts, config: Config, *, history: HistoryScore | None = None,
           leave_out: Iterable[str] = ()) -> list[Route]:
    """Every profile that serves the RFI, best first (without the profile keys in ``leave_out``)."""
    left_out = set(leave_out)
    found = [r for r in candidates(rfi, config.partners, config) if r.key not in left_out]
    return rank(found, rfi, history=history)


def _named(rfi: RfiFacts, config: Config) -> tuple[list[Route], list[Unrouted]]:
    routes, unrouted = [], []
    for partner_id in dict.fromkeys(rfi.partners):  # a partner named twice gets one referral
        partner = config.partner(partner_id)
        if partner is None:
            unrouted.append(Unrouted(partner_id, "unknown partner"))
            continue
        found = rank(candidates(rfi, [partner], config), rfi)
        if not found:
            where = rfi.region + (f"/{rfi.location}" if rfi.location else "")
            unrouted.append(Unrouted(partner_id, f"no profile for {where}"))
            continue
        routes.append(found[0])
    return routes, unrouted


def candidates(rfi: RfiFacts, partners: Iterable[Partner], config: Config) -> list[Route]:
    """Every profile serving the RFI's region and location, the best one per partner."""
    found: dict[str, Route] = {}
    for partner in partners:
        for profile in partner.profiles:
            if not profile.serves(rfi.region, rfi.location):
                continue
            candidate = _score(Route(partner, profile), rfi, config.matching.weights)
            best = found.get(partner.id)
            if best is None or candidate.score > best.score:
                found[partner.id] = candidate
    return list(found.values())


def rank(routes: list[Route], rfi: RfiFacts, *, history: HistoryScore | None = None) -> list[Route]:
    for candidate in routes:
        if history:
            points, reasons = history(candidate)
            candidate.score += points
            candidate.reasons.extend(reasons)
        candidate.score = round(candidate.score, 2)
    return sorted(routes, key=lambda r: (-r.score, r.partner.id))


def _score(candidate: Route, rfi: RfiFacts, weights) -> Route:
    profile = candidate.profile
    if profile.locations:
        candidate.score += weights.location
        candidate.reasons.append(f"serves {rfi.location}")
    else:
        candidate.score += weights.location / 2
        candidate.reasons.append(f"serves all of {profile.region}")
    wanted = normalized_words([*rfi.keywords, *rfi.products])
    overlap = sorted(k for k in profile.keywords if normalized_words([k]) & wanted)
    if overlap:
        candidate.score += weights.keyword * len(overlap)
        candidate.reasons.append("keywords: " + ", ".join(overlap))
    if rfi.company_size and profile.company_sizes:
        if rfi.company_size in profile.company_sizes:
            candidate.score += weights.company_size
            candidate.reasons.append(f"prefers {rfi.company_size} companies")
        else:
            candidate.score -= weights.company_size
            candidate.reasons.append(f"prefers {', '.join(profile.company_sizes)} companies")
    return candidate


def normalized_words(phrases: Iterable[str]) -> set[str]:
    """Keywords as compared: lower case, each word in the singular ("SQL Servers" is "sql server")."""
    return {" ".join(_singular(word) for word in phrase.casefold().split()) for phrase in phrases if phrase.strip()}


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word
