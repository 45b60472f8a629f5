"""Reading a partner's reply as one command (SPEC §3).

``parse_reply`` gets the text the partner wrote above the quoted original and returns a
``Command``, or raises a ``CommandError`` whose message says what to write instead, with an
example, in English (``message``) and German (``message_de``). ``SPECS`` describes each
command once; HELP and refusal emails are built from it. Values and dates: ``bot.values``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.errors import BadDate, BadValue, CommandError, MissingArgument, NoCommand
from bot.values import DATE, VALUE, date_of, parse_date, parse_value, value_of  # noqa: F401  (parse_* re-exported)


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
    values = list(VALUE.finditer(DATE.sub(" ", rest)))  # "WON 30000 on 2026-11-02": not the date
    if not values:
        return Command(spec.name, line)
    value, code = value_of(_only(values, "final value", "den Endwert"), locale=locale, currency=currency)
    return Command(spec.name, line, value=value, currency=code)


def _value_and_date(spec: CommandSpec, line: str, rest: str, *, locale: str, currency: str,
                    today: date) -> Command:
    dates = list(DATE.finditer(rest))
    values = list(VALUE.finditer(DATE.sub(" ", rest)))
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
    closing = date_of(dates[0], today=today)
    value, code = value_of(_only(values, "deal value", "den Auftragswert"), locale=locale, currency=currency)
    return Command(spec.name, line, value=value, currency=code, closing_date=closing)


_ARGUMENTS = {"": _no_arguments, "reason": _reason, "final_value": _final_value,
              "value_and_date": _value_and_date}


def _only(values: list[re.Match], what: str, what_de: str) -> re.Match:
    if len(values) > 1:
        found = ", ".join(v.group(0).strip() for v in values)
        raise BadValue(f"I found more than one amount ({found}); write only the {what}.",
                       message_de=f"Wir haben mehr als einen Betrag gefunden ({found}); bitte schreiben Sie nur {what_de}.")
    return values[0]
