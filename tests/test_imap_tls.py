"""Reading replies over STARTTLS and implicit TLS from a real Dovecot with a certificate from
a throwaway CA that the client is told to trust."""

from __future__ import annotations

import pytest
import trustme

from tests.conftest import Refbot, write_config
from tests.dovecot_server import DovecotServer
from tests.replies import reply


@pytest.fixture
def tls_dovecot(tmp_path, monkeypatch):
    ca = trustme.CA()
    bundle, cert, key = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(bundle))
    issued = ca.issue_cert("127.0.0.1", "localhost")
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # the client's default context trusts the CA
    server = DovecotServer(tmp_path / "imap", tls=(str(cert), str(key))).start()
    yield server
    server.stop()


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_replies_are_read_over_tls(tmp_path, smtp_server, tls_dovecot, capsys, monkeypatch, security):
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", tls_dovecot.password)
    port = tls_dovecot.tls_port if security == "ssl" else tls_dovecot.port
    extra = f"""
[inbound]
transport = "imap"
host = "127.0.0.1"
port = {port}
security = "{security}"
username = "{tls_dovecot.user}"
password_env = "REFBOT_TEST_IMAP_PASSWORD"
"""
    refbot = Refbot(write_config(tmp_path, smtp_port=smtp_server.port, extra=extra), capsys)
    referral = refbot.submit()["referrals"][0]["id"]
    original = smtp_server.catcher.wait_for(1)[0].message
    tls_dovecot.append("INBOX", reply(original, "INTERESTED"))
    (done,) = refbot.json("inbox", "poll")["processed"]
    assert done["outcome"] == "applied:INTERESTED" and done["referral"] == referral
    assert len(tls_dovecot.messages("Processed")) == 1
