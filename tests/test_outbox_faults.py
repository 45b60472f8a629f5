"""One outgoing message never holds up the others, and is never sent twice in one pass: an
address beyond ASCII, a server that cannot take it, a server that answers DATA too late. Real
aiosmtpd servers; the outbox as `refbot` drives it."""

from __future__ import annotations

import pytest

from tests.conftest import RFI, Refbot, write_config
from tests.mailcatcher import SmtpServer

CONTACT = "leads-de@contoso.example"
JUERGEN = "jürgen@example.org"


@pytest.fixture
def server(request):
    smtp = SmtpServer(**getattr(request, "param", {})).start()
    yield smtp
    smtp.stop()


@pytest.fixture
def refbot(tmp_path, server, capsys) -> Refbot:
    path = write_config(tmp_path, smtp_port=server.port)
    # The customer's notice goes out at once (no UNDO window to wait for).
    path.write_text(path.read_text().replace("retry_seconds = 60", "retry_seconds = 60\ntimeout_seconds = 1")
                    + "\n[timeouts]\nundo_minutes = 0\n")
    return Refbot(path, capsys)


def customer_told_no(refbot) -> str:
    referral = refbot.submit(customer={**RFI["customer"], "email": JUERGEN})["referrals"][0]["id"]
    assert refbot("referrals", "apply", referral, "NO THANKS", "--as", CONTACT)[0] == 0
    return referral


def test_an_address_beyond_ascii_is_sent_as_smtputf8(refbot, server):
    customer_told_no(refbot)
    (notice,) = server.catcher.to(JUERGEN)
    assert "jürgen@example.org".encode() in notice.raw  # the To header, as UTF-8
    assert all(row["status"] == "sent" for row in refbot.json("outbox", "list"))


@pytest.mark.parametrize("server", [{"enable_SMTPUTF8": False}], indirect=True)
def test_a_server_without_smtputf8_fails_that_message_and_sends_the_rest(refbot, server):
    referral = customer_told_no(refbot)
    rows = {row["to"]: row for row in refbot.json("outbox", "list")}
    assert rows[JUERGEN]["status"] == "failed" and "SMTPUTF8" in rows[JUERGEN]["last_error"]
    assert rows[CONTACT]["status"] == "sent" and server.catcher.to(CONTACT)
    assert refbot.json("referrals", "show", referral)["status"] == "skipped"


def test_a_server_that_answers_data_too_late_gets_the_message_once_in_the_pass(refbot, server):
    server.catcher.answer_after = 2  # over smtp.timeout_seconds
    refbot.submit()
    assert len(server.catcher.received) == 1  # not resent after the timeout
    (row,) = refbot.json("outbox", "list")
    assert row["status"] == "queued" and row["attempts"] == 1 and "timed out" in row["last_error"]
    server.catcher.answer_after = 0
    assert refbot.json("outbox", "flush")["sent"] == [row["id"]]
    assert len(server.catcher.received) == 2
    assert {m.message["Message-ID"] for m in server.catcher.received} == {row["message_id"]}
