"""When a referral's timeout falls due and when its next reminder goes out.

Both are stored on the referral when it enters a state, so they survive restarts.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import TimeoutSettings
from bot.models import Referral


def plan(referral: Referral, *, now: datetime, timeouts: TimeoutSettings, tz: str) -> None:
    """Set the deadline and first reminder for the state the referral has just entered."""
    if referral.status == "new":
        referral.deadline_at = referral.status_since + timedelta(hours=timeouts.new_hours)
    elif referral.status == "evaluating":
        referral.deadline_at = referral.status_since + timedelta(days=timeouts.evaluating_days)
    else:
        referral.deadline_at = None
    referral.next_reminder_at = next_reminder(referral, after=now, timeouts=timeouts, tz=tz)


def next_reminder(referral: Referral, *, after: datetime, timeouts: TimeoutSettings, tz: str) -> datetime | None:
    """The first reminder for the referral's state that lies after ``after``, if any."""
    if referral.status == "new":
        times = [referral.status_since + timedelta(hours=h) for h in sorted(timeouts.new_reminder_hours)]
    elif referral.status == "evaluating":
        times = [referral.deadline_at - timedelta(hours=timeouts.evaluating_reminder_hours_before)]
    elif referral.status == "negotiating" and referral.closing_date:
        # Ask for WON or LOST once the estimated closing day is over, then at most weekly.
        closed = datetime.combine(referral.closing_date + timedelta(days=1), time(9), ZoneInfo(tz))
        times = [closed, after + timedelta(days=timeouts.closing_reminder_days)]
    else:
        return None
    return next((t for t in times if t > after and t > referral.status_since), None)
