"""Who may act on a referral (SPEC §4): one rule, for mail and for `referrals apply`."""

from __future__ import annotations

import pytest

from bot import access
from bot.db import transaction
from bot.models import Referral


@pytest.mark.parametrize("address, allowed", [
    ("leads-de@contoso.example", True),       # the profile's contact
    ("LEADS-DE@Contoso.Example", True),       # addresses compare without regard to case
    ("anna@contoso.example", True),           # the profile's team
    ("sales@fabrikam.example", False),        # a partner, but of another profile
    ("mallory@evil.example", False),
])
def test_the_contact_and_the_team_may_act_nobody_else(app, address, allowed):
    with transaction(app.engine) as session:
        assert access.may_act(session, session.get(Referral, "R-7K3Q9"), address) is allowed


@pytest.mark.parametrize("address, known", [("sales@fabrikam.example", True), ("ANNA@contoso.example", True),
                                            ("mallory@evil.example", False)])
def test_partner_addresses_are_those_of_any_profile(app, address, known):
    with transaction(app.engine) as session:
        assert access.is_partner_address(session, address) is known
