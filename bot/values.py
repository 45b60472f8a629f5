"""Deal values and closing dates as partners write them (SPEC §3): in either locale's
number format, with currencies, ``k``/``m``, and dates in ISO, German and English forms.

Each error says what was wrong and what to write instead, in English and German.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from babel.dates import get_month_names
from babel.numbers import NumberFormatError, format_decimal, list_currencies, parse_decimal
from dateutil import parser as dateparser

from bot.errors import BadDate, BadValue

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
        raise BadValue(f"I cannot read '{text.strip()}' as an amount: write digits with an optional "
                       f"currency, like 25000, {_sample(locale)} EUR or €25k.",
                       message_de=f"„{text.strip()}“ können wir nicht als Betrag lesen: Bitte schreiben Sie Ziffern, "
                                  f"auf Wunsch mit Währung, z. B. 25000, {_sample_de(locale)} EUR oder 25k €.")
    return value_of(found, locale=locale, currency=currency)


def value_of(found: re.Match, *, locale: str, currency: str) -> tuple[Decimal, str]:
    text = found.group(0).strip()
    codes = {_code(c) for c in (found["pre"], found["post"]) if c}
    if len(codes) > 1:
        raise BadValue(f"'{text}' names two currencies; write one, like 25000 EUR.",
                       message_de=f"„{text}“ nennt zwei Währungen; bitte schreiben Sie nur eine, z. B. 25000 EUR.")
    number = _number(found["number"], locale, text)
    if not found["mult"] and number.as_tuple().exponent < -2:  # "25.000" in English: 25 or 25000?
        raise BadValue(f"'{text}' has more than two decimals, so I am not sure what you mean: "
                       f"write 25000 without separators, or like {_sample(locale)}.",
                       message_de=f"„{text}“ hat mehr als zwei Nachkommastellen, daher ist der Betrag nicht eindeutig: "
                                  f"Bitte schreiben Sie 25000 ohne Trennzeichen oder im Format {_sample_de(locale)}.")
    value = number * _MULTIPLIERS[found["mult"].lower().rstrip(".")] if found["mult"] else number
    if found["sign"] or value <= 0:
        raise BadValue(f"The value must be more than zero, and '{text}' is not; write the amount like 25000.",
                       message_de=f"Der Betrag muss größer als null sein, „{text}“ ist es nicht; bitte schreiben Sie "
                                  "ihn z. B. als 25000.")
    if value >= _TOO_LARGE:
        raise BadValue(f"'{text}' is too large for a deal value; check the digits and write it like 25000.",
                       message_de=f"„{text}“ ist zu groß für einen Auftragswert; bitte prüfen Sie die Ziffern und "
                                  "schreiben Sie den Betrag z. B. als 25000.")
    if value != value.quantize(_CENT):
        raise BadValue(f"'{text}' is not an amount in whole cents; write it like 25000 or {_sample(locale)}.",
                       message_de=f"„{text}“ ist kein Betrag in ganzen Cent; bitte schreiben Sie ihn z. B. als 25000 "
                                  f"oder {_sample_de(locale)}.")
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
        raise BadValue(f"I cannot read '{shown}' as an amount in your number format; "
                       f"write it like 25000 or {_sample(locale)}.",
                       message_de=f"„{shown}“ können wir in Ihrem Zahlenformat nicht als Betrag lesen; bitte "
                                  f"schreiben Sie ihn z. B. als 25000 oder {_sample_de(locale)}.") from None


def _code(word: str) -> str:
    return _SYMBOLS.get(word) or ("EUR" if word.lower().startswith("euro") else word.upper())


def _sample(locale: str) -> str:
    return format_decimal(Decimal("25000.50"), format="#,##0.00", locale=locale.replace("-", "_"))


def _sample_de(locale: str) -> str:
    """The sample amount for the German text: the profile's own format when it is German."""
    return _sample(locale if locale.lower().startswith("de") else "de")


# -- dates --------------------------------------------------------------------------------

_MONTHS = [("jan", "january", "januar", "jän", "jänner"), ("feb", "february", "februar"),
           ("mar", "march", "mär", "märz", "maerz", "mrz"), ("apr", "april"), ("may", "mai"),
           ("jun", "june", "juni"), ("jul", "july", "juli"), ("aug", "august"),
           ("sep", "sept", "september"), ("oct", "october", "okt", "oktober"), ("nov", "november"),
           ("dec", "december", "dez", "dezember")]


