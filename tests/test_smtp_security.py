"""Outgoing mail over STARTTLS and implicit TLS with a login, against a real aiosmtpd server
with a certificate from a throwaway CA, trusted through `smtp.ca_file` (a private CA); without
it the mail stays queued with a reason that names the key."""

from __future__ import annotations

import json
import ssl

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.conftest import RFI, Refbot, write_config
from tests.mailcatcher import Catcher, free_port

USER, PASSWORD = "referrals@example.com", "s3cret-smtp"
# aiosmtpd warns about AUTH without STARTTLS; on the implicit-TLS server the session is encrypted.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@pytest.fixture
def ca(tmp_path):
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))  # beside the config: ca_file = "ca.pem"
    return authority


def server_context(ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(params=["starttls", "ssl"])
def secure_server(request, ca):
    catcher, port = Catcher(), free_port()
    context = server_context(ca)
    auth = dict(authenticator=authenticator, auth_required=True)
    if request.param == "starttls":
        controller = Controller(catcher, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                                **auth)
    else:
        # aiosmtpd cannot tell that an implicit-TLS session is encrypted; it is.
        controller = Controller(catcher, hostname="127.0.0.1", port=port, ssl_context=context,
                                auth_require_tls=False, **auth)
    controller.start()
    yield request.param, port, catcher
    controller.stop()


def secure_refbot(tmp_path, capsys, security: str, port: int, ca_file: str = "ca.pem") -> Refbot:
    path = write_config(tmp_path, smtp_port=port)
    text = path.read_text().replace('security = "none"', f'security = "{security}"\nusername = "{USER}"\n'
                                                          'password_env = "REFBOT_TEST_SMTP_PASSWORD"\n'
                                                          f'ca_file = "{ca_file}"')
    path.write_text(text)
    return Refbot(path, capsys)


def test_login_over_tls_delivers(tmp_path, capsys, monkeypatch, secure_server):
    security, port, catcher = secure_server
    monkeypatch.setenv("REFBOT_TEST_SMTP_PASSWORD", PASSWORD)
    refbot = secure_refbot(tmp_path, capsys, security, port)
    refbot.submit()
    (mail,) = catcher.wait_for(1)
    assert mail.to == "leads-de@contoso.example"
    assert refbot.json("outbox", "list")[0]["status"] == "sent"


def test_wrong_password_keeps_the_message_queued(tmp_path, capsys, monkeypatch, secure_server):
    security, port, catcher = secure_server
    monkeypatch.setenv("REFBOT_TEST_SMTP_PASSWORD", "wrong")
    refbot = secure_refbot(tmp_path, capsys, security, port)
    code, _, err = refbot("rfi", "submit", "-", stdin=json.dumps(RFI))
    assert code == 0, err
    (queued,) = refbot.json("outbox", "list")
    assert queued["status"] == "queued" and "login refused" in queued["last_error"]
    assert PASSWORD not in queued["last_error"] and "wrong" not in queued["last_error"]
    assert catcher.received == []


def test_without_ca_file_the_mail_stays_queued_and_the_reason_names_the_key(tmp_path, capsys, monkeypatch,
                                                                            secure_server):
    security, port, catcher = secure_server
    monkeypatch.setenv("REFBOT_TEST_SMTP_PASSWORD", PASSWORD)
    refbot = secure_refbot(tmp_path, capsys, security, port, ca_file="")
    code, _, err = refbot("rfi", "submit", "-", stdin=json.dumps(RFI))
    assert code == 0, err
    (queued,) = refbot.json("outbox", "list")
    assert queued["status"] == "queued" and "certificate is not trusted" in queued["last_error"]
    assert "set smtp.ca_file" in queued["last_error"]
    assert catcher.received == []
    # The admin sets it; the next flush delivers the same message.
    refbot.config.write_text(refbot.config.read_text().replace('ca_file = ""', 'ca_file = "ca.pem"'))
    assert refbot("outbox", "flush")[0] == 0
    assert len(catcher.wait_for(1)) == 1 and refbot.json("outbox", "list")[0]["status"] == "sent"


def test_config_check_refuses_a_missing_ca_file_or_one_without_a_ca(tmp_path, capsys, ca):
    refbot = secure_refbot(tmp_path, capsys, "starttls", 587, ca_file="private-ca.pem")
    code, _, err = refbot("config", "check")
    assert code == 2 and "smtp.ca_file: no such file" in err and "private-ca.pem" in err
    issued = ca.issue_cert("mail.example.com")
    issued.cert_chain_pems[0].write_to_path(str(tmp_path / "private-ca.pem"))  # a server certificate, not a CA
    code, _, err = refbot("config", "check")
    assert code == 2 and "holds no CA certificate" in err
    ca.cert_pem.write_to_path(str(tmp_path / "private-ca.pem"))
    assert refbot("config", "check")[0] == 0


def test_config_check_connect_logs_in_through_the_private_ca(tmp_path, capsys, monkeypatch, secure_server):
    security, port, _catcher = secure_server
    monkeypatch.setenv("REFBOT_TEST_SMTP_PASSWORD", PASSWORD)
    refbot = secure_refbot(tmp_path, capsys, security, port)
    refbot.config.write_text(refbot.config.read_text() + '\n[inbound]\ntransport = "smtp"\n')
    code, out, err = refbot("config", "check", "--connect")
    assert code == 0, err
    assert f"smtp 127.0.0.1:{port} ({security}) as {USER}:\n  logged in\n" in out
    refbot.config.write_text(refbot.config.read_text().replace('ca_file = "ca.pem"', 'ca_file = ""'))
    code, out, err = refbot("config", "check", "--connect")
    assert code == 1 and "certificate is not trusted" in err and "set smtp.ca_file" in err
