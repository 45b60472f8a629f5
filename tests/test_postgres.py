"""Several workers on one PostgreSQL database: every effect happens once."""

from __future__ import annotations

import json
import os
import smtplib
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from bot import config as config_module
from bot import referrals, stats, tally
from bot.app import App
from bot.db import transaction
from bot.inbound.pipeline import process
from bot.models import Referral
from tests.conftest import POSTGRES_ADMIN_URL, Refbot, write_config
from tests.mailcatcher import free_port
from tests.replies import reply
from tests.test_daemon import Daemon, smtp_inbound_config

CONTACT = "leads-de@contoso.example"


@pytest.fixture
def refbot(tmp_path, smtp_server, postgres_url, capsys) -> Refbot:
    return Refbot(write_config(tmp_path, smtp_port=smtp_server.port, database=postgres_url), capsys)


def test_lifecycle_on_postgres(refbot, smtp_server):
    referral = refbot.submit()["referrals"][0]["id"]
    assert refbot("referrals", "apply", referral, "INTERESTED", "--as", CONTACT)[0] == 0
    assert refbot("referrals", "apply", referral, "ACCEPT", "1,5m", "2030-12-31", "--as", CONTACT)[0] == 0
    shown = refbot.json("referrals", "show", referral)
    assert (shown["status"], shown["deal_value"], shown["closing_date"]) == ("negotiating", "1500000", "2030-12-31")
    assert len(smtp_server.catcher.wait_for(3)) == 3


def test_two_workers_time_out_each_referral_once(refbot, smtp_server):
    ids = [refbot.submit(rfi_id=f"RFI-W{n}")["referrals"][0]["id"] for n in range(8)]
    smtp_server.catcher.clear()
    later = (datetime.now(timezone.utc) + timedelta(hours=80)).isoformat()
    command = [sys.executable, "-m", "bot", "--config", str(refbot.config), "tick", "--now", later, "--json"]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [w.communicate(timeout=60) for w in workers]
    assert all(w.returncode == 0 for w in workers), results
    timed_out = [r for out, _ in results for r in json.loads(out)["timed_out"]]
    assert sorted(timed_out) == sorted(ids)  # each once, whichever worker did it
    for referral in ids:
        events = refbot.json("referrals", "show", referral)["events"]
        assert [e["to"] for e in events] == ["new", "missed"]
    assert len(smtp_server.catcher.wait_for(16)) == 16  # one notice and one redirect each, no more
    # Both workers added to the same counts (bot.tally) at once: none was lost or doubled.
    app = App.open(config_module.load(refbot.config))
    try:
        with transaction(app.engine) as session:
            assert tally.states(session) == stats.count_states(session, stats.Scope())
            assert tally.states(session)["missed"] == len(ids)
    finally:
        app.close()


def test_the_same_reply_reaching_two_workers_is_applied_once(refbot, smtp_server, monkeypatch):
    refbot.submit()
    original = smtp_server.catcher.wait_for(1)[0].message
    raw = reply(original, "INTERESTED")
    apps = [App.open(config_module.load(refbot.config)) for _ in range(2)]
    results = []
    barrier = threading.Barrier(2)

    def worker(app):
        barrier.wait()
        results.append(process(app, raw, now=datetime.now(timezone.utc)).outcome)

    threads = [threading.Thread(target=worker, args=(app,)) for app in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for app in apps:
        app.close()
    assert sorted(results) == ["applied:INTERESTED", "duplicate"]


def test_a_referral_locked_for_change_is_read_again_not_taken_as_the_session_first_saw_it(refbot):
    """A reply's worker finds its referral (correlation) before it locks it; another worker may
    move the referral on in between. The lock must hand over the row as it is now: applying a
    command to the state the session saw first would apply it to a state that is gone."""
    referral_id = refbot.submit()["referrals"][0]["id"]
    app = App.open(config_module.load(refbot.config))
    try:
        with transaction(app.engine) as session:
            found = session.get(Referral, referral_id)  # as the correlation finds it, and holds it
            assert found.status == "new"
            assert refbot("referrals", "apply", referral_id, "INTERESTED", "--as", CONTACT)[0] == 0  # another worker
            assert referrals.lock(session, referral_id).status == "evaluating"
    finally:
        app.close()


def test_embedded_smtp_answers_451_while_the_database_is_down(tmp_path, smtp_server, postgres_url):
    port = free_port()
    config = write_config(tmp_path, smtp_port=smtp_server.port, database=postgres_url, extra=smtp_inbound_config(port))
    env = {**os.environ, "REFBOT_LOG_LEVEL": "INFO"}
    rfi = tmp_path / "rfi.json"
    from tests.conftest import RFI

    rfi.write_text(json.dumps(RFI))
    assert subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "rfi", "submit", str(rfi)],
                          capture_output=True, env=env).returncode == 0
    original = smtp_server.catcher.wait_for(1)[0].message
    to = original["Reply-To"].addresses[0].addr_spec
    name = postgres_url.rsplit("/", 1)[1]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    daemon = Daemon(config, env)
    try:
        daemon.wait_for_event("smtp inbound listening")
        with admin.connect() as connection:
            connection.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
            connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        message = reply(original, "INTERESTED")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            with pytest.raises(smtplib.SMTPDataError) as deferred:
                client.sendmail(CONTACT, [to], message)
        assert deferred.value.smtp_code == 451
        with admin.connect() as connection:
            connection.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.sendmail(CONTACT, [to], message)  # the sender's retry: accepted now
        assert len(smtp_server.catcher.wait_for(2, timeout=10)) == 2
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        admin.dispose()
        assert daemon.stop() == 0
