"""Faults injected for real (SPEC §5): a `refbot run` process killed with SIGKILL at a named
point (``bot.faults``), servers stopped and started again, PostgreSQL connections terminated,
the bot down for days. Real Dovecot, aiosmtpd and PostgreSQL; everything is counted from the
database, the mailbox and the SMTP sink, as an admin would count it."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import select

from bot import config as config_module
from bot import lifecycle, tokens
from bot.app import App
from bot.clock import utcnow
from bot.db import transaction
from bot.models import Event, InboundMessage, OutboundMessage, Referral
from bot.rfi import RfiInput, submit
from tests.conftest import RFI, Refbot, imap_config, write_config
from tests.mailcatcher import SmtpServer
from tests.test_daemon import Daemon

CONTACT = "leads-de@contoso.example"
TIMED_OUT = {t.source: t.target for t in lifecycle.TRANSITIONS if t.trigger == lifecycle.TIMEOUT}
NO_UNDO_WINDOW = "\n[timeouts]\nundo_minutes = 0\n"  # customer notices go out at once, to be counted


@pytest.fixture
def env(dovecot):
    return {**os.environ, "REFBOT_LOG_LEVEL": "INFO", "REFBOT_TEST_IMAP_PASSWORD": dovecot.password}


def new_referrals(path, count: int, *, created=None, prefix: str = "F") -> list[str]:
    config = config_module.load(path)
    app = App.open(config)
    try:
        return [submit(app.engine, app.mailer, config, RfiInput.model_validate({**RFI, "rfi_id": f"RFI-{prefix}-{n}"}),
                       now=created or utcnow()).referrals[0].id for n in range(count)]
    finally:
        app.close()


def reply_to(path, referral_id: str, text_: str, *, message_id: str, extra: str = "") -> bytes:
    """The contact's reply to the referral's first email, with its token."""
    config = config_module.load(path)
    app = App.open(config)
    token = tokens.sign(app.mailer.secret, referral_id, "contoso/DE/berlin+munich")
    app.close()
    return (f"From: {CONTACT}\r\nTo: referrals+{token}@example.com\r\nSubject: AW: [Referral {referral_id}]\r\n"
            f"Message-ID: <{message_id}>\r\n\r\n{text_}\r\n{extra}").encode()


def killed(path, env, point: str, *, only: str = "") -> Daemon:
    """`refbot run` with a crash point set; returns once SIGKILL ended it."""
    fault = {"REFBOT_CRASH_AT": point, **({"REFBOT_CRASH_IF": only} if only else {})}
    daemon = Daemon(path, {**env, **fault}, log_name=f"crash-{point}-{time.monotonic_ns()}.log")
    try:
        code = daemon.process.wait(timeout=60)
    finally:
        daemon._stderr.close()
    assert code == -9, daemon.log.read_text()[-2000:]
    return daemon


def counts(path) -> dict:
    app = App.open(config_module.load(path))
    try:
        with transaction(app.engine) as session:
            return {
                "inbound": Counter(session.exec(select(InboundMessage.outcome)).all()),
                "transitions": Counter(session.exec(select(Event.referral_id)
                                                    .where(Event.from_status.is_not(None))).all()),
                "statuses": dict(session.exec(select(Referral.id, Referral.status)).all()),
                "outbox": session.exec(select(OutboundMessage)).all(),
            }
    finally:
        app.close()


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.2)


def in_folder(dovecot, folder: str) -> int:
    """How many messages ``folder`` holds (none before the worker made it)."""
    with dovecot.client() as client:
        return len(client.search(["ALL"])) if client.folder_exists(folder) and client.select_folder(folder) else 0


def sent_once(smtp_server, outbox) -> None:
    """Every email in the outbox reached the sink exactly once."""
    sunk = Counter(m.message["Message-ID"] for m in smtp_server.catcher.received)
    assert {row.message_id for row in outbox if row.status == "sent"} == set(sunk)
    assert set(sunk.values()) == {1}, [k for k, v in sunk.items() if v > 1]


# -- killed at a named point ------------------------------------------------------------------


def test_killed_after_the_commit_before_the_move_the_message_is_a_duplicate_on_restart(
        tmp_path, smtp_server, dovecot, env):
    path = write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot) + NO_UNDO_WINDOW)
    ids = new_referrals(path, 3)
    for n, referral_id in enumerate(ids):
        dovecot.append("INBOX", reply_to(path, referral_id, "NEIN DANKE", message_id=f"commit-{n}@contoso.example"))

    killed(path, env, "after-commit")
    before = counts(path)
    assert sum(before["inbound"].values()) == 1  # the first reply was committed...
    assert len(dovecot.messages("INBOX")) == 3  # ...and is still in the inbox

    daemon = Daemon(path, env)
    try:
        wait_until(lambda: not dovecot.messages("INBOX") and all(
            r.status == "sent" for r in counts(path)["outbox"]), 30, "the inbox drained and the outbox sent")
    finally:
        assert daemon.stop() == 0
    after = counts(path)
    outcomes = [e["outcome"] for e in daemon.events() if e["event"] == "inbound message"]
    assert outcomes.count("duplicate") == 1 and outcomes.count("applied:NO THANKS") == 2
    assert after["transitions"] == Counter(ids)  # no second transition
    assert [r.status for r in before["outbox"] if r.kind == "customer/redirect"] == ["queued"]
    assert len([r for r in after["outbox"] if r.kind == "customer/redirect"]) == 3  # no second email
    sent_once(smtp_server, after["outbox"])
    assert len(dovecot.messages("Processed")) == 3


def test_killed_after_the_server_accepted_an_email_it_goes_out_again_at_once_on_postgresql(
        tmp_path, smtp_server, dovecot, env, postgres_url):
    path = write_config(tmp_path, smtp_port=smtp_server.port, database=postgres_url, extra=imap_config(dovecot))
    new_referrals(path, 1)

    killed(path, env, "after-send")
    [first] = smtp_server.catcher.wait_for(1)
    [row] = counts(path)["outbox"]
    assert row.status == "queued" and row.attempts == 0  # accepted, but never marked sent

    started = time.monotonic()
    daemon = Daemon(path, env)
    try:
        smtp_server.catcher.wait_for(2, timeout=15)
        took = time.monotonic() - started
        time.sleep(2)
    finally:
        assert daemon.stop() == 0
    # The claim was the dead worker's row lock: it ended with it, nothing waited for minutes.
    assert took < 10
    # At least once: the same email, with the same Message-ID, at most once more.
    assert [m.message["Message-ID"] for m in smtp_server.catcher.received] == [first.message["Message-ID"]] * 2
    [row] = counts(path)["outbox"]
    assert row.status == "sent" and row.attempts == 1


def test_a_message_that_always_kills_the_worker_is_set_aside_after_three_tries_and_later_mail_flows(
        tmp_path, smtp_server, dovecot, env, capsys):
    path = write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot))
    poisoned, *ids = new_referrals(path, 4)
    dovecot.append("INBOX", reply_to(path, poisoned, "NEIN DANKE", message_id="poison@contoso.example",
                                     extra="POISON-PILL\r\n"))
    for n, referral_id in enumerate(ids):
        dovecot.append("INBOX", reply_to(path, referral_id, "NEIN DANKE", message_id=f"after-{n}@contoso.example"))

    for _ in range(3):  # a service manager starts it again each time
        killed(path, env, "processing", only="POISON-PILL")
    assert counts(path)["inbound"] == {}  # each try died before its commit
    daemon = Daemon(path, {**env, "REFBOT_CRASH_AT": "processing", "REFBOT_CRASH_IF": "POISON-PILL"})
    try:
        wait_until(lambda: not dovecot.messages("INBOX"), 30, "the inbox drained")
        assert daemon.process.poll() is None
    finally:
        assert daemon.stop() == 0
    after = counts(path)
    assert after["inbound"] == {"crashed": 1, "applied:NO THANKS": 3}
    assert after["statuses"][poisoned] == "new" and {after["statuses"][r] for r in ids} == {"skipped"}
    [aside] = dovecot.messages("Needs-Attention")
    assert b"POISON-PILL" in aside
    assert len(dovecot.messages("Processed")) == 3
    [held] = Refbot(path, capsys).json("inbox", "review")
    assert held["outcome"] == "crashed" and "died 3 times" in held["detail"]
    assert held["message_id"] == "<poison@contoso.example>" and held["sender"] == CONTACT


# -- servers gone and back --------------------------------------------------------------------


def test_smtp_down_for_an_hour_commands_apply_and_mail_waits_then_goes_out_once(
        tmp_path, dovecot, capsys, monkeypatch):
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", dovecot.password)
    smtp_server = SmtpServer()  # its port is chosen, but nobody listens there yet
    refbot = Refbot(write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot)), capsys)
    start = utcnow()
    [referral] = new_referrals(refbot.config, 1, created=start)
    assert refbot.json("tick", "--now", start.isoformat())["queued"] == 1  # its first email waits

    dovecot.append("INBOX", reply_to(refbot.config, referral, "INTERESSIERT", message_id="down@contoso.example"))
    [polled] = refbot.json("inbox", "poll")["processed"]
    assert polled["outcome"] == "applied:INTERESTED"  # the command applies with the mail server down
    assert refbot.json("referrals", "show", referral)["status"] == "evaluating"
    for minutes in range(10, 70, 10):
        ticked = refbot.json("tick", "--now", (start + timedelta(minutes=minutes)).isoformat())
        assert ticked["sent"] == 0 and ticked["failed"] == 0
    assert {row.status for row in counts(refbot.config)["outbox"]} == {"queued"}

    smtp_server.start()  # back after an hour
    try:
        back = refbot.json("tick", "--now", (start + timedelta(hours=2)).isoformat())
        again = refbot.json("tick", "--now", (start + timedelta(hours=3)).isoformat())
        outbox = counts(refbot.config)["outbox"]
        assert back["sent"] == 2 and again["sent"] == 0
        assert sorted(row.kind for row in outbox) == ["partner/details", "partner/new_referral"]
        assert {row.status for row in outbox} == {"sent"}
        sent_once(smtp_server, outbox)
        assert "Erika Mustermann" in smtp_server.catcher.to(CONTACT)[-1].text
    finally:
        smtp_server.stop()


def test_imap_restarted_in_a_busy_inbox_and_in_idle_nothing_is_lost_or_doubled(tmp_path, smtp_server, dovecot, env):
    path = write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot) + NO_UNDO_WINDOW)
    *busy, late = new_referrals(path, 41)
    for n, referral_id in enumerate(busy):
        dovecot.append("INBOX", reply_to(path, referral_id, "NEIN DANKE", message_id=f"busy-{n}@contoso.example"))
    smtp_server.catcher.answer_after = 0.05  # a slow mail server keeps the worker busy
    daemon = Daemon(path, env)
    try:
        daemon.wait_for_event("inbound message", timeout=20)
        dovecot.restart()  # mid-FETCH: the connection drops under the worker
        wait_until(lambda: len(counts(path)["inbound"]) and not dovecot.messages("INBOX"), 60, "the inbox drained")
        time.sleep(1.5)  # in IDLE now
        dovecot.restart()
        time.sleep(0.5)
        dovecot.append("INBOX", reply_to(path, late, "NEIN DANKE", message_id="late@contoso.example"))
        wait_until(lambda: counts(path)["statuses"][late] == "skipped", 30, "the reply after the restart applied")
        wait_until(lambda: all(r.status == "sent" for r in counts(path)["outbox"]), 30, "the outbox sent")
        assert daemon.process.poll() is None
    finally:
        assert daemon.stop() == 0
    after = counts(path)
    assert after["transitions"] == Counter(busy + [late])  # nothing doubled
    assert after["inbound"]["applied:NO THANKS"] == 41  # nothing lost
    assert len(dovecot.messages("Processed")) == 41 and not dovecot.messages("INBOX")
    assert len([r for r in after["outbox"] if r.kind == "customer/redirect"]) == 41
    sent_once(smtp_server, after["outbox"])
    connects = [e for e in daemon.events() if e["event"] == "imap connected"]
    retries = [e["retry_in"] for e in daemon.events() if e["event"] == "inbound unavailable; retrying"]
    assert len(connects) >= 3 and retries and max(retries) <= 8  # reconnected, with a bounded backoff


def test_a_recreated_folder_with_new_uidvalidity_applies_nothing_again(tmp_path, smtp_server, dovecot, env):
    folder = '\nfolder = "Referrals"\n'
    path = write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot) + folder + NO_UNDO_WINDOW)
    *first, late = new_referrals(path, 4)
    for n, referral_id in enumerate(first):
        dovecot.append("Referrals", reply_to(path, referral_id, "NEIN DANKE", message_id=f"uid-{n}@contoso.example"))
    daemon = Daemon(path, env)
    try:
        wait_until(lambda: in_folder(dovecot, "Processed") == 3, 30, "the first replies processed")
        with dovecot.client() as client:
            before = client.folder_status("Referrals", ["UIDVALIDITY"])[b"UIDVALIDITY"]
            client.delete_folder("Referrals")  # a restore from backup, a server migration
            client.create_folder("Referrals")
            assert client.folder_status("Referrals", ["UIDVALIDITY"])[b"UIDVALIDITY"] != before
        for raw in dovecot.messages("Processed"):  # the old messages come back under new UIDs
            dovecot.append("Referrals", raw)
        dovecot.append("Referrals", reply_to(path, late, "NEIN DANKE", message_id="uid-late@contoso.example"))
        wait_until(lambda: not dovecot.messages("Referrals") and counts(path)["statuses"][late] == "skipped", 30,
                   "the recreated folder drained")
        assert daemon.process.poll() is None
    finally:
        assert daemon.stop() == 0
    after = counts(path)
    assert after["transitions"] == Counter(first + [late])
    assert after["inbound"] == {"applied:NO THANKS": 4}
    outcomes = Counter(e["outcome"] for e in daemon.events() if e["event"] == "inbound message")
    assert outcomes == {"applied:NO THANKS": 4, "duplicate": 3}
    assert any(e["event"] == "imap uidvalidity changed" for e in daemon.events())
    assert len([r for r in after["outbox"] if r.kind == "customer/redirect"]) == 4


def test_postgresql_connections_terminated_mid_run_the_worker_recovers_and_loses_nothing(
        tmp_path, smtp_server, dovecot, env, postgres_url):
    path = write_config(tmp_path, smtp_port=smtp_server.port, database=postgres_url,
                        extra=imap_config(dovecot) + NO_UNDO_WINDOW)
    ids = new_referrals(path, 40)
    for n, referral_id in enumerate(ids):
        dovecot.append("INBOX", reply_to(path, referral_id, "NEIN DANKE", message_id=f"pg-{n}@contoso.example"))
    smtp_server.catcher.answer_after = 0.05
    database = postgres_url.rsplit("/", 1)[1]
    admin = create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    terminated = 0
    daemon = Daemon(path, env)
    try:
        daemon.wait_for_event("inbound message", timeout=20)
        for _ in range(5):  # a PostgreSQL restart, a failover, an admin's pg_terminate_backend
            with admin.connect() as connection:
                terminated += len(connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                    "AND pid <> pg_backend_pid()"), {"name": database}).all())
            time.sleep(0.7)
        wait_until(lambda: not dovecot.messages("INBOX") and all(r.status == "sent" for r in counts(path)["outbox"]),
                   90, "the inbox drained and the outbox sent")
        assert daemon.process.poll() is None
    finally:
        admin.dispose()
        assert daemon.stop() == 0
    assert terminated >= 3  # some rounds may find the worker between connections
    after = counts(path)
    assert after["transitions"] == Counter(ids)
    assert after["inbound"] == {"applied:NO THANKS": 40}
    assert len(dovecot.messages("Processed")) == 40
    assert len([r for r in after["outbox"] if r.kind == "customer/redirect"]) == 40
    sent_once(smtp_server, after["outbox"])


def test_a_postgresql_connection_lost_while_sending_does_not_send_the_batch_again(
        tmp_path, smtp_server, postgres_url, monkeypatch):
    path = write_config(tmp_path, smtp_port=smtp_server.port, database=postgres_url)
    new_referrals(path, 3)
    database = postgres_url.rsplit("/", 1)[1]
    admin = create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    app = App.open(config_module.load(path))
    smtp = app.transport()
    sent = []

    class DatabaseLostAfterTheFirst:  # the real SMTP transport; PostgreSQL restarts after one message
        def send(self, raw: bytes, *, sender: str, recipient: str) -> None:
            smtp.send(raw, sender=sender, recipient=recipient)
            sent.append(recipient)
            if len(sent) == 1:
                with admin.connect() as connection:
                    assert connection.execute(text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name "
                        "AND pid <> pg_backend_pid()"), {"name": database}).scalar() >= 1

        def close(self) -> None:
            smtp.close()

    monkeypatch.setattr(app, "transport", DatabaseLostAfterTheFirst)
    try:
        delivery = app.send(now=utcnow())
        again = app.send(now=utcnow() + timedelta(hours=1), force=True)
    finally:
        app.close()
        admin.dispose()
    assert len(delivery.sent) == 3 and again.sent == [] and len(sent) == 3
    outbox = counts(path)["outbox"]
    assert all(row.status == "sent" and row.attempts == 1 for row in outbox)
    sent_once(smtp_server, outbox)


# -- the bot down for days --------------------------------------------------------------------


def test_down_for_three_days_every_overdue_deadline_fires_once_with_one_email_each(tmp_path, smtp_server, capsys):
    refbot = Refbot(write_config(tmp_path, smtp_port=smtp_server.port, extra=NO_UNDO_WINDOW), capsys)
    start = utcnow()
    ids = new_referrals(refbot.config, 5, created=start)
    evaluating, new = ids[:2], ids[2:]
    for referral_id in evaluating:  # answered before the bot went down: their 7 days are not over yet
        refbot.json("referrals", "apply", referral_id, "INTERESTED", "--as", CONTACT)
    refbot.json("tick", "--now", start.isoformat())
    assert len(smtp_server.catcher.received) == 7  # five new referrals, two customers' details
    smtp_server.catcher.clear()

    back = start + timedelta(days=3, hours=1)  # down for three days: past both reminders and the 72 hours
    first = refbot.json("tick", "--now", back.isoformat())
    again = refbot.json("tick", "--now", (back + timedelta(minutes=5)).isoformat())
    assert sorted(first["timed_out"]) == sorted(new) and again["timed_out"] == []
    assert first["reminded"] == [] and again["reminded"] == [] and again["sent"] == 0
    statuses = counts(refbot.config)["statuses"]
    assert [statuses[r] for r in ids] == ["evaluating"] * 2 + [TIMED_OUT["new"]] * 3
    outbox = [row for row in counts(refbot.config)["outbox"] if row.created_at >= back]
    # One email to the partner and one to the customer for each deadline, nothing else.
    assert Counter((row.referral_id, row.kind) for row in outbox) == Counter(
        {(r, kind): 1 for r in new for kind in ("partner/missed", "customer/redirect")})
    sent_once(smtp_server, outbox)
    assert first["sent"] == len(outbox) == len(smtp_server.catcher.received) == 6
