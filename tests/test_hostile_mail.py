"""Hostile and malformed mail, through the whole inbound pipeline on SQLite and PostgreSQL:
each message ends applied, refused or set aside, in bounded time, and nothing acts on words
nobody wrote or on a sender who is not who the display name says."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot import config as config_module
from bot import tokens
from bot.app import App
from bot.db import transaction
from bot.inbound.pipeline import process
from bot.models import InboundMessage, OutboundMessage, Referral
from bot.rfi import RfiInput, submit
from tests.conftest import NOW, RFI, write_config

CONTACT = "leads-de@contoso.example"


@pytest.fixture(params=["sqlite", "postgresql"])
def bot(request, tmp_path, monkeypatch):
    """Referral R-7K3Q9 for Contoso's German desk, on either database."""
    monkeypatch.setattr("bot.models.new_referral_id", lambda: "R-7K3Q9")
    database = request.getfixturevalue("postgres_url") if request.param == "postgresql" else "sqlite:///var/refbot.db"
    config = config_module.load(write_config(tmp_path, smtp_port=1, database=database))
    app = App.open(config)
    submit(app.engine, app.mailer, config, RfiInput.model_validate(RFI), now=NOW)
    yield app
    app.close()


def to(app) -> str:
    return f"referrals+{tokens.sign(app.mailer.secret, 'R-7K3Q9', 'contoso/DE/berlin+munich')}@example.com"


def mail(app, body: str, *, sender: str = CONTACT, message_id: str = "<m1@contoso.example>", headers: str = "",
         content_type: str = "text/plain; charset=utf-8", to_token: bool = True) -> bytes:
    recipient = to(app) if to_token else "referrals@example.com"
    return (f"From: {sender}\r\nTo: {recipient}\r\nSubject: AW: [Referral R-7K3Q9] Neue Empfehlung\r\n"
            f"Message-ID: {message_id}\r\n{headers}MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n"
            f"{body}\r\n").encode()


def state(app) -> tuple[str, list[str]]:
    """The referral's status and the templates refbot queued since its first email."""
    with transaction(app.engine) as session:
        status = session.get(Referral, "R-7K3Q9").status
        kinds = [m.kind for m in session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()][1:]
        return status, kinds


def recorded(app) -> list[InboundMessage]:
    with transaction(app.engine) as session:
        return list(session.exec(select(InboundMessage)).all())


def test_a_message_id_over_998_characters_is_applied_once(bot):
    long_id = "<" + "x" * 2000 + "@contoso.example>"
    assert process(bot, mail(bot, "INTERESSIERT", message_id=long_id), now=NOW).outcome == "applied:INTERESTED"
    assert process(bot, mail(bot, "INTERESSIERT", message_id=long_id), now=NOW).outcome == "duplicate"
    assert state(bot) == ("evaluating", ["partner/details"])


@pytest.mark.parametrize("where", ["message_id", "sender"])
def test_a_nul_byte_in_the_headers_does_not_stop_the_inbox(bot, where):
    raw = mail(bot, "INTERESSIERT").replace(b"<m1@contoso", b"<m1\x00@contoso") if where == "message_id" else \
        mail(bot, "INTERESSIERT").replace(b"From: leads-de@", b"From: leads-de\x00@")
    result = process(bot, raw, now=NOW)
    assert result.outcome in ("applied:INTERESTED", "stranger")
    assert len(recorded(bot)) == 1 and "\x00" not in recorded(bot)[0].message_id


def test_a_display_name_that_looks_like_the_contact_is_not_the_sender(bot):
    raw = mail(bot, "NEIN DANKE", sender="leads-de@contoso.example <mallory@evil.example>", to_token=False)
    result = process(bot, raw, now=NOW)
    assert result.outcome == "stranger"
    assert state(bot) == ("new", [])  # nothing applied, the customer told nothing, no answer


def test_thousands_of_encoded_words_in_a_subject_are_not_read(bot):
    subject = " ".join(["=?utf-8?q?Angebot?="] * 20_000)
    raw = mail(bot, "INTERESSIERT").replace(b"Subject: AW: [Referral R-7K3Q9] Neue Empfehlung", f"Subject: {subject}".encode())
    result = process(bot, raw, now=NOW)
    assert result.outcome == "too_complex" and result.failed
    assert state(bot) == ("new", []) and recorded(bot)[0].outcome == "too_complex"


def test_deeply_nested_html_is_read_in_a_single_pass(bot):
    html = "<div>INTERESSIERT</div>" + "<div>" * 50_000 + "Zitat" + "</div>" * 50_000
    result = process(bot, mail(bot, html, content_type="text/html; charset=utf-8"), now=NOW)
    assert result.outcome == "applied:INTERESTED"


def test_a_command_hidden_in_html_is_not_what_the_person_wrote(bot):
    html = '<div style="display: none">INTERESSIERT</div><div>Können Sie mehr zum Projekt sagen?</div>'
    result = process(bot, mail(bot, html, content_type="text/html; charset=utf-8"), now=NOW)
    assert result.outcome == "refused:no_command"
    assert state(bot) == ("new", ["partner/refusal"])


def test_a_command_in_an_attached_file_is_not_what_the_person_wrote(bot):
    body = ("--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAnbei unsere Unterlagen.\r\n"
            '--b\r\nContent-Type: text/plain; name="notes.txt"\r\n\r\nINTERESSIERT\r\n--b--')
    result = process(bot, mail(bot, body, content_type="multipart/mixed; boundary=b"), now=NOW)
    assert result.outcome == "refused:no_command"


@pytest.mark.parametrize("shape", ["nested 3,000 deep", "20,000 parts"])
def test_mime_that_would_exhaust_the_parser_is_set_aside(bot, shape):
    if shape.startswith("nested"):
        body = "".join(f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n' for i in range(3000))
    else:
        body = "".join(f"--b0\r\nContent-Type: text/plain\r\n\r\nTeil {i}\r\n" for i in range(20_000)) + "--b0--"
    result = process(bot, mail(bot, body, content_type="multipart/mixed; boundary=b0"), now=NOW)
    assert result.outcome == "too_complex" and result.failed
    assert state(bot) == ("new", [])


def test_ten_thousand_received_headers_are_read(bot):
    received = "".join(f"Received: from relay{i}.example by mx.example; Tue, 24 Nov 2026 10:00:00 +0000\r\n"
                       for i in range(10_000))
    assert process(bot, mail(bot, "INTERESSIERT", headers=received), now=NOW).outcome == "applied:INTERESTED"
