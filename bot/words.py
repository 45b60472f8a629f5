"""Reading the words of every locale (``bot/locale/*/words.toml``): which command a line starts
with, "not interested", where a mail client's copy of the original begins, the subjects of
auto-replies, and what a DECLINE or LOST reason is about.

Keywords match without regard to case or accents ("INTERESSE" is "intéressé"), and the words of
every locale are read whatever the profile's locale.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from bot.locales import LOCALES, SOURCE, words

_BETWEEN_WORDS = r"[\s,.!:;–-]*"  # "no, thanks", "NO-THANKS", "nothanks"
_AFTER_LEAD_IN = r"[\s,.!:;–-]+"  # "Yes, interested"; "Yesinterested" is no lead-in
_KEYWORD_END = r"(?=$|[^\w'])"  # a keyword ends with its word: "WON" is not "wonder" nor "won't"


def fold(text: str) -> str:
    """``text`` in lower case without accents, one character for each character of ``text``,
    so that a position in the folded text is the same position in ``text``."""
    return "".join(_fold_char(c) for c in text)


@cache
def _fold_char(c: str) -> str:
    if c in "’‘":
        return "'"
    base = "".join(x for x in unicodedata.normalize("NFKD", c) if not unicodedata.combining(x)).lower()
    return base if len(base) == 1 else (c.lower() if len(c.lower()) == 1 else c)


def _phrase(text: str) -> str:
    return _BETWEEN_WORDS.join(re.escape(fold(word)) for word in text.split())


@cache
def keyword_pattern(command: str) -> re.Pattern | None:
    """What a line starting with ``command`` looks like once folded, in every locale."""
    keywords = [k for locale in LOCALES for k in words(locale).get("commands", {}).get(command, [])]
    if not keywords:
        return None
    lead_ins = [w for locale in LOCALES for w in words(locale).get("before", {}).get(command, [])]
    lead = f"(?:(?:{'|'.join(_phrase(w) for w in lead_ins)}){_AFTER_LEAD_IN})*" if lead_ins else ""
    alternatives = "|".join(sorted((_phrase(k) for k in keywords), key=len, reverse=True))
    return re.compile(f"{lead}(?:{alternatives}){_KEYWORD_END}")


def keyword(command: str, locale: str) -> str:
    """The keyword emails in ``locale`` show for ``command``: "INTERESSIERT", "NON MERCI"."""
    for source in (locale, SOURCE):
        found = words(source).get("commands", {}).get(command) if source in LOCALES else None
        if found:
            return found[0].upper()
    return command


@cache
def _patterns(key: str) -> tuple[re.Pattern, ...]:
    """The patterns of ``key`` in every language refbot speaks, and those mail software writes in others."""
    return tuple(re.compile(p, re.IGNORECASE) for locale in (*LOCALES, None)
                 for p in words(locale).get("reading", {}).get(key, []))


def says_not_interested(text: str) -> bool:
    return any(p.search(text) for p in _patterns("not_interested"))


def begins_original(line: str) -> bool:
    """Whether ``line`` is a reply header a mail client writes above its copy of the original."""
    return any(p.fullmatch(line) for p in _patterns("original_begins"))


def begins_signature(line: str) -> bool:
    """Whether ``line`` is what a mail client adds below the person's text ("Sent from my iPhone")."""
    return any(p.fullmatch(line) for p in _patterns("signature_begins"))


def auto_reply_subject(subject: str) -> bool:
    """Whether ``subject`` (without Re: and Fwd:) starts as an auto-reply's does."""
    return any(p.match(subject) for p in _patterns("auto_reply_subjects"))


def bounce_subject(subject: str) -> bool:
    """Whether ``subject`` says, anywhere, that mail could not be delivered."""
    return any(p.search(subject) for p in _patterns("bounce_subjects"))
# SPEC §3: what a DECLINE or LOST reason is about, tried in this order; "other" when none matches.
REASON_CODES: tuple[str, ...] = ("budget", "customer_unresponsive", "other_vendor", "requirement_not_met",
                                 "not_a_customer", "timeline", "spam", "other")


@cache
def _reason_patterns() -> tuple[tuple[str, re.Pattern], ...]:
    found = []
    for code in REASON_CODES:
        phrases = [w for locale in LOCALES for w in words(locale).get("reasons", {}).get(code, [])]
        if phrases:  # a phrase begins a word of the reason: "expens" finds "too expensive"
            alternatives = "|".join(r"\s+".join(re.escape(fold(w)) for w in p.split()) for p in phrases)
            found.append((code, re.compile(rf"(?<!\w)(?:{alternatives})")))
    return tuple(found)


def reason_code(reason: str) -> str:
    """The code of SPEC §3 that ``reason`` (in any language) is about."""
    folded = fold(reason)
    return next((code for code, pattern in _reason_patterns() if pattern.search(folded)), "other")
