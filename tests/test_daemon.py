"""`refbot run` as an admin leaves it running: a real process, real IMAP (Dovecot) and SMTP."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import RFI, imap_config, write_config
from tests.dovecot_server import DovecotServer
from tests.mailcatcher import free_port
from tests.replies import reply

CONTACT = "leads-de@contoso.example"


def refbot(config: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(config), *args],
                          capture_output=True, text=True, env=env, timeout=60)


class Daemon:
    def __init__(self, config: Path, env: dict, *, log_name: str = "daemon.log") -> None:
        self.log = config.parent / log_name
        self._stderr = self.log.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"],
                                        stdout=subprocess.DEVNULL, stderr=self._stderr, env=env)

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]

    def wait_for_event(self, name: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if event["event"] == name:
                    return event
            assert self.process.poll() is None, self.log.read_text()
            time.sleep(0.05)
        raise AssertionError(f"no {name!r} in the log:\n{self.log.read_text()}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        finally:
            self._stderr.close()


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "REFBOT_LOG_LEVEL": "INFO", "REFBOT_TEST_IMAP_PASSWORD": "imap-test-password"}


@pytest.fixture
def dovecot(tmp_path):
    server = DovecotServer(tmp_path / "imap", password="imap-test-password").start()
    yield server
    server.stop()


def submit(config: Path, env: dict) -> str:
    path = config.parent / "rfi.json"
    path.write_text(json.dumps(RFI))
    result = refbot(config, "rfi", "submit", str(path), "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["referrals"][0]["id"]


def test_idle_picks_up_a_reply_and_confirms_within_two_seconds(tmp_path, smtp_server, dovecot, env):
    config = write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot))
    referral = submit(config, env)
    original = smtp_server.catcher.wait_for(1)[0].message
    daemon = Daemon(config, env)
    try:
        daemon.wait_for_event("imap connected")
        time.sleep(0.5)  # let it enter IDLE
        appended = time.monotonic()
        dovecot.append("INBOX", reply(original, "INTERESTED"))
        received = smtp_server.catcher.wait_for(2, timeout=10)
        elapsed = time.monotonic() - appended
        assert len(received) == 2 and received[1].to == CONTACT
        assert "Erika Mustermann" in received[1].text
        print(f"\nIDLE reply to confirmation: {elapsed:.2f} s")
        assert elapsed < 2.0
    finally:
        assert daemon.stop() == 0
    shown = json.loads(refbot(config, "referrals", "show", referral, "--json", env=env).stdout)
    assert shown["status"] == "evaluating"
    outcomes = [e for e in daemon.events() if e["event"] == "inbound message"]
    assert outcomes[0]["outcome"] == "applied:INTERESTED"
    assert "imap-test-password" not in daemon.log.read_text()
    assert "Erika" not in daemon.log.read_text()


def test_sighup_keeps_the_old_config_when_the_new_one_is_invalid(tmp_path, smtp_server, dovecot, env):
    config = write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot))
    daemon = Daemon(config, env)
    try:
        daemon.wait_for_event("imap connected")
        good = config.read_text()
        config.write_text(good + "\n[matching]\nmax_partner = 1\n")
        daemon.process.send_signal(signal.SIGHUP)
        refused = daemon.wait_for_event("config reload refused; keeping the running config")
        assert "max_partner" in refused["error"]
        config.write_text(good.replace("Contoso Referrals", "Contoso Partner Desk"))
        daemon.process.send_signal(signal.SIGHUP)
        daemon.wait_for_event("config reloaded")
        assert daemon.process.poll() is None
    finally:
        assert daemon.stop() == 0
    assert any(e["event"] == "refbot stopped" for e in daemon.events())


def test_run_once_does_one_pass_of_each(tmp_path, smtp_server, dovecot, env):
    config = write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot))
    submit(config, env)
    original = smtp_server.catcher.wait_for(1)[0].message
    dovecot.append("INBOX", reply(original, "NO THANKS"))
    result = refbot(config, "run", "--once", "--json", env=env)
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout)
    assert [p["outcome"] for p in done["processed"]] == ["applied:NO THANKS"]
    assert done["sent"] == 1  # the confirmation; the customer's redirect notice waits out the UNDO window


def smtp_inbound_config(port: int) -> str:
    return f"""
[inbound]
transport = "smtp"
listen_host = "127.0.0.1"
listen_port = {port}
"""


def test_embedded_smtp_inbound_applies_replies_and_refuses_other_domains(tmp_path, smtp_server, env):
    port = free_port()
    config = write_config(tmp_path, smtp_port=smtp_server.port, extra=smtp_inbound_config(port))
    referral = submit(config, env)
    original = smtp_server.catcher.wait_for(1)[0].message
    daemon = Daemon(config, env)
    try:
        daemon.wait_for_event("smtp inbound listening")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            code, _ = client.mail(CONTACT)
            code, text = client.rcpt("someone@elsewhere.example")
            assert code == 550
            client.rset()
            client.sendmail(CONTACT, [str(original["Reply-To"].addresses[0].addr_spec)], reply(original, "INTERESTED"))
            assert len(smtp_server.catcher.wait_for(2, timeout=10)) == 2
            # Only the envelope names the token: no token in To, no thread headers, no subject tag.
            bare = (f"From: {CONTACT}\r\nTo: referrals@example.com\r\nSubject: question\r\n"
                    f"Message-ID: <bare-status@contoso.example>\r\n\r\nSTATUS\r\n").encode()
            client.sendmail(CONTACT, [str(original["Reply-To"].addresses[0].addr_spec)], bare)
        status = smtp_server.catcher.wait_for(3, timeout=10)[2]
        assert status.to == CONTACT and referral in status.subject
    finally:
        assert daemon.stop() == 0
    shown = json.loads(refbot(config, "referrals", "show", referral, "--json", env=env).stdout)
    assert shown["status"] == "evaluating"


def test_demo_plays_a_whole_lifecycle():
    result = subprocess.run([sys.executable, "-m", "bot", "demo"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for step in ("new -> evaluating", "evaluating -> negotiating", "negotiating -> won",
                 "== partner replies: RÜCKGÄNGIG\n== {id}: won -> negotiating", "Zurückgenommen: GEWONNEN",
                 "== partner replies: ÄNDERN 30.000 31.03.2028", "31.12.2027 → 31.03.2028", "new -> missed",
                 "--- email to erika@example.org\nSubject: Your request RFI-DEMO-2: choosing another partner",
                 "Hello Erika Mustermann"):
        first = out.split("referral ", 1)[1].split(" ", 1)[0]
        assert step.replace("{id}", first) in out, out


def test_polls_without_idle_and_reconnects_after_the_server_restarts(tmp_path, smtp_server, dovecot, env):
    config = write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot, idle=False))
    referral = submit(config, env)
    original = smtp_server.catcher.wait_for(1)[0].message
    daemon = Daemon(config, env)
    try:
        daemon.wait_for_event("imap connected")
        dovecot.restart()  # the daemon's connection drops
        dovecot.append("INBOX", reply(original, "INTERESTED"))
        assert len(smtp_server.catcher.wait_for(2, timeout=20)) == 2
    finally:
        assert daemon.stop() == 0
    shown = json.loads(refbot(config, "referrals", "show", referral, "--json", env=env).stdout)
    assert shown["status"] == "evaluating"
    assert any(e["event"] == "inbound unavailable; retrying" for e in daemon.events())
    assert sum(e["event"] == "imap connected" for e in daemon.events()) >= 2
