"""Every .eml fixture through the whole inbound pipeline: what refbot makes of real clients'
replies, auto-replies, bounces, strangers, forged tokens and broken mail (expected.toml)."""

from __future__ import annotations

import email
import tomllib
from datetime import timedelta
from decimal import Decimal
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot import config as config_module
from bot import tokens, words
from bot.app import App
from bot.db import transaction
from bot.inbound.message import plain_text
from bot.inbound.pipeline import handle_command, process
from bot.models import InboundMessage, OutboundMessage, Referral
from bot.rfi import RfiInput, submit
from tests.conftest import NOW, RFI, write_config

FOLDER = Path(__file__).parent / "data" / "emails"
EXPECTED = tomllib.loads((FOLDER / "expected.toml").read_text(encoding="utf-8"))
# The state in which each command applies.
STATE_FOR = {"INTERESTED": "new", "NO THANKS": "new", "ACCEPT": "evaluating", "DECLINE": "evaluating",
             "WON": "negotiating", "LOST": "negotiating", "STATUS": "evaluating", "HELP": "new"}
ERROR_CODES = {"value": "bad_value", "ambiguous_date": "bad_date", "past_date": "bad_date",
               "missing_date": "missing_argument", "missing_value": "missing_argument"}
MATCHED = {"token": "token", "in_reply_to": "thread", "subject": "subject"}
ORIGINAL_ID = "<ref-R-7K3Q9-1@example.com>"


def load(app: App, name: str) -> bytes:
    raw = (FOLDER / name).read_bytes()
    token = tokens.sign(app.mailer.secret, "R-7K3Q9", "contoso/DE/berlin+munich")
    if b"{{original}}" in raw:  # the client's unquoted copy of the email refbot sent
        with transaction(app.engine) as session:
            first = session.exec(select(OutboundMessage).where(OutboundMessage.message_id == ORIGINAL_ID)).one()
        raw = raw.replace(b"{{original}}", plain_text(first.raw).replace("\n", "\r\n").encode())
    return raw.replace(b"{{token}}", token.encode())


# The partner's own commands that bring R-7K3Q9 from new to each state the fixtures answer.
ON_THE_WAY = {"new": [], "evaluating": ["INTERESTED"], "negotiating": ["INTERESTED", "ACCEPT 20000 EUR 2027-06-30"]}


@pytest.fixture
def r7k3q9_in(app):
    """R-7K3Q9 brought to a state by its contact's commands, as `referrals apply` would; what
    that sent is left out of what the test then sees refbot answer."""

    def bring(state: str) -> App:
        with transaction(app.engine) as session:
            for text in ON_THE_WAY[state]:
                done = handle_command(app, session, "R-7K3Q9", sender="leads-de@contoso.example", text=text,
                                      now=NOW - timedelta(hours=1))
                assert done.outcome.startswith("applied:"), done
            session.execute(update(OutboundMessage).values(kind="earlier/" + OutboundMessage.kind))
        return app

    return bring


def referral(app: App) -> Referral:
    with transaction(app.engine) as session:
        return session.get(Referral, "R-7K3Q9")


def queued_replies(app: App) -> int:
    return len(answers(app))


def answers(app: App) -> list[tuple[str, str, str]]:
    """What refbot queued since the referral reached the state the test needs:
    (template, recipient, plain text)."""
    with transaction(app.engine) as session:
        rows = session.exec(select(OutboundMessage).where(OutboundMessage.kind != "partner/new_referral",
                                                          OutboundMessage.kind.not_like("earlier/%"))).all()
        return [(r.kind, r.recipient, email.message_from_bytes(r.raw, policy=default_policy).get_body(("plain",))
                 .get_content()) for r in rows]


