"""What the person wrote (SPEC §3): the text above the quoted original, without the quote,
the signature and client boilerplate, and without any line that comes from an email refbot
sent about the referral, whatever language the client writes its reply header in."""

from __future__ import annotations

import re
from collections.abc import Iterable

from mailparser_reply import EmailReplyParser

from bot import words
from bot.locales import LOCALES

_SIGNATURE = re.compile(r"--|_{5,}")  # a line that starts a signature or an unquoted original
_WRAPPED_WORDS = 4  # a piece of one of our lines this long is ours, however a client wrapped it


def visible_text(body: str) -> str:
    """The reply as the person wrote it: without the quoted original, the signature and client
    boilerplate. The reply parser knows the reply headers of many clients and languages; what
    it leaves, a '>'-quoted block or a client's unquoted copy of the original, is cut here."""
    reply = EmailReplyParser(languages=list(LOCALES)).read(body)
    return own_text(reply.replies[0].body if reply.replies else body)


def without_our_words(text: str, ours: list[str], addresses: Iterable[str] = ()) -> str:
    """``text`` without the lines that come from an email refbot sent (``ours``: their plain
    text and their HTML part read as text): whatever a client writes above its copy of the
    original, in any language, and whether or not it marks it with "> ", those lines are not
    the partner's words. A line
    counts as ours when it is one of our lines, the start of one (a client re-wrapped it), or
    starts with one (a client joined it to the next); the last two only with a few words, so
    that a partner's own "INTERESTED" is never taken for our "INTERESTED – you would ...".
    A line that holds one of our reply ``addresses`` is a copy of a button's link
    ("INTERESTED ›<mailto:referrals+…>"), never the partner's words.
    """
    addresses = [address.casefold() for address in addresses if address]
    lines = {line for body in ours for line in map(_comparable, body.splitlines()) if line}
    long_lines = [line for line in lines if len(line.split()) >= _WRAPPED_WORDS]
    kept = []
    for raw in text.splitlines():
        line = _comparable(raw)
        if any(address in line for address in addresses):
            continue
        if line and (line in lines or (len(line.split()) >= _WRAPPED_WORDS and any(
                ours_.startswith(line) or line.startswith(ours_) for ours_ in long_lines))):
            continue
        kept.append(raw)
    return "\n".join(kept).strip()


def _comparable(line: str) -> str:
    return " ".join(line.lstrip(" >\t").casefold().split())


def own_text(text: str) -> str:
    """The lines above the first signature or copy of the original, without '>' quotes."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(">"):
            continue  # quoted original: its instructions ("reply INTERESTED ...") are no command
        if _SIGNATURE.fullmatch(line) or words.begins_original(line) or words.begins_signature(line):
            break
        lines.append(raw.rstrip())
    return "\n".join(lines).strip()
