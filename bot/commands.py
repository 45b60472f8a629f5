"""Reading a partner's reply as one command (SPEC §3).

``parse_reply`` gets the text the partner wrote above the quoted original and returns a
``Command``, or raises a ``CommandError`` whose message says what to write instead, with an
example, in English (``message``) and German (``message_de``). ``SPECS`` describes each command once; HELP and refusal emails are built from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel.dates import get_month_names
from babel.numbers import NumberFormatError, format_decimal, list_currencies, parse_decimal
from dateutil import parser as dateparser

from bot.errors import BadDate, BadValue, CommandError, MissingArgument, NoCommand


@dataclass(frozen=True)
class Command:
    name: str                      # one of NAMES, canonical upper case: "NO THANKS"
    line: str                      # the line as the partner wrote it (stripped)
    value: Decimal | None = None   # ACCEPT value / WON final value
    currency: str | None = None    # ISO code; the profile currency when none was written
    closing_date: date | None = None
    reason: str | None = None      # DECLINE / LOST: the rest of the line, None if empty


NAMES = ("INTERESTED", "NO THANKS", "ACCEPT", "DECLINE", "WON", "LOST", "STATUS", "HELP")


@dataclass(frozen=True)
class CommandSpec:
    """One command: how it is recognised, what it takes, and how we explain it."""

    name: str
    aliases: tuple[str, ...]  # regexes, matched case-insensitively at the start of a line
    arguments: str            # "", "reason", "final_value" or "value_and_date"
    syntax: str
    syntax_de: str
    help: str
    help_de: str
    example_pattern: str      # "{year}" is next year, so an example date never lies in the past
    example_de_pattern: str

    @property
    def name_de(self) -> str:
        """The German keyword: "ANNEHMEN", "NEIN DANKE"."""
        return re.split(r"\s+[<\[]", self.syntax_de)[0]

    @property
    def example(self) -> str:
        return self.example_on(date.today())

    @property
    def example_de(self) -> str:
        return self.example_on(date.today(), locale="de")

    def example_on(self, today: date, locale: str = "en") -> str:
        pattern = self.example_de_pattern if locale.startswith("de") else self.example_pattern
        return pattern.format(year=today.year + 1)


_YES = r"(?:(?:yes|ja)\b[\s,.!:;–-]*)?"  # "Yes, interested" / "Ja, interessiert"
_SPECS = (
    CommandSpec("INTERESTED", (
        _YES + r"(?:(?:i['’]?m|i\s+am|we['’]?re|we\s+are)\s+)?(?:very\s+)?interested",
        _YES + r"(?:(?:ich\s+bin|wir\s+sind)\s+)?(?:sehr\s+)?interessiert",
    ), "", "INTERESTED", "INTERESSIERT",
        "You want this referral: you get the customer's contact details and the offer.",
        "Sie möchten diese Anfrage übernehmen: Sie erhalten die Kontaktdaten des Kunden und das Angebot.",
        "INTERESTED", "INTERESSIERT"),
    CommandSpec("NO THANKS", (r"no[\s,.!:;–-]*thank(?:s|\s*you)", r"nein[\s,.!:;–-]*danke"),
        "", "NO THANKS", "NEIN DANKE",
        "You pass on this referral; the customer is asked to choose another partner.",
        "Sie lehnen diese Anfrage ab; der Kunde wird gebeten, einen anderen Partner zu wählen.",
        "NO THANKS", "NEIN DANKE"),
    CommandSpec("ACCEPT", (r"accept", r"annehmen"), "value_and_date",
        "ACCEPT <deal value> <closing date>", "ANNEHMEN <Auftragswert> <Abschlussdatum>",
        "You take the deal forward: give its estimated value and closing date, in either order.",
        "Sie verfolgen das Geschäft weiter: nennen Sie geschätzten Wert und Abschlussdatum, in beliebiger Reihenfolge.",
        "ACCEPT 25000 EUR {year}-12-31", "ANNEHMEN 25.000 EUR 31.12.{year}"),
    CommandSpec("DECLINE", (r"decline", r"ablehnen"), "reason", "DECLINE [reason]", "ABLEHNEN [Grund]",
        "After evaluating it you will not pursue the referral; a reason helps us route better.",
        "Sie verfolgen die Anfrage nach der Prüfung nicht weiter; ein Grund hilft uns bei der Vermittlung.",
        "DECLINE Project too small for us", "ABLEHNEN Projekt zu klein für uns"),
    CommandSpec("WON", (r"won", r"gewonnen"), "final_value", "WON [final value]", "GEWONNEN [Endwert]",
        "The deal is won; add the final value if it differs from the estimate.",
        "Das Geschäft ist gewonnen; nennen Sie den Endwert, falls er von der Schätzung abweicht.",
        "WON 27500 EUR", "GEWONNEN 27.500 EUR"),
    CommandSpec("LOST", (r"lost", r"verloren"), "reason", "LOST [reason]", "VERLOREN [Grund]",
        "The deal is lost; a reason is welcome.",
        "Das Geschäft ist verloren; ein Grund ist willkommen.",
        "LOST Customer chose another vendor", "VERLOREN Kunde hat sich anders entschieden"),
    CommandSpec("STATUS", (r"status",), "", "STATUS", "STATUS",
        "Get the referral's current state and timeline.",
        "Sie erhalten den aktuellen Stand und den Verlauf der Anfrage.", "STATUS", "STATUS"),
    CommandSpec("HELP", (r"help", r"hilfe", r"\?"), "", "HELP", "HILFE",
        "Get the commands you can use now.",
        "Sie erhalten die Befehle, die jetzt möglich sind.", "HELP", "HILFE"),
)
SPECS: dict[str, CommandSpec] = {spec.name: spec for spec in _SPECS}

# A keyword ends at the end of the line, whitespace or punctuation, but not at an apostrophe:
# "WON" must not match "wonder" or "won't".
_KEYWORDS = {spec.name: re.compile(rf"(?:{'|'.join(spec.aliases)})(?=$|[^\w'’])", re.I) for spec in _SPECS}
_DECORATION = re.compile(r"^[\s*_~\"'“”„‘’`•·–—-]+")  # "*INTERESTED*", "- ACCEPT ..."
# Where the partner's own text ends: a signature or an unquoted original (Outlook, Gmail).
_ORIGINAL = re.compile(r"^(?:--|_{5,}|-{3,}\s*(?:original message|ursprüngliche nachricht).*"
                       r"|(?:from|von|sent|gesendet):\s.*|on\s.*\swrote:|am\s.*\sschrieb\s.*:)$", re.I)
_NEGATED = re.compile(r"\b(?:not|nicht)\s+(?:\w+\s+)?interess?(?:ted|iert)|\bkein(?:e|en)?\s+interesse"
                      r"|\bno\s+interest", re.I)


def parse_reply(text: str, *, locale: str = "en", currency: str = "EUR", today: date) -> Command:
    """The command on the first line of ``text`` that starts with one; raises a CommandError."""
    lines = _own_lines(text)
    for line in lines:
        bare = _DECORATION.sub("", line)
        for spec in _SPECS:
            if found := _KEYWORDS[spec.name].match(bare):
                try:
                    return _ARGUMENTS[spec.arguments](spec, line, bare[found.end():], locale=locale,
                                                      currency=currency, today=today)
                except CommandError as error:  # quote the line back, and show the whole command
                    raise type(error)(
                        f"{error.message} For example: {spec.example_on(today)}.",
                        message_de=f"{error.message_in('de')} Zum Beispiel: {spec.example_on(today, 'de')}.",
                        line=line) from None
    message, message_de = _no_command_messages(lines, today)
    raise NoCommand(message, message_de=message_de, line=lines[0] if lines else None)


def _own_lines(text: str) -> list[str]:
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(">"):
            continue  # quoted original: its instructions ("reply INTERESTED ...") are no command
        if _ORIGINAL.match(line):
            break
        if line:
            lines.append(line)
    return lines


def _no_command_messages(lines: list[str], today: date) -> tuple[str, str]:
    """The English and the German explanation of a reply without a command."""
    commands = ", ".join(spec.syntax for spec in _SPECS)
    message = (f"I could not find a command in your reply. Start a line with one of: {commands}. "
               f"For example: {SPECS['INTERESTED'].example_on(today)} or {SPECS['ACCEPT'].example_on(today)}")
    commands_de = ", ".join(spec.syntax_de for spec in _SPECS)
    message_de = (f"In Ihrer Antwort haben wir keinen Befehl gefunden. Bitte beginnen Sie eine Zeile mit einem "
                  f"dieser Befehle: {commands_de}. Zum Beispiel: {SPECS['INTERESTED'].example_on(today, 'de')} "
                  f"oder {SPECS['ACCEPT'].example_on(today, 'de')}")
    if any(_NEGATED.search(line) for line in lines):
        message += (". 'Not interested' is not a command: to pass on a new referral write NO THANKS, "
                    "to drop one you are evaluating write DECLINE")
        message_de += (". „Nicht interessiert“ ist kein Befehl: Um eine neue Empfehlung abzulehnen, schreiben Sie "
                       "NEIN DANKE; um eine Empfehlung, die Sie gerade prüfen, nicht weiterzuverfolgen, schreiben Sie "
                       "ABLEHNEN")
    return message + ".", message_de + "."


# -- arguments, one small function per kind ---------------------------------------------


def _no_arguments(spec: CommandSpec, line: str, rest: str, **_) -> Command:
    return Command(spec.name, line)


def _reason(spec: CommandSpec, line: str, rest: str, **_) -> Command:
    return Command(spec.name, line, reason=rest.strip().lstrip(":-–—,.;! ").strip() or None)


def _final_value(spec: CommandSpec, line: str, rest: str, *, locale: str, currency: str, **_) -> Command:
    values = list(_VALUE.finditer(_DATE.sub(" ", rest)))  # "WON 30000 on 2026-11-02": not the date
    if not values:
        return Command(spec.name, line)
    value, code = _value_of(_only(values, "final value", "den Endwert"), locale=locale, currency=currency)
    return Command(spec.name, line, value=value, currency=code)


def _value_and_date(spec: CommandSpec, line: str, rest: str, *, locale: str, currency: str,
                    today: date) -> Command:
    dates = list(_DATE.finditer(rest))
    values = list(_VALUE.finditer(_DATE.sub(" ", rest)))
    wanted = (("the deal value", "den Auftragswert", values),
              ("the estimated closing date", "das voraussichtliche Abschlussdatum", dates))
    missing = [(what, what_de) for what, what_de, found in wanted if not found]
    if missing:
        both = len(missing) == 2
        raise MissingArgument(
            f"{spec.name} needs {' and '.join(what for what, _ in missing)}" + (", in either order." if both else "."),
            message_de=f"{spec.name_de} benötigt {' und '.join(what_de for _, what_de in missing)}"
                       + (", in beliebiger Reihenfolge." if both else "."))
    if len(dates) > 1:
        found = ", ".join(d.group(0) for d in dates)
        raise BadDate(f"I found more than one date ({found}); write only the estimated closing date.",
                      message_de=f"Wir haben mehr als ein Datum gefunden ({found}); bitte schreiben Sie nur "
                                 "das voraussichtliche Abschlussdatum.")
    closing = _date_of(dates[0], today=today)
    value, code = _value_of(_only(values, "deal value", "den Auftragswert"), locale=locale, currency=currency)
    return Command(spec.name, line, value=value, currency=code, closing_date=closing)


_ARGUMENTS = {"": _no_arguments, "reason": _reason, "final_value": _final_value,
              "value_and_date": _value_and_date}


def _only(values: list[re.Match], what: str, what_de: str) -> re.Match:
    if len(values) > 1:
        found = ", ".join(v.group(0).strip() for v in values)
        raise BadValue(f"I found more than one amount ({found}); write only the {what}.",
                       message_de=f"Wir haben mehr als einen Betrag gefunden ({found}); bitte schreiben Sie nur {what_de}.")
    return values[0]


# -- values -------------------------------------------------------------------------------

_SYMBOLS = {"€": "EUR", "$": "USD", "US$": "USD", "£": "GBP"}
# Upper-case ISO codes only ("ALL", "TOP" and "TRY" are currencies too), plus the usual lower-case ones.
_CURRENCY = (r"US\$|[€$£]|(?<![A-Za-z])(?:" + "|".join(sorted(list_currencies())) + r"|(?i:eur|euros?|usd|gbp|chf))"
             r"(?![A-Za-z])")
_NUMBER = r"\d{1,3}(?:[ \u00a0\u202f'’]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)*"  # "25 000" or "25.000,50"
_VALUE = re.compile(rf"(?<![\w.,])(?:(?P<pre>{_CURRENCY})\s*)?(?P<sign>[-−])?(?P<number>{_NUMBER})(?:[.,]-)?"
                    rf"(?:\s*(?P<mult>(?i:k|m|mio\.?|mn)))?(?:\s*(?P<post>{_CURRENCY}))?(?!\w)")
_MULTIPLIERS = {"k": 1000, "m": 1_000_000, "mio": 1_000_000, "mn": 1_000_000}
_CENT, _TOO_LARGE = Decimal("0.01"), Decimal(10) ** 15


def parse_value(text: str, *, locale: str, currency: str) -> tuple[Decimal, str]:
    """A positive amount and its ISO currency (``currency`` when none is written)."""
    found = _VALUE.fullmatch(text.strip())
    if not found:
        raise BadValue(f"I cannot read '{text.strip()}' as an amount: write digits with an optional "
                       f"currency, like 25000, {_sample(locale)} EUR or €25k.",
                       message_de=f"„{text.strip()}“ können wir nicht als Betrag lesen: Bitte schreiben Sie Ziffern, "
                                  f"auf Wunsch mit Währung, z. B. 25000, {_sample_de(locale)} EUR oder 25k €.")
    return _value_of(found, locale=locale, currency=currency)


def _value_of(found: re.Match, *, locale: str, currency: str) -> tuple[Decimal, str]:
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
_DATE = re.compile(
    r"(?<![\w./-])(?:(?P<iso>(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2}))"
    rf"|(?P<long>{_DAY}\s*(?:of\s+)?{_MONTH},?\s*\d{{4}}|{_MONTH}\s*{_DAY},?\s*\d{{4}})"
    r"|(?P<dotted>(?P<dd>\d{1,2})\.\s?(?P<dm>\d{1,2})\.\s?(?P<dy>\d{4}))"
    r"|(?P<slashed>(?P<a>\d{1,2})[/-](?P<b>\d{1,2})[/-](?P<sy>\d{4})))(?!\w)", re.I)


def parse_date(text: str, *, today: date) -> date:
    """A closing date from ``today`` on, in one of the formats of SPEC §3."""
    found = _DATE.fullmatch(text.strip())
    if not found:
        raise BadDate(f"I cannot read '{text.strip()}' as a date: write the closing date as YYYY-MM-DD, "
                      f"like {_example_date(today)}.",
                      message_de=f"„{text.strip()}“ können wir nicht als Datum lesen: Bitte schreiben Sie das "
                                 f"Abschlussdatum als TT.MM.JJJJ, z. B. {_example_date_de(today)}.")
    return _date_of(found, today=today)


def _date_of(found: re.Match, *, today: date) -> date:
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
