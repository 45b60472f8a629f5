"""One-tap replies (SPEC §3): each command valid now as a button in a partner email's HTML part.

A button is a ``mailto:`` link to the referral's reply address (its token included) with
``subject=Re: <the email's subject>`` and ``body=<the command>``, encoded as RFC 6068 asks.
What a button says and what it writes come from the lifecycle table (which commands), the
keywords of the reader's language and the commands partial ``templates/_commands.txt.j2``
(what each command's body is), so a new command gets its button with no change here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

# Shown small, in a row above the footer: they take back or tell, they do not move the referral on.
QUIET = ("UNDO", "STATUS", "HELP")
# Partner emails without buttons: the digest is about no single referral, and a stranger who
# may not act must not be handed commands.
WITHOUT = ("partner/digest", "partner/not_allowed")


@dataclass(frozen=True)
class Button:
    command: str  # canonical name, "ACCEPT"
    label: str  # the keyword in the reader's language; the layout sets an arrow after it, so that
    # the button's text, read as text, is never the very line a tapped message says
    body: str  # what the message it writes says: the keyword, and the shape to complete if any
    href: str  # the mailto: link
    quiet: bool

    @property
    def shaped(self) -> bool:
        """Whether the body has a shape to complete (``<value>``) before it is sent."""
        return "<" in self.body


def has_buttons(template: str) -> bool:
    return template.startswith("partner/") and template not in WITHOUT


def buttons(commands: list[str], *, address: str, subject: str, keyword: Callable[[str], str],
            body: Callable[[str], str]) -> list[Button]:
    """A button for each of ``commands``, in their order."""
    # Every button of an email replies to the same address and subject: encoded once.
    head = f"mailto:{quote(address, safe='@+')}?subject={quote(f'Re: {subject}', safe='')}&body="
    made = []
    for name in commands:
        text = body(name)
        made.append(Button(command=name, label=keyword(name), body=text, href=head + _encoded(text), quiet=name in QUIET))
    return made


def mailto(address: str, *, subject: str, body: str) -> str:
    """A ``mailto:`` link per RFC 6068: every character of the subject and body that is not
    unreserved percent-encoded (``+ & = # %`` too, so no client reads them as syntax), line
    breaks as ``%0D%0A``; the address keeps its ``+`` literal, as clients expect it there."""
    return f"mailto:{quote(address, safe='@+')}?subject={quote(subject, safe='')}&body={_encoded(body)}"


@lru_cache(maxsize=1024)
def _encoded(body: str) -> str:
    """A button's body as a mailto: link carries it; there are a few per language and command."""
    return quote("\r\n".join(body.splitlines()), safe="")