class _EnglishAndGerman(dateparser.parserinfo):
    MONTHS = _MONTHS


_PARSERINFO = _EnglishAndGerman()
_MONTH = "(?:" + "|".join(sorted((w for names in _MONTHS for w in names), key=len, reverse=True)) + r")\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th|\.)?"
DATE = re.compile(
    r"(?<![\w./-])(?:(?P<iso>(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2}))"
    rf"|(?P<long>{_DAY}\s*(?:of\s+)?{_MONTH},?\s*\d{{4}}|{_MONTH}\s*{_DAY},?\s*\d{{4}})"
    r"|(?P<dotted>(?P<dd>\d{1,2})\.\s?(?P<dm>\d{1,2})\.\s?(?P<dy>\d{4}))"
    r"|(?P<slashed>(?P<a>\d{1,2})[/-](?P<b>\d{1,2})[/-](?P<sy>\d{4})))(?!\w)", re.I)


def parse_date(text: str, *, today: date) -> date:
    """A closing date from ``today`` on, in one of the formats of SPEC §3."""
    found = DATE.fullmatch(text.strip())
    if not found:
        raise BadDate(f"I cannot read '{text.strip()}' as a date: write the closing date as YYYY-MM-DD, "
                      f"like {_example_date(today)}.",
                      message_de=f"„{text.strip()}“ können wir nicht als Datum lesen: Bitte schreiben Sie das "
                                 f"Abschlussdatum als TT.MM.JJJJ, z. B. {_example_date_de(today)}.")
    return date_of(found, today=today)


def date_of(found: re.Match, *, today: date) -> date:
    text = found.group(0)
    try:
        if found["iso"]:
            closing = date(int(found["y"]), int(found["m"]), int(found["d"]))
        elif found["dotted"]:
            closing = date(int(found["dy"]), int(found["dm"]), int(found["dd"]))
        elif found["slashed"]:
            closing = _slashed(text, int(found["a"]), int(found["b"]), int(found["sy"]))
        else:
            closing = dateparser.parse(text, parserinfo=_PARSERINFO, default=datetime(today.year, 1, 1)).date()
    except ValueError:  # 2026-02-30, 31/31/2026; dateutil's ParserError is a ValueError too
        raise BadDate(f"'{text}' is not a day in the calendar: check day and month, and write it as "
                      f"YYYY-MM-DD, like {_example_date(today)}.",
                      message_de=f"„{text}“ ist kein Tag im Kalender: Bitte prüfen Sie Tag und Monat und schreiben "
                                 f"Sie das Datum als TT.MM.JJJJ, z. B. {_example_date_de(today)}.") from None
    if closing < today:
        raise BadDate(f"The closing date {closing.isoformat()} is in the past (today is {today.isoformat()}): "
                      f"write the date you expect the deal to close, like {_example_date(today)}.",
                      message_de=f"Das Abschlussdatum {closing:%d.%m.%Y} liegt in der Vergangenheit (heute ist der "
                                 f"{today:%d.%m.%Y}): Bitte nennen Sie das Datum, an dem Sie den Abschluss erwarten, "
                                 f"z. B. {_example_date_de(today)}.")
    return closing


def _slashed(text: str, a: int, b: int, year: int) -> date:
    """12/31/2026 and 31/12/2026 are clear; 03/04/2026 could be either, so we ask."""
    if a == b or (a > 12) != (b > 12):
        day, month = (a, b) if a > 12 else (b, a)
        return date(year, month, day)
    if a > 12:
        raise ValueError(text)
    months_de = get_month_names("wide", locale="de")
    raise BadDate(f"'{text}' could be {a} {_MONTHS[b - 1][1].title()} or {b} {_MONTHS[a - 1][1].title()} "
                  f"{year}: write the closing date as YYYY-MM-DD, like {year}-{b:02d}-{a:02d}.",
                  message_de=f"„{text}“ kann der {a}. {months_de[b]} oder der {b}. {months_de[a]} {year} sein: "
                             f"Bitte schreiben Sie das Abschlussdatum als TT.MM.JJJJ, z. B. {a:02d}.{b:02d}.{year}.")


def _example_date(today: date) -> str:
    return f"{today.year + 1}-12-31"


def _example_date_de(today: date) -> str:
    return f"31.12.{today.year + 1}"
