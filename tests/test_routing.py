"""RFIs go to the named partners' profiles, or to the best matches."""

import tomllib
from types import SimpleNamespace

from bot import config
from bot.routing import route
from tests.conftest import PARTNERS


def facts(**changes):
    base = dict(region="DE", location="Berlin", keywords=["migration", "sql server"], products=["Azure SQL"],
                partners=[], company_size="medium")
    return SimpleNamespace(**{**base, **changes})


CONFIG = config.parse(tomllib.loads(PARTNERS))


def test_named_partner_goes_to_its_profile_for_region_and_location():
    routes, unrouted = route(facts(partners=["contoso"]), CONFIG)
    assert [(r.partner.id, r.profile.contact) for r in routes] == [("contoso", "leads-de@contoso.example")]
    assert unrouted == []


def test_named_partners_that_cannot_be_routed_are_reported():
    routes, unrouted = route(facts(partners=["contoso", "nobody", "northwind"], location="Hamburg"), CONFIG)
    assert routes == []
    assert [(u.partner, u.reason) for u in unrouted] == [
        ("contoso", "no profile for DE/Hamburg"), ("nobody", "unknown partner"), ("northwind", "no profile for DE/Hamburg"),
    ]


def test_region_wide_profile_serves_every_location():
    routes, _ = route(facts(partners=["contoso"], region="uk", location="Leeds"), CONFIG)
    assert routes[0].profile.contact == "leads-uk@contoso.example"


def test_unnamed_rfi_goes_to_best_matches_by_keywords_and_size():
    routes, _ = route(facts(keywords=["sql server"], products=[], company_size="large"), CONFIG)
    assert [r.partner.id for r in routes] == ["fabrikam", "contoso"]
    assert "keywords: sql server" in routes[0].reasons


def test_location_and_keywords_rank_contoso_first():
    routes, _ = route(facts(keywords=["migration", "azure"]), CONFIG)
    assert [r.partner.id for r in routes] == ["contoso", "fabrikam"]


def test_max_partners_limits_the_matches():
    limited = CONFIG.model_copy(update={"matching": config.MatchingSettings(max_partners=1)})
    routes, _ = route(facts(), limited)
    assert len(routes) == 1


def test_no_profile_in_region_routes_nowhere():
    assert route(facts(region="US"), CONFIG) == ([], [])
