"""Time: stored and compared in UTC, shown to admins in the configured time zone."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """A stored time as ISO 8601 UTC for JSON: "2026-11-24T10:00:00Z"."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def local_time(moment: datetime, tz: str) -> str:
    """A stored time in the bot's time zone for the command line: "2026-11-24 11:00 CET"."""
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")
