"""One-tap replies through real mail (SPEC §3), in every language: a partner taps the buttons of
refbot's emails, that is, sends the message each button's mailto: link describes (the reply
address with its token in To, the subject and the command, no In-Reply-To and no quote), and
the referral moves as the command says. A reply that quotes our HTML part with its links is
never read as a command."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from bot.inbound.html_text import html_to_text
from bot.locales import translations

# Per language: the RFI's changes that route it to a profile speaking it, that profile's contact,
# and how that partner writes the closing date the ACCEPT button asks for.
LANGUAGES = {
    "en": ({"region": "UK", "location": "London"}, "leads-uk@contoso.example", "2030-12-31"),
    "de": ({}, "leads-de@contoso.example", "31.12.2030"),
    "fr": ({"region": "FR", "location": "Paris", "partners": ["northwind"]}, "contact@northwind.example", "2030-12-31"),
}


def buttons(html: str) -> dict[str, str]:
    """The buttons of an HTML part as label → link (the customer's mailto: links left out)."""
    found = re.findall(r'<a href="(mailto:[^"]*\?subject=[^"]*)"[^>]*>([^<]*)<', html)
    return {label.strip(): href.replace("&amp;", "&") for href, label in found}


def tapped(href: str, *, sender: str, body: str | None = None) -> bytes:
    """The message a mail client writes from a mailto: link when its user presses send."""
    parts = urlsplit(href)
    query = parse_qs(parts.query)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = unquote(parts.path)
    message["Subject"] = query["subject"][0]
    message["Message-ID"] = make_msgid(idstring="tap", domain=sender.split("@")[1])
    message.set_content(query["body"][0] if body is None else body)
    return message.as_bytes(policy=SMTP)


def html_with_links_as_text(html: str) -> str:
    """What a client that turns HTML into text makes of our HTML part: each link as "label<href>"."""
    html = re.sub(r'<a href="([^"]*)"[^>]*>(.*?)</a>', lambda m: f"{m.group(2)}&lt;{m.group(1)}&gt;", html)
    return html_to_text(html)


@pytest.mark.parametrize("locale", list(LANGUAGES))
def test_tapping_each_button_moves_the_referral_as_the_command_says(mail, locale):
    rfi, contact, closing = LANGUAGES[locale]
    def words(message: str) -> str:  # a subject as the email shows it: one line, spaces as spaces
        return " ".join(translations(locale).gettext(message).split())
    referral = mail.submit(**rfi)
    partner = mail.person(contact)
    first = partner.expect(about=referral)
    tap = buttons(first.html)
    keywords = list(tap)
    assert len(keywords) == 4  # INTERESTED, NO THANKS, STATUS, HELP in the partner's language

    def press(href: str, body: str | None = None) -> None:
        raw = tapped(href, sender=contact, body=body)
        assert b"In-Reply-To" not in raw and b"References" not in raw
        mail.dovecot.append("INBOX", raw)

    def state() -> str:
        return mail.referral(referral)["status"]

    # A reply that quotes our HTML part, links and all, unmarked and under no reply header, is no command.
    question = "Can we talk first?\n\n" + html_with_links_as_text(first.html)
    assert any(f"{keyword} ›<mailto:" in question for keyword in keywords)
    mail.dovecot.append("INBOX", tapped(tap[keywords[2]], sender=contact, body=question))
    partner.expect(subject=words("Your reply was not applied"), about=referral)
    assert state() == "new"

    press(tap[keywords[2]])  # STATUS
    partner.expect(subject=words("Status: %(state)s").split("%")[0].strip(), about=referral)
    press(tap[keywords[3]])  # HELP
    partner.expect(subject=words("Commands you can use now"), about=referral)
    assert state() == "new"

    press(tap[keywords[1]])  # NO THANKS
    confirmation = partner.expect(about=referral)
    assert state() == "skipped"
    undo = buttons(confirmation.html)
    assert len(undo) == 3  # UNDO, STATUS, HELP
    press(next(iter(undo.values())))  # UNDO
    partner.expect(about=referral)
    assert state() == "new"

    press(tap[keywords[0]])  # INTERESTED
    details = partner.expect(about=referral, body_contains=["Erika Mustermann"])
    assert state() == "evaluating"
    accept_href = next(iter(buttons(details.html).values()))
    shape = parse_qs(urlsplit(accept_href).query)["body"][0]
    assert shape.count("<") == 2, shape  # ACCEPT <value> <YYYY-MM-DD>, in the partner's words

    press(accept_href)  # sent without completing it: a clear refusal, nothing changes
    refusal = partner.expect(subject=words("Your reply was not applied"), about=referral)
    assert shape in refusal.text
    assert state() == "evaluating"

    value, date = re.findall(r"<[^>]+>", shape)
    press(accept_href, body=shape.replace(value, "25000").replace(date, closing))
    partner.expect(about=referral)
    shown = mail.referral(referral)
    assert shown["status"] == "negotiating"
    assert float(shown["deal_value"]) == 25000 and shown["closing_date"] == "2030-12-31"
