"""Numbers, money, dates and times as the reader of an email expects them, by Babel.

An email formats a handful of values, but the sweep and an intake render thousands of emails:
so a locale is parsed once (``Formats``), and a zone's short name, which depends only on the
zone, the offset and daylight saving in effect, is looked up once per such combination."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent


class Formats:
    """Numbers, money, dates and times as a reader in ``locale`` expects them."""

    def __init__(self, locale: str, tz: ZoneInfo, catalog) -> None:
        self.locale, self.tz = locale, tz
        self._babel = Locale.parse(locale)  # parsed once: each format call would parse it again
        # TRANSLATORS: how emails show a date: a CLDR date pattern, as Babel reads it ("31 Dec 2026").
        self.date_pattern = catalog.gettext("d MMM y")
        # TRANSLATORS: how partners should type a date in a command: a CLDR date pattern that refbot
        # reads back without doubt ("2026-12-31"); never a slashed day and month that could be swapped.
        self.typed_pattern = catalog.gettext("yyyy-MM-dd")
        self._moment_pattern = f"{self.date_pattern}, HH:mm"

    def day(self, value: datetime | date | None) -> str:
        """A date, or the bot-time-zone day of a stored time: "31 Dec 2026" / "31.12.2026"."""
        if value is None:
            return "—"
        day = self._local(value).date() if isinstance(value, datetime) else value
        return format_date(day, self.date_pattern, locale=self._babel)

    def typed_date(self, value: date) -> str:
        return format_date(value, self.typed_pattern, locale=self._babel)

    def moment(self, value: datetime | date | None) -> str:
        """A stored (aware UTC) time in the bot's time zone, e.g. "24 Nov 2026, 11:00 CET"."""
        if value is None or not isinstance(value, datetime):
            return self.day(value)
        local = self._local(value)
        when = format_datetime(local, self._moment_pattern, tzinfo=self.tz, locale=self._babel)
        return f"{when} {zone_label(local, self.locale)}"

    def money(self, value: Decimal | int | str | None, currency: str) -> str:
        return format_money(value, currency, self._babel)

    def number(self, value: Decimal | int | str, places: int | None = None) -> str:
        """A number as the reader writes it: "25,000.50", "25.000,50", "25 000,50"."""
        pattern = None if places is None else "#,##0." + "0" * places
        return format_decimal(Decimal(str(value)), format=pattern, locale=self._babel)

    def percent(self, share: float | None) -> str:
        """A share as the reader writes it: "92 %", "92 %" (no-break), "92%"."""
        return "—" if share is None else format_percent(share, locale=self._babel)

    def hours(self, value: float | None) -> str:
        """A duration in hours, rounded for people: "45 min", "5 h"."""
        if value is None:
            return "—"
        return f"{round(value * 60)} min" if value < 1 else f"{format_decimal(round(value), locale=self._babel)} h"

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:  # a naive time would be shown in the wrong zone without a word
            raise ValueError(f"naive datetime {moment.isoformat()}: stored times must be aware UTC")
        return moment.astimezone(self.tz)


def zone_label(local: datetime, locale: str) -> str:
    """A short zone name the reader knows: "MEZ" in German, "CET"/"EST" in English, else "GMT+04:00"."""
    # What the name depends on: the zone, its offset and daylight saving then, its abbreviation.
    key = (local.tzinfo, local.utcoffset(), local.dst(), local.tzname(), locale)
    if key not in _ZONE_LABELS:
        if len(_ZONE_LABELS) >= 1024:  # a bound, should a long-running bot meet many zones
            _ZONE_LABELS.clear()
        _ZONE_LABELS[key] = _zone_label(local, locale)
    return _ZONE_LABELS[key]


_ZONE_LABELS: dict[tuple, str] = {}


def _zone_label(local: datetime, locale: str) -> str:
    name = format_datetime(local, "z", tzinfo=local.tzinfo, locale=locale)
    if name.isalpha() and len(name) <= 5:
        return name
    name = local.tzname() or ""
    return name if name.isalpha() else format_datetime(local, "ZZZZ", tzinfo=local.tzinfo, locale=locale)


def format_money(value: Decimal | int | str | None, currency: str, locale: str | Locale) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):  # a float has already lost cents somewhere: fail loudly
        raise TypeError(f"money must be a Decimal, not the float {value!r}")
    return format_currency(Decimal(value), currency, locale=locale)
