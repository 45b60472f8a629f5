"""Deadlines and reminder times, as pure functions of the time."""

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

from bot.config import TimeoutSettings
from bot.deadlines import next_reminder, plan

T0 = datetime(2026, 11, 24, 9, tzinfo=timezone.utc)
TIMEOUTS = TimeoutSettings()


def referral(status, **kw):
    return SimpleNamespace(status=status, status_since=T0, deadline_at=None, next_reminder_at=None,
                           closing_date=kw.get("closing_date"))


def test_new_referral_is_due_after_72_hours_and_reminded_at_24_and_60():
    r = referral("new")
    plan(r, now=T0, timeouts=TIMEOUTS, tz="Europe/Berlin")
    assert r.deadline_at == T0 + timedelta(hours=72)
    assert r.next_reminder_at == T0 + timedelta(hours=24)
    assert next_reminder(r, after=T0 + timedelta(hours=24), timeouts=TIMEOUTS, tz="UTC") == T0 + timedelta(hours=60)
    assert next_reminder(r, after=T0 + timedelta(hours=60), timeouts=TIMEOUTS, tz="UTC") is None


def test_after_downtime_only_the_latest_reminder_is_left():
    r = referral("new")
    plan(r, now=T0, timeouts=TIMEOUTS, tz="UTC")
    assert next_reminder(r, after=T0 + timedelta(hours=61), timeouts=TIMEOUTS, tz="UTC") is None


def test_evaluating_expires_after_7_days_with_one_reminder_a_day_before():
    r = referral("evaluating")
    plan(r, now=T0, timeouts=TIMEOUTS, tz="UTC")
    assert r.deadline_at == T0 + timedelta(days=7)
    assert r.next_reminder_at == T0 + timedelta(days=6)


def test_negotiating_is_asked_after_the_closing_date_then_weekly():
    r = referral("negotiating", closing_date=date(2026, 12, 31))
    plan(r, now=T0, timeouts=TIMEOUTS, tz="Europe/Berlin")
    assert r.deadline_at is None
    assert r.next_reminder_at == datetime(2027, 1, 1, 8, tzinfo=timezone.utc)  # 09:00 in Berlin
    later = datetime(2027, 1, 1, 8, tzinfo=timezone.utc)
    assert next_reminder(r, after=later, timeouts=TIMEOUTS, tz="Europe/Berlin") == later + timedelta(days=7)


def test_archived_states_have_no_deadline():
    r = referral("won")
    plan(r, now=T0, timeouts=TIMEOUTS, tz="UTC")
    assert (r.deadline_at, r.next_reminder_at) == (None, None)
