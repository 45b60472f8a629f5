"""Outgoing mail over STARTTLS and implicit TLS with a login, against a real aiosmtpd server
with a certificate from a throwaway CA that the client is told to trust."""

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
def ca(tmp_path, monkeypatch):
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # the client's default context trusts it
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


def secure_refbot(tmp_path, capsys, security: str, port: int) -> Refbot:
    path = write_config(tmp_path, smtp_port=port)
    text = path.read_text().replace('security = "none"', f'security = "{security}"\nusername = "{USER}"\n'
                                                          'password_env = "REFBOT_TEST_SMTP_PASSWORD"')
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
