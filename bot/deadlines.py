"""When a referral's timeout falls due and when its next reminder goes out, as the lifecycle
table says for its state.

Both are stored on the referral when it enters a state, so they survive restarts.
"""

from __future__ import annotations

from datetime import datetime

from bot import lifecycle
from bot.config import TimeoutSettings
from bot.models import Referral


def plan(referral: Referral, *, now: datetime, timeouts: TimeoutSettings, tz: str) -> None:
    """Set the deadline and first reminder for the state the referral has just entered."""
    deadline = lifecycle.state(referral.status).deadline
    referral.deadline_at = deadline.due(referral, timeouts) if deadline else None
    referral.next_reminder_at = next_reminder(referral, after=now, timeouts=timeouts, tz=tz)


def next_reminder(referral: Referral, *, after: datetime, timeouts: TimeoutSettings, tz: str) -> datetime | None:
    """The first reminder for the referral's state that lies after ``after``, if any."""
    reminder = lifecycle.state(referral.status).reminder
    if reminder is None:
        return None
    times = sorted(reminder.schedule.times(referral, after=after, timeouts=timeouts, tz=tz))
    return next((t for t in times if t > after and t > referral.status_since), None)
