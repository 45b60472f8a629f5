"""SPEC §5: SIGTERM or SIGINT stops `refbot run` within 5 seconds, busy or idle, IDLE or polling,
and even with an SMTP server that never answers; the message in hand finishes or stays in the
inbox, and nothing is half-applied. A real process, a real Dovecot, real SMTP."""

from __future__ import annotations

import signal
import socket
import time

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot import config as config_module
from bot import tokens
from bot.app import App
from bot.db import transaction
from bot.models import InboundMessage, OutboundMessage, Referral
from bot.rfi import RfiInput, submit
from tests.conftest import NOW, RFI, imap_config, write_config
from tests.test_daemon import Daemon

CONTACT = "leads-de@contoso.example"
BUSY = 60  # replies waiting when the stop comes


@pytest.fixture
def env(dovecot):
    import os

    return {**os.environ, "REFBOT_LOG_LEVEL": "INFO", "REFBOT_TEST_IMAP_PASSWORD": dovecot.password}


def stop_within_five_seconds(daemon: Daemon, sig: int = signal.SIGTERM) -> float:
    started = time.monotonic()
    daemon.process.send_signal(sig)
    code = daemon.process.wait(timeout=15)
    took = time.monotonic() - started
    daemon._stderr.close()
    assert code == 0, daemon.log.read_text()[-2000:]
    assert took < 5, f"stopping took {took:.1f} s"
    return took


def referrals_waiting_for_replies(config_path, dovecot, count: int) -> list[str]:
    """``count`` new referrals, and a NO THANKS for each waiting in the inbox."""
    config = config_module.load(config_path)
    app = App.open(config)
    ids = []
    for n in range(count):
        rfi = RfiInput.model_validate({**RFI, "rfi_id": f"RFI-BUSY-{n}"})
        ids.append(submit(app.engine, app.mailer, config, rfi, now=NOW).referrals[0].id)
    for n, referral_id in enumerate(ids):
        token = tokens.sign(app.mailer.secret, referral_id, "contoso/DE/berlin+munich")
        dovecot.append("INBOX", (f"From: {CONTACT}\r\nTo: referrals+{token}@example.com\r\n"
                                 f"Subject: AW: [Referral {referral_id}]\r\nMessage-ID: <busy-{n}@contoso.example>\r\n"
                                 "\r\nNEIN DANKE\r\n").encode())
    app.close()
    return ids


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_busy_inbox_stops_within_five_seconds_and_nothing_is_half_applied(tmp_path, smtp_server, dovecot, env, sig):
    path = write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot))
    ids = referrals_waiting_for_replies(path, dovecot, BUSY)
    smtp_server.catcher.answer_after = 0.05  # a mail server that takes its time: the outbox fills up
    daemon = Daemon(path, env)
    daemon.wait_for_event("inbound message", timeout=20)
    stop_within_five_seconds(daemon, sig)
    left, moved = len(dovecot.messages("INBOX")), len(dovecot.messages("Processed"))
    app = App.open(config_module.load(path))
    with transaction(app.engine) as session:
        applied = session.exec(select(func.count()).select_from(InboundMessage)).one()
        skipped = session.exec(select(func.count()).select_from(Referral).where(Referral.status == "skipped")).one()
        notices = session.exec(select(func.count()).select_from(OutboundMessage)
                               .where(OutboundMessage.kind == "customer/redirect")).one()
    app.close()
    assert left + moved == BUSY and left > 0  # stopped in the middle, nothing lost
    # Every message that left the inbox was applied whole: its state, its timeline and its mail.
    assert applied == moved == skipped == notices
    assert len(ids) == BUSY


@pytest.mark.parametrize("idle", [True, False])
def test_an_idle_daemon_stops_within_five_seconds(tmp_path, smtp_server, dovecot, env, idle):
    daemon = Daemon(write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot, idle=idle)), env)
    daemon.wait_for_event("imap connected")
    time.sleep(1)  # waiting in IDLE, or between polls
    stop_within_five_seconds(daemon)


@pytest.fixture
def silent_smtp():
    """A server that takes the connection and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


def test_an_smtp_server_that_never_answers_does_not_hold_up_a_stop(tmp_path, dovecot, env, silent_smtp):
    path = write_config(tmp_path, smtp_port=silent_smtp, extra=imap_config(dovecot))
    referrals_waiting_for_replies(path, dovecot, 3)  # their first emails wait in the outbox
    daemon = Daemon(path, env)
    daemon.wait_for_event("refbot running")
    time.sleep(1)  # the sender is waiting for the server's greeting now (smtp.timeout_seconds is 30)
    stop_within_five_seconds(daemon)
