"""Deal values and closing dates as partners write them (SPEC §3): in their locale's number
format, with currencies, ``k``/``m``, and dates in ISO, dotted, slashed and written-out forms
in every language refbot speaks (month names from the Unicode CLDR, through Babel).

Errors are ``BadValue`` and ``BadDate`` with facts; the words that explain them are in
``templates/_refusals.txt.j2``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from babel.dates import get_month_names
from babel.numbers import NumberFormatError, list_currencies, parse_decimal

from bot.errors import BadDate, BadValue
from bot.locales import LOCALES, words
from bot.words import fold

# -- values -------------------------------------------------------------------------------

_SYMBOLS = {"€": "EUR", "$": "USD", "US$": "USD", "£": "GBP"}
# Upper-case ISO codes only ("ALL", "TOP" and "TRY" are currencies too), plus the usual lower-case ones.
_CURRENCY = (r"US\$|[€$£]|(?<![A-Za-z])(?:" + "|".join(sorted(list_currencies())) + r"|(?i:eur|euros?|usd|gbp|chf))"
             r"(?![A-Za-z])")
_NUMBER = r"\d{1,3}(?:[ \u00a0\u202f'’]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)*"  # "25 000" or "25.000,50"
VALUE = re.compile(rf"(?<![\w.,])(?:(?P<pre>{_CURRENCY})\s*)?(?P<sign>[-−])?(?P<number>{_NUMBER})(?:[.,]-)?"
                    rf"(?:\s*(?P<mult>(?i:k|m|mio\.?|mn)))?(?:\s*(?P<post>{_CURRENCY}))?(?!\w)")
_MULTIPLIERS = {"k": 1000, "m": 1_000_000, "mio": 1_000_000, "mn": 1_000_000}
_CENT, _TOO_LARGE = Decimal("0.01"), Decimal(10) ** 15


def parse_value(text: str, *, locale: str, currency: str) -> tuple[Decimal, str]:
    """A positive amount and its ISO currency (``currency`` when none is written)."""
    found = VALUE.fullmatch(text.strip())
    if not found:
        raise BadValue("unreadable", text=text.strip())
    return value_of(found, locale=locale, currency=currency)


def value_of(found: re.Match, *, locale: str, currency: str) -> tuple[Decimal, str]:
    text = found.group(0).strip()
    codes = {_code(c) for c in (found["pre"], found["post"]) if c}
    if len(codes) > 1:
        raise BadValue("two_currencies", text=text)
    number = _number(found["number"], locale, text)
    if not found["mult"] and number.as_tuple().exponent < -2:  # "25.000" in English: 25 or 25000?
        raise BadValue("too_many_decimals", text=text)
    value = number * _MULTIPLIERS[found["mult"].lower().rstrip(".")] if found["mult"] else number
    if found["sign"] or value <= 0:
        raise BadValue("not_positive", text=text)
    if value >= _TOO_LARGE:
        raise BadValue("too_large", text=text)
    if value != value.quantize(_CENT):
        raise BadValue("not_whole_cents", text=text)
    value = value.quantize(Decimal(1)) if value == value.to_integral_value() else value
    return value, codes.pop() if codes else currency


def _number(text: str, locale: str, shown: str) -> Decimal:
    digits = re.sub(r"(?<=\d)[ \u00a0\u202f'’](?=\d{3})", "", text)  # spaces group thousands anywhere
    try:
        return parse_decimal(digits, locale=locale.replace("-", "_"), strict=True)
    except NumberFormatError:
        # "25000.50" from a German profile, "1,5m" from an English one: a single separator
        # followed by one or two digits cannot group thousands, so it is the decimal mark.
        if single := re.fullmatch(r"(\d+)[.,](\d{1,2})", digits):
            return Decimal(f"{single[1]}.{single[2]}")
        raise BadValue("number_format", text=shown) from None


def _code(word: str) -> str:
    return _SYMBOLS.get(word) or ("EUR" if word.lower().startswith("euro") else word.upper())


# -- dates --------------------------------------------------------------------------------


def _month_names() -> dict[str, int]:
    """Every way of writing a month that refbot reads, folded, to its number."""
    names: dict[str, int] = {}
    for locale in LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale=locale).items():
                    names[fold(name).rstrip(".")] = number
        for number, extra in words(locale).get("dates", {}).get("months", {}).items():
            names.update({fold(name): int(number) for name in extra})
    return names


def _alternatives(key: str) -> str:
    return "|".join(re.escape(w) for locale in LOCALES for w in words(locale).get("dates", {}).get(key, []))


_MONTHS = _month_names()
# Matched against the folded text: accents and case do not matter ("decembre", "MÄRZ").
_MONTH = "(?:" + "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True)) + r")\.?"
_DAY = rf"\d{{1,2}}(?:{_alternatives('day_suffixes')})?"
_BEFORE_MONTH = rf"(?:(?:{_alternatives('before_month')})\s+)?"
DATE = re.compile(
    r"(?<![\w./-])(?:(?P<iso>(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2}))"
    rf"|(?P<day_first>(?P<dd>{_DAY})\s*{_BEFORE_MONTH}(?P<dm>{_MONTH}),?\s*(?P<dy>\d{{4}}))"
    rf"|(?P<month_first>(?P<mm>{_MONTH})\s*(?P<md>{_DAY}),?\s*(?P<my>\d{{4}}))"
    r"|(?P<dotted>(?P<td>\d{1,2})\.\s?(?P<tm>\d{1,2})\.\s?(?P<ty>\d{4}))"
    r"|(?P<slashed>(?P<a>\d{1,2})[/-](?P<b>\d{1,2})[/-](?P<sy>\d{4})))(?!\w)")


def find_dates(text: str) -> list[re.Match]:
    """Every date written in ``text``; match positions are positions in ``text``."""
    return list(DATE.finditer(fold(text)))


def parse_date(text: str, *, today: date) -> date:
    """A closing date from ``today`` on, in one of the formats of SPEC §3."""
    found = DATE.fullmatch(fold(text.strip()))
    if not found:
        raise BadDate("unreadable", text=text.strip())
    return date_of(found, today=today, text=text.strip())


def date_of(found: re.Match, *, today: date, text: str | None = None) -> date:
    """The date ``found`` names; ``text`` is the date as the partner wrote it (for errors)."""
    text = text or found.group(0)
    try:
        if found["iso"]:
            closing = date(int(found["y"]), int(found["m"]), int(found["d"]))
        elif found["dotted"]:
            closing = date(int(found["ty"]), int(found["tm"]), int(found["td"]))
        elif found["slashed"]:
            closing = _slashed(text, int(found["a"]), int(found["b"]), int(found["sy"]))
        elif found["day_first"]:
            closing = date(int(found["dy"]), _month(found["dm"]), _day(found["dd"]))
        else:
            closing = date(int(found["my"]), _month(found["mm"]), _day(found["md"]))
    except ValueError:  # 2026-02-30, 31/31/2026
        raise BadDate("not_in_calendar", text=text) from None
    if closing < today:
        raise BadDate("past", text=text, date=closing, today=today)
    return closing


def _month(name: str) -> int:
    return _MONTHS[name.rstrip(".")]


def _day(text: str) -> int:
    return int(re.match(r"\d+", text).group(0))


def _slashed(text: str, a: int, b: int, year: int) -> date:
    """12/31/2026 and 31/12/2026 are clear; 03/04/2026 could be either, so we ask."""
    if a == b or (a > 12) != (b > 12):
        day, month = (a, b) if a > 12 else (b, a)
        return date(year, month, day)
    if a > 12:
        raise ValueError(text)
    raise BadDate("ambiguous", text=text, day_first=date(year, b, a), month_first=date(year, a, b))
