"""Reading replies over STARTTLS and implicit TLS from a real Dovecot with a certificate from
a throwaway CA, trusted through `inbound.ca_file` (a private CA); without it the poll fails and
says which key to set."""

from __future__ import annotations

import pytest
import trustme

from tests.conftest import Refbot, write_config
from tests.dovecot_server import DovecotServer
from tests.replies import reply


@pytest.fixture
def tls_dovecot(tmp_path):
    ca = trustme.CA()
    bundle, cert, key = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(bundle))
    issued = ca.issue_cert("127.0.0.1")  # not "localhost": a test connects by that name
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    server = DovecotServer(tmp_path / "imap", tls=(str(cert), str(key))).start()
    yield server
    server.stop()


def tls_refbot(tmp_path, smtp_server, tls_dovecot, capsys, security: str, ca_file: str = "ca.pem") -> Refbot:
    port = tls_dovecot.tls_port if security == "ssl" else tls_dovecot.port
    extra = f"""
[inbound]
transport = "imap"
host = "127.0.0.1"
port = {port}
security = "{security}"
username = "{tls_dovecot.user}"
password_env = "REFBOT_TEST_IMAP_PASSWORD"
ca_file = "{ca_file}"
"""
    return Refbot(write_config(tmp_path, smtp_port=smtp_server.port, extra=extra), capsys)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_replies_are_read_over_tls(tmp_path, smtp_server, tls_dovecot, capsys, monkeypatch, security):
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", tls_dovecot.password)
    refbot = tls_refbot(tmp_path, smtp_server, tls_dovecot, capsys, security)  # ca.pem beside the config
    referral = refbot.submit()["referrals"][0]["id"]
    original = smtp_server.catcher.wait_for(1)[0].message
    tls_dovecot.append("INBOX", reply(original, "INTERESTED"))
    (done,) = refbot.json("inbox", "poll")["processed"]
    assert done["outcome"] == "applied:INTERESTED" and done["referral"] == referral
    assert len(tls_dovecot.messages("Processed")) == 1


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_without_ca_file_the_poll_fails_and_names_the_key(tmp_path, smtp_server, tls_dovecot, capsys, monkeypatch,
                                                          security):
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", tls_dovecot.password)
    refbot = tls_refbot(tmp_path, smtp_server, tls_dovecot, capsys, security, ca_file="")
    tls_dovecot.append("INBOX", b"Subject: waiting\r\nMessage-ID: <w1@example.net>\r\n\r\nx\r\n")
    code, _out, err = refbot("inbox", "poll")
    assert code == 1 and "Traceback" not in err
    assert "certificate is not trusted" in err and "set inbound.ca_file to that CA's PEM file" in err
    assert len(tls_dovecot.messages("INBOX")) == 1  # nothing was taken


def test_a_certificate_for_another_host_names_the_host_key(tmp_path, smtp_server, tls_dovecot, capsys, monkeypatch):
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", tls_dovecot.password)
    refbot = tls_refbot(tmp_path, smtp_server, tls_dovecot, capsys, "ssl")
    refbot.config.write_text(refbot.config.read_text().replace('host = "127.0.0.1"\nport', 'host = "localhost"\nport'))
    code, _out, err = refbot("inbox", "poll")
    assert code == 1 and "is not for localhost" in err and "set inbound.host" in err


def test_implicit_tls_on_the_plain_port_names_security_and_port(tmp_path, smtp_server, tls_dovecot, capsys,
                                                                monkeypatch):
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", tls_dovecot.password)
    refbot = tls_refbot(tmp_path, smtp_server, tls_dovecot, capsys, "ssl")
    text = refbot.config.read_text().replace(f"port = {tls_dovecot.tls_port}", f"port = {tls_dovecot.port}")
    refbot.config.write_text(text)
    code, _out, err = refbot("inbox", "poll")
    assert code == 1 and "check inbound.security and inbound.port" in err
