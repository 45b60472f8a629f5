"""Several workers on one PostgreSQL database and one IMAP folder (SPEC §5): they share the work
without fighting over messages. Real processes (`refbot run`), a real Dovecot, PostgreSQL and an
aiosmtpd sink; everything is counted from the database, the mailbox and the sink."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import config as config_module
from bot import tokens
from bot.app import App
from bot.clock import utcnow
from bot.db import transaction
from bot.models import Event, InboundMessage, OutboundMessage, Referral
from bot.rfi import RfiInput, submit
from tests.conftest import RFI, imap_config, write_config
from tests.test_daemon import Daemon

CONTACT = "leads-de@contoso.example"
REPLIES = int(os.environ.get("REFBOT_TEST_WORKER_REPLIES", "240"))  # the full 5,000 is a run for people
OVERDUE = 40  # referrals nobody answered, whose 72 hours are over when the workers start
# The customers' notices go out at once (no UNDO window), so that the test can count them sent.
NO_UNDO_WINDOW = "\n[timeouts]\nundo_minutes = 0\n"


def seed(path, dovecot) -> tuple[list[str], list[str]]:
    """Referrals with a reply waiting in the inbox (half INTERESTED, half NO THANKS), and
    referrals whose deadline has passed."""
    config = config_module.load(path)
    app = App.open(config)
    now = utcnow()
    answered, overdue = [], []
    for n in range(REPLIES + OVERDUE):
        created = now - timedelta(hours=80) if n >= REPLIES else now
        rfi = RfiInput.model_validate({**RFI, "rfi_id": f"RFI-W-{n}"})
        (answered if n < REPLIES else overdue).append(submit(app.engine, app.mailer, config, rfi, now=created)
                                                      .referrals[0].id)
    with dovecot.client() as imap:
        for n, referral_id in enumerate(answered):
            token = tokens.sign(app.mailer.secret, referral_id, "contoso/DE/berlin+munich")
            text = "INTERESSIERT" if n % 2 else "NEIN DANKE"
            imap.append("INBOX", (f"From: {CONTACT}\r\nTo: referrals+{token}@example.com\r\nSubject: AW: "
                                  f"[Referral {referral_id}]\r\nMessage-ID: <w-{n}@contoso.example>\r\n\r\n"
                                  f"{text}\r\n").encode())
    app.close()
    return answered, overdue


def done(app, dovecot) -> bool:
    with transaction(app.engine) as session:
        inbound = len(session.exec(select(InboundMessage.id)).all())
        waiting = len(session.exec(select(OutboundMessage.id).where(OutboundMessage.status != "sent")).all())
        new = len(session.exec(select(Referral.id).where(Referral.status == "new")).all())
    return inbound == REPLIES and waiting == 0 and new == 0 and not dovecot.messages("INBOX")


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_workers_share_one_mailbox_and_apply_everything_exactly_once(tmp_path, smtp_server, dovecot, postgres_url,
                                                                     workers):
    path = write_config(tmp_path, smtp_port=smtp_server.port, database=postgres_url,
                        extra=imap_config(dovecot) + NO_UNDO_WINDOW)
    env = {**os.environ, "REFBOT_LOG_LEVEL": "INFO", "REFBOT_TEST_IMAP_PASSWORD": dovecot.password}
    answered, overdue = seed(path, dovecot)  # the workers share the secret kept beside the config
    app = App.open(config_module.load(path))
    started = time.monotonic()
    daemons = [Daemon(path, env, log_name=f"worker-{n}.log") for n in range(workers)]
    try:
        deadline = time.monotonic() + 180
        while not done(app, dovecot) and time.monotonic() < deadline:
            time.sleep(0.2)
        took = time.monotonic() - started
    finally:
        codes = [daemon.stop() for daemon in daemons]
    assert codes == [0] * workers
    assert done(app, dovecot), "the workers did not finish within three minutes"
    print(f"\n{workers} workers: {REPLIES} replies and {OVERDUE} timeouts in {took:.1f} s")

    with transaction(app.engine) as session:
        events = session.exec(select(Event).where(Event.from_status.is_not(None))).all()
        statuses = dict(session.exec(select(Referral.id, Referral.status)).all())
        outbox = session.exec(select(OutboundMessage)).all()
    app.close()
    # Zero duplicated transitions: one event out of "new" per referral.
    assert Counter(e.referral_id for e in events) == Counter(answered + overdue)
    assert Counter(statuses[r] for r in answered) == {"evaluating": REPLIES // 2, "skipped": REPLIES - REPLIES // 2}
    assert {statuses[r] for r in overdue} == {"missed"}
    # Zero duplicated customer notices, zero lost messages: each email reached the sink once.
    sunk = Counter(m.message["Message-ID"] for m in smtp_server.catcher.received)
    assert set(sunk.values()) == {1} and set(sunk) == {row.message_id for row in outbox}
    notices = [row for row in outbox if row.kind == "customer/redirect"]
    assert len(notices) == REPLIES - REPLIES // 2 + OVERDUE
    assert len(dovecot.messages("Processed")) == REPLIES
    # One worker at a time read the folder: nobody fought over a message.
    logs = "".join(daemon.log.read_text() for daemon in daemons)
    assert "EXPUNGEISSUED" not in logs and "inbound unavailable" not in logs


def test_when_the_worker_reading_the_mailbox_is_killed_another_takes_over(tmp_path, smtp_server, dovecot,
                                                                          postgres_url):
    path = write_config(tmp_path, smtp_port=smtp_server.port, database=postgres_url,
                        extra=imap_config(dovecot) + NO_UNDO_WINDOW)
    env = {**os.environ, "REFBOT_LOG_LEVEL": "INFO", "REFBOT_TEST_IMAP_PASSWORD": dovecot.password}
    seed(path, dovecot)
    daemons = [Daemon(path, env, log_name=f"worker-{n}.log") for n in range(2)]
    deadline = time.monotonic() + 20
    while not any("imap lease taken" in d.log.read_text() for d in daemons) and time.monotonic() < deadline:
        time.sleep(0.05)
    holder = next(d for d in daemons if "imap lease taken" in d.log.read_text())
    other = next(d for d in daemons if d is not holder)
    holder.process.kill()  # SIGKILL: no goodbye, its connections simply drop
    holder.process.wait(timeout=10)
    holder._stderr.close()
    app = App.open(config_module.load(path))
    try:
        other.wait_for_event("imap lease taken", timeout=30)
        deadline = time.monotonic() + 120
        while not done(app, dovecot) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert done(app, dovecot)
        with transaction(app.engine) as session:
            events = session.exec(select(Event).where(Event.from_status.is_not(None))).all()
        assert max(Counter(e.referral_id for e in events).values()) == 1  # still nothing applied twice
    finally:
        assert other.stop() == 0
        app.close()
