"""Partner replies written as mail clients write them, answering a message refbot sent."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

_counter = [0]


def reply(original: EmailMessage, text: str, *, sender: str = "leads-de@contoso.example", client: str = "gmail",
          to: str | None = None, headers: dict | None = None, message_id: str | None = None) -> bytes:
    """A reply to ``original`` with ``text`` on top and the original quoted below."""
    _counter[0] += 1
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to or str(original["Reply-To"])
    message["Subject"] = ("AW: " if client == "outlook_de" else "Re: ") + str(original["Subject"])
    message["Date"] = "Tue, 24 Nov 2026 10:00:00 +0100"
    message["Message-ID"] = message_id or make_msgid(idstring=f"reply{_counter[0]}", domain="contoso.example")
    message["In-Reply-To"] = original["Message-ID"]
    message["References"] = original["Message-ID"]
    for name, value in (headers or {}).items():
        message[name] = value
    body = original.get_body(("plain",)).get_content()
    if client == "outlook_de":
        quoted = (f"{text}\n\nMit freundlichen Grüßen\nAnna Schmidt\nContoso Ltd\n\n"
                  f"Von: {original['From']}\nGesendet: Dienstag, 24. November 2026 09:00\n"
                  f"An: {sender}\nBetreff: {original['Subject']}\n\n{body}")
        message.set_content(quoted)
    elif client == "html":
        message.set_content(f"{text}\n\n> {body[:200]}")
        message.add_alternative(
            f"<html><body><div>{text}</div><div><br></div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> "
            f"{original['From']}<br><b>Subject:</b> {original['Subject']}</div><div>{body}</div></body></html>",
            subtype="html")
    else:
        quoted = "\n".join("> " + line for line in body.splitlines())
        message.set_content(f"{text}\n\nOn Tue, 24 Nov 2026 at 09:00, {original['From']} wrote:\n{quoted}\n")
    return message.as_bytes(policy=SMTP)
