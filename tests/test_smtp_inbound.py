"""The embedded SMTP server (inbound.transport = "smtp") takes mail as MTAs do: a line of any
length within inbound.max_message_bytes, nothing over it. Real aiosmtpd, real pipeline."""

from __future__ import annotations

import smtplib

import pytest

from bot import tokens
from bot.db import transaction
from bot.inbound.pipeline import process
from bot.inbound.smtp import SmtpInbox
from bot.models import Referral
from tests.conftest import NOW
from tests.mailcatcher import free_port

CONTACT = "leads-de@contoso.example"
MAX_BYTES = 50_000


@pytest.fixture
def inbox(app):
    server = SmtpInbox(host="127.0.0.1", port=free_port(), domain="example.com", max_bytes=MAX_BYTES,
                       handle=lambda raw, source: process(app, raw, now=NOW, source=source))
    server.start()
    yield server
    server.stop()


def reply_address(app) -> str:
    return f"referrals+{tokens.sign(app.mailer.secret, 'R-7K3Q9', 'contoso/DE/berlin+munich')}@example.com"


def html_reply(app, html_line: str) -> bytes:
    return (f"From: {CONTACT}\r\nTo: {reply_address(app)}\r\nSubject: AW: [Referral R-7K3Q9]\r\n"
            "Message-ID: <long-line@contoso.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=utf-8\r\n\r\n"
            f"<html><body><div>INTERESSIERT</div>{html_line}</body></html>\r\n").encode()


def status(app) -> str:
    with transaction(app.engine) as session:
        return session.get(Referral, "R-7K3Q9").status


def test_a_line_longer_than_1000_characters_is_accepted_and_applied(app, inbox):
    long_line = "<div style=\"font-family:Calibri\">" + "&nbsp;" * 2_000 + "</div>"  # as Outlook writes HTML
    with smtplib.SMTP("127.0.0.1", inbox.controller.port, timeout=10) as client:
        client.sendmail(CONTACT, [reply_address(app)], html_reply(app, long_line))
    assert status(app) == "evaluating"


@pytest.mark.parametrize("announce_size", [True, False])
def test_a_message_over_the_size_limit_is_refused_with_552(app, inbox, announce_size):
    """Refused at MAIL FROM when the client announces the SIZE, else at the end of DATA."""
    with smtplib.SMTP("127.0.0.1", inbox.controller.port, timeout=10) as client:
        client.ehlo()
        if not announce_size:
            client.esmtp_features.pop("size")
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
            client.sendmail(CONTACT, [reply_address(app)], html_reply(app, "x" * (MAX_BYTES + 1)))
    assert refused.value.smtp_code == 552
    assert status(app) == "new"
