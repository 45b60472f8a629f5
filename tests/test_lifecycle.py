"""The lifecycle table (SPEC §2), printed whole, and every (state, command) pair."""

from datetime import date, datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from bot import lifecycle
from bot.commands import NAMES, Command
from bot.errors import AlreadyInEffect, Archived, NotValidNow
from bot.lifecycle import TIMEOUT, TRANSITIONS, apply, valid_commands

NOW = datetime(2026, 11, 24, 9, tzinfo=timezone.utc)
TRIGGERS = (*[n for n in NAMES if n not in lifecycle.ANSWERS], TIMEOUT)

# SPEC §2 as people read it. The table is data (bot/lifecycle.py); this is what it must say.
TABLE = """\
from         trigger     to                  partner gets                 customer gets                                            undo
new          INTERESTED  evaluating          partner/details              —
new          NO THANKS   skipped             partner/confirm_skipped      customer/redirect                                        yes
new          TIMEOUT     missed              partner/missed               customer/redirect
evaluating   ACCEPT      negotiating         partner/confirm_negotiating  customer/partner_will_contact (if partner_will_contact)
evaluating   DECLINE     declined            partner/confirm_declined     customer/redirect                                        yes
evaluating   TIMEOUT     expired             partner/expired              customer/redirect
negotiating  UPDATE      negotiating         partner/confirm_updated      —
negotiating  WON         won                 partner/confirm_won          —                                                        yes
negotiating  LOST        lost                partner/confirm_lost         —                                                        yes
skipped      UNDO        (the state before)  partner/confirm_undone       —
declined     UNDO        (the state before)  partner/confirm_undone       —
won          UNDO        (the state before)  partner/confirm_undone       —
lost         UNDO        (the state before)  partner/confirm_undone       —
any          STATUS      (same)              partner/status               —
any          HELP        (same)              partner/help                 —

state        archived  deadline                reminder                     reminder schedule
new                    new_hours (hours)       partner/reminder_new         HoursAfterEntering(new_reminder_hours)
evaluating             evaluating_days (days)  partner/reminder_evaluating  BeforeDeadline(evaluating_reminder_hours_before)
negotiating            —                       partner/reminder_closing     AfterClosingDate(closing_reminder_days)
skipped      yes       —                       —                            —
missed       yes       —                       —                            —
declined     yes       —                       —                            —
expired      yes       —                       —                            —
won          yes       —                       —                            —
lost         yes       —                       —                            —
"""


def test_the_table_prints_as_spec_section_2():
    print("\n" + lifecycle.table())
    assert lifecycle.table() == TABLE


def referral(status: str):
    return SimpleNamespace(status=status, status_since=NOW)


def command(name: str):
    if name == TIMEOUT:
        return TIMEOUT
    if name == "ACCEPT":
        return Command(name, line="ACCEPT 25000 2027-01-31", value=Decimal("25000"), currency="EUR",
                       closing_date=date(2027, 1, 31))
    return Command(name, line=name)


@pytest.mark.parametrize("state", lifecycle.NAMES)
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_state_and_command(state, trigger):
    move = lifecycle.transition(state, trigger)
    if move:
        effects = apply(referral(state), command(trigger))
        assert effects.target == move.target
        assert [e.template for e in effects.emails] == [move.partner_email] + (
            [move.customer_email] if move.customer_email else [])
        return
    with pytest.raises((Archived, AlreadyInEffect, NotValidNow)) as refused:
        apply(referral(state), command(trigger))
    if lifecycle.is_archived(state):
        assert isinstance(refused.value, Archived)
    elif any(t.trigger == trigger and t.target == state for t in TRANSITIONS):
        assert isinstance(refused.value, AlreadyInEffect)
    else:
        assert isinstance(refused.value, NotValidNow)
    assert refused.value.command == trigger  # a state refusal names the command it understood
    if trigger != TIMEOUT:
        assert refused.value.line == command(trigger).line


@pytest.mark.parametrize("state", lifecycle.NAMES)
@pytest.mark.parametrize("name", list(lifecycle.ANSWERS))
def test_status_and_help_answer_in_every_state(state, name):
    effects = apply(referral(state), Command(name, line=name))
    assert effects.target is None
    assert [e.template for e in effects.emails] == [f"partner/{name.lower()}"]


def test_accept_carries_value_and_date():
    effects = apply(referral("evaluating"), command("ACCEPT"))
    assert (effects.deal_value, effects.currency, effects.closing_date) == (Decimal("25000"), "EUR", date(2027, 1, 31))
    assert effects.detail == "25000 EUR, 2027-01-31"


def test_valid_commands_per_state():
    assert valid_commands("new") == ["INTERESTED", "NO THANKS", "STATUS", "HELP"]
    assert valid_commands("evaluating") == ["ACCEPT", "DECLINE", "STATUS", "HELP"]
    assert valid_commands("negotiating") == ["UPDATE", "WON", "LOST", "STATUS", "HELP"]
    assert valid_commands("won") == ["UNDO", "STATUS", "HELP"]
    assert valid_commands("missed") == ["STATUS", "HELP"]


def test_every_template_the_table_names_exists():
    from bot.outbound.render import CONTEXT_KEYS

    named = {t.partner_email for t in TRANSITIONS} | {t.customer_email for t in TRANSITIONS if t.customer_email}
    named |= set(lifecycle.ANSWERS.values()) | {s.reminder.template for s in lifecycle.STATES if s.reminder}
    assert named <= set(CONTEXT_KEYS)
