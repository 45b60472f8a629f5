"""Partner replies written as mail clients write them, answering a message refbot sent.

Each client puts the partner's text on top and the original below, its own way: Gmail quotes
it with "> " under an English attribution, Outlook copies it unquoted under a header block in
the user's language, Apple Mail quotes it under a French attribution, Outlook on the web sends
HTML.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

_counter = [0]

SUBJECT_PREFIX = {"outlook-de": "AW: ", "outlook-fr": "RE : "}


def _quoted(body: str) -> str:
    return "\n".join("> " + line for line in body.splitlines())


def _gmail(text: str, original: EmailMessage, sender: str, body: str) -> str:
    return f"{text}\n\nOn Tue, 24 Nov 2026 at 09:00, {original['From']} wrote:\n{_quoted(body)}\n"


def _outlook_de(text: str, original: EmailMessage, sender: str, body: str) -> str:
    return (f"{text}\n\nMit freundlichen Grüßen\nAnna Schmidt\nContoso Ltd\n\n"
            f"Von: {original['From']}\nGesendet: Dienstag, 24. November 2026 09:00\n"
            f"An: {sender}\nBetreff: {original['Subject']}\n\n{body}")


def _outlook_fr(text: str, original: EmailMessage, sender: str, body: str) -> str:
    return (f"{text}\n\nCordialement,\nCamille Martin\nNorthwind Traders\n\n"
            f"De : {original['From']}\nEnvoyé : mardi 24 novembre 2026 09:00\n"
            f"À : {sender}\nObjet : {original['Subject']}\n\n{body}")


def _apple_fr(text: str, original: EmailMessage, sender: str, body: str) -> str:
    return f"{text}\n\nLe 24 nov. 2026 à 09:00, {original['From']} a écrit :\n\n{_quoted(body)}\n"


CLIENTS = {"gmail": _gmail, "outlook-de": _outlook_de, "outlook_de": _outlook_de, "outlook-fr": _outlook_fr,
           "apple-fr": _apple_fr}


def reply(original: EmailMessage, text: str, *, sender: str = "leads-de@contoso.example", client: str = "gmail",
          to: str | None = None, headers: dict | None = None, message_id: str | None = None) -> bytes:
    """A reply to ``original`` with ``text`` on top and the original below, as ``client`` writes it."""
    _counter[0] += 1
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to or str(original["Reply-To"])
    message["Subject"] = SUBJECT_PREFIX.get(client.replace("_", "-"), "Re: ") + str(original["Subject"])
    message["Date"] = "Tue, 24 Nov 2026 10:00:00 +0100"
    message["Message-ID"] = message_id or make_msgid(idstring=f"reply{_counter[0]}", domain="contoso.example")
    message["In-Reply-To"] = original["Message-ID"]
    message["References"] = original["Message-ID"]
    for name, value in (headers or {}).items():
        message[name] = value
    body = original.get_body(("plain",)).get_content()
    if client == "html":
        message.set_content(f"{text}\n\n> {body[:200]}")
        message.add_alternative(
            f"<html><body><div>{text}</div><div><br></div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> "
            f"{original['From']}<br><b>Subject:</b> {original['Subject']}</div><div>{body}</div></body></html>",
            subtype="html")
    else:
        message.set_content(CLIENTS[client](text, original, sender, body))
    return message.as_bytes(policy=SMTP)
