"""The transition table, checked for every (state, command) pair."""

from datetime import date, datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from bot.commands import Command
from bot.errors import AlreadyInEffect, Archived, NotValidNow
from bot.lifecycle import TIMEOUT, TRANSITIONS, apply, valid_commands
from bot.models import ARCHIVED_STATES, STATES

NOW = datetime(2026, 11, 24, 9, tzinfo=timezone.utc)
TRIGGERS = ("INTERESTED", "NO THANKS", "ACCEPT", "DECLINE", "WON", "LOST", TIMEOUT)

# SPEC §2, written out once more by hand: (from, trigger) -> (to, partner email, customer email)
EXPECTED = {
    ("new", "INTERESTED"): ("evaluating", "partner/details", None),
    ("new", "NO THANKS"): ("skipped", "partner/confirm_skipped", "customer/redirect"),
    ("new", TIMEOUT): ("missed", "partner/missed", "customer/redirect"),
    ("evaluating", "ACCEPT"): ("negotiating", "partner/confirm_negotiating", "customer/partner_will_contact"),
    ("evaluating", "DECLINE"): ("declined", "partner/confirm_declined", "customer/redirect"),
    ("evaluating", TIMEOUT): ("expired", "partner/expired", "customer/redirect"),
    ("negotiating", "WON"): ("won", "partner/confirm_won", None),
    ("negotiating", "LOST"): ("lost", "partner/confirm_lost", None),
}


def referral(status: str):
    return SimpleNamespace(status=status, status_since=NOW)


def command(name: str):
    if name == TIMEOUT:
        return TIMEOUT
    if name == "ACCEPT":
        return Command(name, line="ACCEPT 25000 2027-01-31", value=Decimal("25000"), currency="EUR",
                       closing_date=date(2027, 1, 31))
    return Command(name, line=name)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_state_and_command(state, trigger):
    expected = EXPECTED.get((state, trigger))
    if expected:
        effects = apply(referral(state), command(trigger), actor="leads@contoso.example", now=NOW)
        to, partner_email, customer_email = expected
        assert effects.target == to
        assert [e.template for e in effects.emails] == [partner_email] + ([customer_email] if customer_email else [])
        return
    with pytest.raises((Archived, AlreadyInEffect, NotValidNow)) as refused:
        apply(referral(state), command(trigger), actor="leads@contoso.example", now=NOW)
    if state in ARCHIVED_STATES:
        assert isinstance(refused.value, Archived)
    elif any(t.trigger == trigger and t.target == state for t in TRANSITIONS):
        assert isinstance(refused.value, AlreadyInEffect)
    else:
        assert isinstance(refused.value, NotValidNow)


def test_the_table_is_exactly_spec_section_2():
    assert {(t.source, t.trigger): (t.target, t.partner_email, t.customer_email) for t in TRANSITIONS} == EXPECTED


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("name", ["STATUS", "HELP"])
def test_status_and_help_answer_in_every_state(state, name):
    effects = apply(referral(state), Command(name, line=name), actor="x@y.example", now=NOW)
    assert effects.target is None
    assert [e.template for e in effects.emails] == [f"partner/{name.lower()}"]


def test_accept_carries_value_and_date():
    effects = apply(referral("evaluating"), command("ACCEPT"), actor="x@y.example", now=NOW)
    assert (effects.deal_value, effects.currency, effects.closing_date) == (Decimal("25000"), "EUR", date(2027, 1, 31))


def test_valid_commands_per_state():
    assert valid_commands("new") == ["INTERESTED", "NO THANKS", "STATUS", "HELP"]
    assert valid_commands("evaluating") == ["ACCEPT", "DECLINE", "STATUS", "HELP"]
    assert valid_commands("negotiating") == ["WON", "LOST", "STATUS", "HELP"]
    assert valid_commands("won") == ["STATUS", "HELP"]