def check_answer(app: App, expected: dict) -> None:
    """The sender gets the answer expected.toml names, and a refusal quotes the line it read
    and names the command it understood, in the profile's language (German)."""
    to_sender = [(kind, text) for kind, to, text in answers(app) if to == expected["sender"]]
    if "answer" not in expected:
        assert to_sender == []
        return
    ((kind, text),) = to_sender
    assert kind == expected["answer"]
    if kind != "partner/refusal":
        return
    if "quotes" in expected:
        assert f"Gelesen haben wir: „{expected['quotes']}“" in text
    else:
        assert "Gelesen haben wir: nichts über dem zitierten Text." in text
    if expected["outcome"] == "bad_command":
        assert f"Verstanden haben wir den Befehl: {words.keyword(expected['command'], 'de')}" in text
    else:
        assert "den Befehl:" not in text and "keinen Befehl gefunden" in text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(r7k3q9_in, name):
    expected = EXPECTED[name]
    outcome = expected["outcome"]
    app = r7k3q9_in(STATE_FOR.get(expected.get("command"), "new"))
    if outcome == "duplicate_of":
        assert process(app, load(app, expected["duplicate_of"]), now=NOW).outcome != "duplicate"
        replies_before = queued_replies(app)
        assert process(app, load(app, name), now=NOW).outcome == "duplicate"
        assert queued_replies(app) == replies_before
        return
    command = expected.get("command")
    before = referral(app)
    result = process(app, load(app, name), now=NOW)
    after = referral(app)

    check_answer(app, expected)
    if outcome == "command":
        assert result.outcome == f"applied:{command}", result
        assert f"matched by {MATCHED[expected['matched_by']]}" in result.detail
        if "value" in expected:
            assert after.deal_value == Decimal(expected["value"])
            assert after.currency == expected["currency"]
        if "closing_date" in expected:
            assert after.closing_date.isoformat() == expected["closing_date"]
        if "reason" in expected:
            with transaction(app.engine) as session:
                from bot.views import timeline

                assert timeline(session, "R-7K3Q9")[-1].detail == expected["reason"]
        return
    # Nothing else may change the referral.
    assert (after.status, after.deal_value, after.closing_date) == (before.status, before.deal_value, before.closing_date)
    if outcome == "no_command":
        assert result.outcome == "refused:no_command", result
    elif outcome == "bad_command":
        assert result.outcome == f"refused:{ERROR_CODES[expected['error']]}", result
    elif outcome == "machine":
        assert result.outcome == "machine", result
        assert queued_replies(app) == 0
    elif outcome == "out_of_office":  # never answered; the first email goes on to the backup and team
        assert result.outcome == "out_of_office" and queued_replies(app) == 0, result
        with transaction(app.engine) as session:
            sent_on = session.exec(select(OutboundMessage.recipient).where(
                OutboundMessage.kind == "partner/new_referral", OutboundMessage.id > 1)).all()
        assert sorted(sent_on) == ["anna@contoso.example", "sales-de@contoso.example"]
    elif outcome == "bounce":
        assert result.outcome == "bounce" and result.referral_id == "R-7K3Q9", result
        assert expected["status"] in after.bounce and queued_replies(app) == 0
    elif outcome == "set_aside":
        assert result.outcome == expected["held"] and result.failed, result
        assert queued_replies(app) == 0
    elif outcome in ("stranger", "forged"):
        assert result.outcome == outcome, result
        known_partner = expected["sender"] in ("leads-de@contoso.example", "anna@contoso.example", "sales@fabrikam.example")
        assert ("answer" in expected) is known_partner
    else:
        pytest.fail(f"unknown outcome {outcome!r} in expected.toml")
    with transaction(app.engine) as session:
        recorded = session.exec(select(InboundMessage)).one()
        assert recorded.outcome == result.outcome


@pytest.fixture
def strict_app(tmp_path, monkeypatch):
    """The same referral, with require_dkim: only mail our server authenticated may act."""
    monkeypatch.setattr("bot.models.new_referral_id", lambda: "R-7K3Q9")
    extra = '[security]\nrequire_dkim = true\nauthserv_id = "mx.example.com"\n'
    config = config_module.load(write_config(tmp_path, smtp_port=1, extra=extra))
    app = App.open(config)
    submit(app.engine, app.mailer, config, RfiInput.model_validate(RFI), now=NOW)
    yield app
    app.close()


def test_require_dkim_accepts_a_dkim_pass_from_our_server(strict_app):
    assert process(strict_app, load(strict_app, "gmail_en_interested.eml"), now=NOW).outcome == "applied:INTERESTED"


def test_require_dkim_reads_a_signer_given_as_an_address(strict_app):
    raw = load(strict_app, "gmail_en_interested.eml").replace(b"Authentication-Results:", b"X-Old-Authentication-Results:")
    header = b"Authentication-Results: mx.example.com 1;\r\n dkim=pass (2048-bit key) header.i=@contoso.example\r\n"
    assert process(strict_app, header + raw, now=NOW).outcome == "applied:INTERESTED"


@pytest.mark.parametrize("forgery", [
    b"",  # no Authentication-Results at all
    b"Authentication-Results: mx.evil.example; dkim=pass header.d=contoso.example\r\n",  # not our server
    b"Authentication-Results: mx.example.com; dkim=pass header.d=evil.example\r\n",  # another domain
    b"Authentication-Results: mx.example.com; dkim=fail header.d=contoso.example\r\n",
    b"Authentication-Results: mx.example.com; dkim=pass header.d=contoso.example.evil.example\r\n",
    b"Authentication-Results: mx.example.com; ;;; dkim=pass header.d=contoso.example ===\r\n",  # unreadable
])
def test_require_dkim_holds_unauthenticated_mail(strict_app, forgery):
    raw = load(strict_app, "gmail_en_interested.eml").replace(b"Authentication-Results:", b"X-Old-Authentication-Results:")
    result = process(strict_app, forgery + raw, now=NOW)
    assert result.outcome == "unauthenticated" and result.failed
    assert referral(strict_app).status == "new" and queued_replies(strict_app) == 0


@pytest.mark.parametrize("garbage", [b"", b"\x00\xff\xfe not mail at all", b"From: \r\n\r\n" * 1000,
                                     b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n"])
def test_garbage_is_recorded_and_changes_nothing(app, garbage):
    result = process(app, garbage, now=NOW)
    assert result.outcome in ("machine", "uncorrelated", "failed")
    assert referral(app).status == "new" and queued_replies(app) == 0
    with transaction(app.engine) as session:
        assert session.exec(select(InboundMessage)).one().outcome == result.outcome
