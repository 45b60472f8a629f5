"""Mail held for an admin (SPEC §7 `inbox review` / `inbox release ID`): what the pipeline set
aside is listed, and a released message is processed as if it had just arrived, through the
real daemon on Dovecot and aiosmtpd."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest

from tests.conftest import RFI, Refbot, imap_config, write_config
from tests.conversation import Mailroom

STRICT = '[security]\nrequire_dkim = true\nauthserv_id = "mx.example.com"\n'


@pytest.fixture
def strict_mail(tmp_path, smtp_server, dovecot, capsys, monkeypatch):
    """The daemon with require_dkim: a reply without our server's DKIM pass is held."""
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", dovecot.password)
    refbot = Refbot(write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot) + STRICT), capsys)
    room = Mailroom(refbot=refbot, dovecot=dovecot, smtp=smtp_server).start()
    yield room
    room.stop()


def held(room: Mailroom, count: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while len(rows := room.refbot.json("inbox", "review")) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(rows) == count, rows
    return rows


def test_an_unauthenticated_reply_is_held_then_released_by_the_admin(strict_mail):
    referral = strict_mail.submit()
    contoso = strict_mail.person("leads-de@contoso.example")
    contoso.expect(subject="Neue Empfehlung")
    contoso.replies("INTERESSIERT", client="outlook-de")  # no Authentication-Results from mx.example.com
    (row,) = held(strict_mail, 1)
    assert (row["outcome"], row["sender"], row["releasable"]) == ("unauthenticated", contoso.address, True)
    assert row["subject"].startswith("AW: ") and referral in row["subject"]
    contoso.expect_nothing()
    assert strict_mail.referral(referral)["status"] == "new"
    assert len(strict_mail.dovecot.messages("Needs-Attention")) == 1  # the admin's copy on the server
    code, out, _ = strict_mail.refbot("inbox", "review")
    assert code == 0 and "unauthenticated" in out and "1 held" in out

    released = strict_mail.refbot.json("inbox", "release", str(row["id"]))
    assert released["processed"][0]["outcome"] == "applied:INTERESTED"
    contoso.expect(subject="Kundendaten", body_contains=[RFI["customer"]["name"]])
    shown = strict_mail.referral(referral)
    assert shown["status"] == "evaluating" and shown["events"][-1]["message_id"] == row["message_id"]
    assert strict_mail.refbot.json("inbox", "review") == []
    code, _, err = strict_mail.refbot("inbox", "release", str(row["id"]))
    assert code == 2 and ("not held" in err or "no such message" in err)  # released once only


def test_a_released_message_that_still_cannot_be_placed_is_held_again(strict_mail):
    strict_mail.submit()
    stray = EmailMessage()
    stray["From"], stray["To"], stray["Subject"] = "leads-de@contoso.example", "referrals@example.com", "A question"
    stray["Message-ID"] = "<stray-1@contoso.example>"
    stray.set_content("Which referral was this again?")
    strict_mail.dovecot.append("INBOX", bytes(stray))
    (row,) = held(strict_mail, 1)
    assert row["outcome"] == "unauthenticated"
    again = strict_mail.refbot.json("inbox", "release", str(row["id"]))["processed"][0]
    assert again["outcome"] == "uncorrelated"  # vouched for, but it names no referral
    (still,) = strict_mail.refbot.json("inbox", "review")
    assert still["outcome"] == "uncorrelated" and still["message_id"] == row["message_id"] and still["releasable"]


def test_release_refuses_what_is_not_held(refbot):
    refbot.submit()
    code, _, err = refbot("inbox", "release", "1")
    assert code == 2 and "inbound message 1: no such message" in err
