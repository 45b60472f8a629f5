"""Partners reply by email: replies appended to a real Dovecot, read with `refbot inbox poll`,
answers caught by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest

from tests.conftest import Refbot, imap_config, write_config
from tests.replies import reply
from tests.website import Site, get

CONTACT = "leads-de@contoso.example"
CUSTOMER = "erika@example.org"


@pytest.fixture
def refbot(tmp_path, smtp_server, dovecot, capsys, monkeypatch) -> Refbot:
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", dovecot.password)
    return Refbot(write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot)), capsys)


class Conversation:
    """A referral, the last email the partner got about it, and ways to answer it."""

    def __init__(self, refbot, smtp_server, dovecot):
        self.refbot, self.smtp, self.dovecot = refbot, smtp_server, dovecot
        self.id = refbot.submit()["referrals"][0]["id"]
        self.last = smtp_server.catcher.wait_for(1)[-1].message

    def send(self, text: str, **kw) -> list[dict]:
        """The partner replies; refbot polls the inbox once. Returns what it did."""
        before = len(self.smtp.catcher.received)
        self.dovecot.append("INBOX", reply(self.last, text, **kw))
        done = self.refbot.json("inbox", "poll")["processed"]
        new = self.smtp.catcher.received[before:]
        partner_mail = [m for m in new if m.to != CUSTOMER]
        if partner_mail:
            self.last = partner_mail[-1].message
        self.new_mail = new
        return done

    @property
    def status(self) -> str:
        return self.refbot.json("referrals", "show", self.id)["status"]


@pytest.fixture
def talk(refbot, smtp_server, dovecot) -> Conversation:
    return Conversation(refbot, smtp_server, dovecot)


def test_interested_reply_reveals_customer_and_moves_to_processed(talk, dovecot):
    (done,) = talk.send("Interested!")
    assert done["outcome"] == "applied:INTERESTED" and done["referral"] == talk.id
    assert talk.status == "evaluating"
    (details,) = talk.new_mail
    assert details.to == CONTACT and "Erika Mustermann" in details.text and CUSTOMER in details.text
    assert details.message["In-Reply-To"]
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Processed")) == 1


def test_every_path_driven_by_real_replies(refbot, smtp_server, dovecot):
    paths = {
        ("NO THANKS",): "skipped",
        ("INTERESTED", "DECLINE no capacity"): "declined",
        ("INTERESTED", "ACCEPT 25000 EUR 2030-12-31", "WON"): "won",
        ("INTERESTED", "ANNEHMEN 31.12.2030 25.000,00", "LOST budget cut"): "lost",
    }
    for number, (replies, final) in enumerate(paths.items()):
        refbot.submit(rfi_id=f"RFI-PATH-{number}")
        talk = Conversation.__new__(Conversation)
        talk.refbot, talk.smtp, talk.dovecot = refbot, smtp_server, dovecot
        talk.id = refbot.json("referrals", "list")[-1]["id"]
        talk.last = smtp_server.catcher.to(CONTACT)[-1].message
        for text in replies:
            (done,) = talk.send(text, client="outlook_de" if number % 2 else "gmail")
            assert done["outcome"].startswith("applied:"), done
        assert talk.status == final
        held = [m for m in refbot.json("outbox", "list") if m["referral"] == talk.id and m["to"] == CUSTOMER]
        assert len(held) == (1 if final in ("skipped", "declined") else 0)  # the redirect waits out UNDO
        assert all(m["status"] == "queued" and m["not_before"] for m in held)
    assert len(dovecot.messages("Processed")) == 9


def test_html_only_outlook_web_reply(talk):
    (done,) = talk.send("NO THANKS", client="html")
    assert done["outcome"] == "applied:NO THANKS"
    assert talk.status == "skipped"


def test_auto_reply_changes_nothing_and_gets_no_answer(talk, dovecot):
    (done,) = talk.send("I am out of the office until Monday.", headers={"Auto-Submitted": "auto-replied"})
    assert done["outcome"] == "out_of_office"  # the first email goes on to the backup and team
    assert CONTACT not in [m.to for m in talk.new_mail] and talk.status == "new"
    assert len(dovecot.messages("Processed")) == 1


def test_quoted_instructions_are_not_a_command(talk):
    (done,) = talk.send("Thanks, will look at it tomorrow.")
    assert done["outcome"] == "refused:no_command"
    assert talk.status == "new"
    (answer,) = talk.new_mail
    assert answer.to == CONTACT and "INTERESSIERT" in answer.text


def held_for_review(talk) -> list[dict]:
    return talk.refbot.json("inbox", "review")


def test_stranger_with_a_valid_token_gets_silence_and_is_set_aside(talk, dovecot):
    (done,) = talk.send("INTERESTED", sender="mallory@evil.example")
    assert done["outcome"] == "stranger"
    assert talk.new_mail == [] and talk.status == "new"
    assert dovecot.messages("Processed") == [] and len(dovecot.messages("Needs-Attention")) == 1
    (held,) = held_for_review(talk)
    assert held["outcome"] == "stranger" and held["sender"] == "mallory@evil.example"
    assert f"mallory@evil.example may not act on {talk.id}" in held["detail"]
    site = Site(talk.refbot.config).wait()
    try:
        page = get(site.url + "/inbox").body
    finally:
        site.stop()
    assert "mallory@evil.example" in page and "stranger: matched by token; mallory@evil.example may not act" in page


def test_known_partner_on_someone_elses_referral_gets_a_short_refusal(talk, dovecot):
    (done,) = talk.send("INTERESTED", sender="sales@fabrikam.example")
    assert done["outcome"] == "stranger"
    (answer,) = talk.new_mail
    assert answer.to == "sales@fabrikam.example" and talk.status == "new"
    assert len(dovecot.messages("Needs-Attention")) == 1
    assert [h["outcome"] for h in held_for_review(talk)] == ["stranger"]


def test_forged_token_is_refused_and_set_aside(talk, dovecot):
    forged = f"referrals+{talk.id.lower()}-aaaaaaaaaaaaaaaa@example.com"
    (done,) = talk.send("INTERESTED", to=forged)
    assert done["outcome"] == "forged"
    assert talk.status == "new"
    assert dovecot.messages("Processed") == [] and len(dovecot.messages("Needs-Attention")) == 1
    (held,) = held_for_review(talk)
    assert held["outcome"] == "forged" and held["releasable"]


def test_duplicate_message_is_applied_once(talk, dovecot):
    first = reply(talk.last, "INTERESTED", message_id="<same@contoso.example>")
    dovecot.append("INBOX", first)
    dovecot.append("INBOX", first)
    done = talk.refbot.json("inbox", "poll")["processed"]
    assert [d["outcome"] for d in done] == ["applied:INTERESTED", "duplicate"]
    assert len(talk.refbot.json("referrals", "show", talk.id)["events"]) == 2
    assert len(dovecot.messages("Processed")) == 2


def test_team_member_already_in_effect(talk):
    talk.send("INTERESTED")
    (done,) = talk.send("interessiert", sender="anna@contoso.example")
    assert done["outcome"] == "refused:already_in_effect"
    (answer,) = talk.new_mail
    assert answer.to == "anna@contoso.example" and CONTACT in answer.text


def test_bad_value_gets_one_refusal_an_hour(talk):
    talk.send("INTERESTED")
    (first,) = talk.send("ACCEPT 0 EUR 2030-12-31")
    assert first["outcome"] == "refused:bad_value" and len(talk.new_mail) == 1
    (second,) = talk.send("ACCEPT 0 EUR 2030-12-31")
    assert second["outcome"] == "refused:bad_value" and talk.new_mail == []
    assert talk.status == "evaluating"


def test_matched_by_thread_when_the_token_is_missing(talk):
    (done,) = talk.send("INTERESTED", to="referrals@example.com")
    assert done["outcome"] == "applied:INTERESTED" and "thread" in done["detail"]


def test_unmatched_mail_goes_to_the_failed_folder(refbot, dovecot):
    dovecot.append("INBOX", b"From: someone@example.net\r\nTo: referrals@example.com\r\nSubject: hello\r\n"
                            b"Message-ID: <x1@example.net>\r\n\r\nHello?\r\n")
    (done,) = refbot.json("inbox", "poll")["processed"]
    assert done["outcome"] == "uncorrelated"
    assert len(dovecot.messages("Needs-Attention")) == 1 and dovecot.messages("INBOX") == []


def test_bounce_is_recorded_on_the_referral_without_a_reply(talk, dovecot):
    original_id = talk.last["Message-ID"]
    bounce = (
        "From: MAILER-DAEMON@mx.contoso.example\r\nTo: referrals@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce1@mx.contoso.example>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.contoso.example\r\n\r\n"
        "Final-Recipient: rfc822; leads-de@contoso.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {original_id}\r\nSubject: x\r\n--B--\r\n"
    ).encode()
    before = len(talk.smtp.catcher.received)
    dovecot.append("INBOX", bounce)
    (done,) = talk.refbot.json("inbox", "poll")["processed"]
    assert done["outcome"] == "bounce" and done["referral"] == talk.id
    shown = talk.refbot.json("referrals", "show", talk.id)
    assert "5.1.1" in shown["bounce"] and shown["status"] == "new"
    assert len(talk.smtp.catcher.received) == before


def test_oversized_message_goes_to_the_failed_folder(refbot, dovecot):
    refbot.config.write_text(refbot.config.read_text().replace("poll_seconds = 1", "poll_seconds = 1\nmax_message_bytes = 2000"))
    dovecot.append("INBOX", b"From: a@b.example\r\nSubject: big\r\nMessage-ID: <big@b.example>\r\n\r\n"
                   + b"x" * 5000 + b"\r\n")
    (done,) = refbot.json("inbox", "poll")["processed"]
    assert done["outcome"] == "too_large" and done["message_id"] == "<big@b.example>"
    assert len(dovecot.messages("Needs-Attention")) == 1


def test_wrong_imap_password_is_a_clear_failure(refbot, monkeypatch):
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", "wrong")
    code, out, err = refbot("inbox", "poll")
    assert code == 1 and "imap" in err and "Traceback" not in err


def test_without_move_the_message_is_copied_flagged_and_expunged(talk, dovecot, monkeypatch):
    from bot.inbound.imap import ImapInbox

    monkeypatch.setattr(ImapInbox, "supports_move", property(lambda self: False))
    (done,) = talk.send("INTERESTED")
    assert done["outcome"] == "applied:INTERESTED"
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Processed")) == 1


def test_a_message_that_arrives_as_the_daemon_turns_to_idle_is_not_left_waiting(refbot, dovecot, monkeypatch):
    """Dovecot may not tell an IDLE session of a message appended just before IDLE began; the
    inbox looks again within a few seconds instead of leaving it until the next poll."""
    import time

    from bot.config import load
    from bot.inbound.imap import ImapInbox

    inbox = ImapInbox(load(refbot.config).inbound)
    try:
        assert inbox.poll(lambda raw, source: None, too_large=lambda h, s: None) == []
        dovecot.append("INBOX", b"From: a@b.example\r\nSubject: hi\r\nMessage-ID: <race@b.example>\r\n\r\nhi\r\n")
        started = time.monotonic()
        inbox.wait(60)
        assert time.monotonic() - started < 15  # told, or looked again, long before the minute was out
    finally:
        inbox.close()
