"""Reading a partner's reply as one command (SPEC §3).

``COMMANDS`` describes each command once: its canonical name and the arguments it takes. Its
keywords in every language are data (``bot/locale/*/words.toml``), its help line and example
are in the templates (``templates/_commands.txt.j2``). ``parse_reply`` gets the text the partner
wrote (already without the quoted original and the signature) and returns the ``Command`` on its
first line that starts with one, or raises a ``CommandError`` with the facts of what was wrong.
Values and dates: ``bot.values``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from bot import words
from bot.errors import BadDate, BadValue, CommandError, MissingArgument, NoCommand
from bot.values import VALUE, date_of, find_dates, value_of


@dataclass(frozen=True)
class Command:
    name: str                      # canonical upper case: "NO THANKS"
    line: str                      # the line as the partner wrote it (stripped)
    value: Decimal | None = None   # ACCEPT value / WON final value
    currency: str | None = None    # ISO code; the profile currency when none was written
    closing_date: date | None = None
    reason: str | None = None      # DECLINE / LOST: the rest of the line, None if empty
    note: str | None = field(default=None, compare=False)  # the lines after the command's, None if none


@dataclass(frozen=True)
class CommandSpec:
    name: str
    arguments: str  # "", "reason", "final_value", "value_and_date" or "value_or_date"


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("INTERESTED", ""),
    CommandSpec("NO THANKS", ""),
    CommandSpec("ACCEPT", "value_and_date"),
    CommandSpec("DECLINE", "reason"),
    CommandSpec("UPDATE", "value_or_date"),
    CommandSpec("WON", "final_value"),
    CommandSpec("LOST", "reason"),
    CommandSpec("UNDO", ""),
    CommandSpec("STATUS", ""),
    CommandSpec("HELP", ""),
)
SPECS: dict[str, CommandSpec] = {spec.name: spec for spec in COMMANDS}
NAMES: tuple[str, ...] = tuple(SPECS)

# "*INTERESTED*", "- ACCEPT ...", «INTÉRESSÉ»: decoration before the keyword.
_DECORATION = re.compile(r"^[\s*_~\"'“”„‘’`•·–—«»-]+")


def parse_reply(text: str, *, locale: str = "en", currency: str = "EUR", today: date) -> Command:
    """The command on the first line of ``text`` that starts with one; raises a CommandError."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines):
        bare = _DECORATION.sub("", line)
        folded = words.fold(bare)
        for spec in COMMANDS:
            pattern = words.keyword_pattern(spec.name)
            if pattern and (found := pattern.match(folded)):
                rest = bare[found.end():]
                try:
                    command = _ARGUMENTS[spec.arguments](spec, line, rest, locale=locale, currency=currency,
                                                         today=today)
                except CommandError as error:
                    raise error.about(line=line, command=spec.name) from None
                return replace(command, note="\n".join(lines[number + 1:]) or None)
    negated = any(words.says_not_interested(line) for line in lines)
    raise NoCommand("not_interested" if negated else "", line=lines[0] if lines else None)


# -- arguments, one small function per kind ---------------------------------------------


def _no_arguments(spec: CommandSpec, line: str, rest: str, **_) -> Command:
    return Command(spec.name, line)


def _reason(spec: CommandSpec, line: str, rest: str, **_) -> Command:
    return Command(spec.name, line, reason=rest.strip().lstrip(":-–—,.;! ").strip() or None)


def _final_value(spec: CommandSpec, line: str, rest: str, *, locale: str, currency: str, **_) -> Command:
    values = _values(rest)  # "WON 30000 on 2026-11-02": the date is not a value
    if not values:
        return Command(spec.name, line)
    value, code = value_of(_only(values), locale=locale, currency=currency)
    return Command(spec.name, line, value=value, currency=code)


def _value_and_date(spec: CommandSpec, line: str, rest: str, *, locale: str, currency: str,
                    today: date) -> Command:
    dates, values = find_dates(rest), _values(rest)
    if not values or not dates:
        raise MissingArgument("both" if not values and not dates else ("value" if not values else "date"))
    if len(dates) > 1:
        raise BadDate("several", found=[rest[d.start():d.end()] for d in dates])
    closing = date_of(dates[0], today=today, text=rest[dates[0].start():dates[0].end()])
    value, code = value_of(_only(values), locale=locale, currency=currency)
    return Command(spec.name, line, value=value, currency=code, closing_date=closing)


def _value_or_date(spec: CommandSpec, line: str, rest: str, *, locale: str, currency: str,
                   today: date) -> Command:
    """UPDATE: a new value, a new closing date, or both, in either order."""
    dates, values = find_dates(rest), _values(rest)
    if not values and not dates:
        raise MissingArgument("value_or_date")
    if len(dates) > 1:
        raise BadDate("several", found=[rest[d.start():d.end()] for d in dates])
    closing = date_of(dates[0], today=today, text=rest[dates[0].start():dates[0].end()]) if dates else None
    value, code = value_of(_only(values), locale=locale, currency=currency) if values else (None, None)
    return Command(spec.name, line, value=value, currency=code, closing_date=closing)


_ARGUMENTS = {"": _no_arguments, "reason": _reason, "final_value": _final_value,
              "value_and_date": _value_and_date, "value_or_date": _value_or_date}


def _values(rest: str) -> list[re.Match]:
    """The amounts in ``rest``, leaving out the digits of its dates."""
    blanked = list(rest)
    for found in find_dates(rest):
        blanked[found.start():found.end()] = " " * (found.end() - found.start())
    return list(VALUE.finditer("".join(blanked)))


def _only(values: list[re.Match]) -> re.Match:
    if len(values) > 1:
        raise BadValue("several", found=[v.group(0).strip() for v in values])
    return values[0]
