"""refbot cannot be drawn into a mail loop: reply limits per sender, never an answer to itself."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.db import transaction
from bot.inbound.pipeline import process
from bot.models import OutboundMessage
from tests.conftest import NOW


def message(number: int, text: str, sender: str = "leads-de@contoso.example") -> bytes:
    return (f"From: {sender}\r\nTo: referrals+{{{{token}}}}@example.com\r\nSubject: Re: [Referral R-7K3Q9]\r\n"
            f"Message-ID: <loop-{number}@contoso.example>\r\n\r\n{text}\r\n").encode()


def replies(app) -> list[OutboundMessage]:
    with transaction(app.engine) as session:
        return list(session.exec(select(OutboundMessage).where(OutboundMessage.kind != "partner/new_referral")).all())


def raw(app, data: bytes) -> bytes:
    from bot import tokens

    return data.replace(b"{{token}}", tokens.sign(app.mailer.secret, "R-7K3Q9", "contoso/DE/berlin+munich").encode())


def test_at_most_ten_answers_a_day_to_one_sender(app):
    outcomes = [process(app, raw(app, message(n, "STATUS")), now=NOW + timedelta(minutes=n)).outcome for n in range(12)]
    assert outcomes[:10] == ["applied:STATUS"] * 10
    assert outcomes[10:] == ["limited", "limited"]
    assert len(replies(app)) == 10
    # A day later the sender is answered again.
    assert process(app, raw(app, message(99, "STATUS")), now=NOW + timedelta(days=1, hours=1)).outcome == "applied:STATUS"


def test_one_refusal_of_a_kind_an_hour(app):
    first = process(app, raw(app, message(1, "hmm?!")), now=NOW)
    second = process(app, raw(app, message(2, "what is this")), now=NOW + timedelta(minutes=10))
    later = process(app, raw(app, message(3, "still unclear")), now=NOW + timedelta(minutes=70))
    assert [first.outcome, second.outcome, later.outcome] == ["refused:no_command"] * 3
    assert len(replies(app)) == 2  # the first and the one after the hour
    different = process(app, raw(app, message(4, "WON 5000")), now=NOW + timedelta(minutes=75))
    assert different.outcome == "refused:not_valid_now" and len(replies(app)) == 3


def test_mail_from_our_own_address_is_never_answered(app):
    result = process(app, raw(app, message(1, "INTERESTED", sender="referrals@example.com")), now=NOW)
    assert result.outcome == "ours" and replies(app) == []
