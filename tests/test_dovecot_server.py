"""The test IMAP server itself: a real Dovecot that refbot's IMAP inbound can be tested against."""

from __future__ import annotations

import socket
import time
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from tests.dovecot_server import DovecotServer


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory):
    server = DovecotServer(tmp_path_factory.mktemp("dovecot")).start()
    yield server
    server.stop()


def raw_message(subject: str, body: str = "Hello\n") -> bytes:
    message = EmailMessage()
    message["From"] = "Anna <anna@contoso.example>"
    message["To"] = "referrals@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}-{time.monotonic_ns()}@contoso.example>"
    message.set_content(body)
    return message.as_bytes(policy=SMTP)  # IMAP messages have CRLF line ends


def test_login_and_capabilities(dovecot):
    with dovecot.client() as imap:
        capabilities = imap.capabilities()
        assert imap.has_capability("IDLE")
        assert imap.has_capability("MOVE")
        assert b"UIDPLUS" in capabilities


def test_wrong_password_is_refused(dovecot):
    import imapclient
    from imapclient.exceptions import LoginError

    with imapclient.IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=10) as imap:
        with pytest.raises(LoginError):
            imap.login(dovecot.user, "wrong")


def test_append_then_fetch_returns_the_same_bytes(dovecot):
    raw = raw_message("append fetch", "Grüße aus Berlin\nINTERESTED\n")
    uid = dovecot.append("INBOX", raw)
    assert uid is not None
    with dovecot.client() as imap:
        imap.select_folder("INBOX", readonly=True)
        fetched = imap.fetch([uid], ["BODY.PEEK[]", "FLAGS"])
    # Byte for byte (Dovecot would turn bare LF line ends into CRLF).
    assert fetched[uid][b"BODY[]"] == raw
    assert b"\\Seen" not in fetched[uid][b"FLAGS"]
    assert raw in dovecot.messages("INBOX")


def test_create_folders_and_move(dovecot):
    raw = raw_message("to be moved")
    uid = dovecot.append("INBOX", raw)
    with dovecot.client() as imap:
        for name in ("Processed", "Needs-Attention"):
            if not imap.folder_exists(name):
                imap.create_folder(name)
        assert imap.folder_exists("Needs-Attention")
        imap.select_folder("INBOX")
        imap.move([uid], "Processed")
        assert uid not in imap.search(["ALL"])
    assert raw in dovecot.messages("Processed")
    assert raw not in dovecot.messages("INBOX")


def test_idle_reports_a_message_appended_by_another_connection(dovecot):
    with dovecot.client() as watcher:
        watcher.select_folder("INBOX")
        watcher.idle()
        try:
            started = time.monotonic()
            dovecot.append("INBOX", raw_message("arrives during idle"))
            responses = []
            while time.monotonic() - started < 5 and not any(r[1] == b"EXISTS" for r in responses):
                responses += watcher.idle_check(timeout=1)
        finally:
            watcher.idle_done()
    assert any(isinstance(r, tuple) and r[1] == b"EXISTS" for r in responses), responses
    assert time.monotonic() - started < 5


def test_several_servers_start_and_stop_cleanly(tmp_path_factory):
    servers = [DovecotServer(tmp_path_factory.mktemp("several")).start() for _ in range(2)]
    try:
        assert servers[0].port != servers[1].port
        groups = [server.pids() for server in servers]
        assert all(groups)
        for server in servers:
            server.append("INBOX", raw_message(f"on port {server.port}"))
            assert len(server.messages()) == 1
    finally:
        for server in servers:
            server.stop()
    for server, pids in zip(servers, groups):
        assert not server.running
        assert all(not _alive(pid) for pid in pids), pids
        with pytest.raises(OSError):
            socket.create_connection((server.host, server.port), timeout=1).close()
    # A stopped server can be started again on the same port and keeps its mail.
    again = servers[0].restart()
    try:
        assert len(again.messages()) == 1
    finally:
        again.stop()
    assert not again.pids()


def test_start_again_in_the_same_session_after_stop(tmp_path_factory):
    for _ in range(2):
        with DovecotServer(tmp_path_factory.mktemp("again")) as server:
            with server.client() as imap:
                assert imap.select_folder("INBOX")[b"EXISTS"] == 0


def test_long_folder_paths_keep_sockets_short(tmp_path_factory):
    folder = tmp_path_factory.mktemp("a-folder-with-a-long-name-" + "x" * 60)
    with DovecotServer(folder) as server:
        assert server.base_dir.is_symlink()  # sockets live in a short temp dir, linked from the folder
        short = server.base_dir.resolve()
        server.append("INBOX", raw_message("long path"))
        assert len(server.messages()) == 1
    assert not short.exists() and not server.base_dir.exists()


def test_missing_binary_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("tests.dovecot_server.SBIN_DIRS", ())
    with pytest.raises(RuntimeError, match="apt-get install -y dovecot-imapd"):
        DovecotServer(tmp_path / "imap").start()


def test_start_failure_shows_the_log(tmp_path_factory):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = DovecotServer(tmp_path_factory.mktemp("broken"), port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="Address already in use"):
            server.start()
    assert not server.running


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2:][:1] != b"Z"
