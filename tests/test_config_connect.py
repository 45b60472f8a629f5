"""`refbot config check --connect` against a real Dovecot (folders at the top level, and under
``INBOX.``) and a real aiosmtpd: what it reports, that it leaves the server as it was, and that
any problem exits 1 naming the key to change."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Refbot, imap_config, write_config
from tests.mailcatcher import free_port


def folders_of(server) -> set[str]:
    with server.client() as client:
        return {name for _flags, _separator, name in client.list_folders()}


@pytest.fixture
def checker(tmp_path, smtp_server, capsys, monkeypatch):
    def make(server, **inbound) -> Refbot:
        monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", server.password)
        extra = imap_config(server) + "".join(f'{key} = "{value}"\n' for key, value in inbound.items())
        return Refbot(write_config(tmp_path, smtp_port=smtp_server.port, extra=extra), capsys)
    return make


def test_reports_namespace_folders_and_capabilities(checker, dovecot):
    dovecot.append("Processed", b"Subject: old\r\n\r\nx\r\n")
    before = folders_of(dovecot)
    code, out, err = checker(dovecot)("config", "check", "--connect")
    assert code == 0, err
    assert "personal namespace '' (separator '/')" in out
    assert "inbound.folder            'INBOX': exists" in out
    assert "inbound.processed_folder  'Processed': exists" in out
    assert "inbound.failed_folder     'Needs-Attention': missing, can be created" in out
    assert "IDLE: yes" in out and "MOVE: yes" in out and "UIDPLUS: yes" in out
    assert "connected (no login)" in out and "SMTPUTF8: yes" in out and "SIZE:" in out
    assert out.rstrip().endswith("connect: OK")
    assert folders_of(dovecot) == before  # the check created nothing


def test_under_an_inbox_prefix_it_shows_the_names_on_the_server(checker, dotted_dovecot):
    before = folders_of(dotted_dovecot)
    code, out, err = checker(dotted_dovecot)("config", "check", "--connect")
    assert code == 0, err
    assert "personal namespace 'INBOX.' (separator '.')" in out
    assert "inbound.processed_folder  'Processed' -> 'INBOX.Processed': missing, can be created" in out
    assert "inbound.failed_folder     'Needs-Attention' -> 'INBOX.Needs-Attention': missing, can be created" in out
    assert folders_of(dotted_dovecot) == before


def test_a_folder_that_cannot_be_created_exits_1_naming_the_key(checker, dotted_dovecot):
    code, out, err = checker(dotted_dovecot, failed_folder="Archive/Held")("config", "check", "--connect")
    assert code == 1
    assert "missing, cannot be created" in out
    assert "problem: inbound.failed_folder: 'Archive/Held' (on the server 'INBOX.Archive/Held') cannot be created" in err
    assert "1 problem, listed above" in err


def test_a_missing_inbound_folder_and_a_wrong_password_are_problems(checker, dovecot, monkeypatch):
    refbot = checker(dovecot, folder="Replies")
    code, _out, err = refbot("config", "check", "--connect")
    assert code == 1 and "inbound.folder: 'Replies' does not exist" in err
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", "wrong")
    code, _out, err = refbot("config", "check", "--connect")
    assert code == 1 and "login refused: check inbound.username and the password in REFBOT_TEST_IMAP_PASSWORD" in err


def test_an_smtp_server_that_is_not_there_is_a_problem(checker, dovecot):
    refbot = checker(dovecot)
    closed = free_port()
    refbot.config.write_text(re.sub(r"\nport = \d+", f"\nport = {closed}", refbot.config.read_text(), count=1))
    code, out, err = refbot("config", "check", "--connect")
    assert code == 1, err
    assert f"problem: smtp 127.0.0.1:{closed}: connection refused" in err and "check smtp.host and smtp.port" in err
    assert "IDLE: yes" in out  # the IMAP side is still reported


def test_without_connect_no_server_is_asked(checker, dovecot):
    dovecot.stop()
    code, out, err = checker(dovecot)("config", "check")
    assert code == 0, err
    assert "imap " not in out and "connect: OK" not in out
