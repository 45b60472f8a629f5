"""TLS for the mail servers refbot talks to, and connection failures said in words that name
the config key to change.

``ca_file`` (under ``[smtp]`` and ``[inbound]``) replaces the system's CAs for that server: a
server with a certificate from a private CA is trusted through it, and nothing else is.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

# OpenSSL's verify codes for "nobody we trust signed this" (self-signed, unknown issuer, ...).
UNTRUSTED = {18, 19, 20, 21, 24}
HOSTNAME_MISMATCH = 62


def context(ca_file: str = "") -> ssl.SSLContext:
    """A client context that checks the certificate and host name; ``ca_file``: trust only the
    CAs in that PEM file."""
    return ssl.create_default_context(cafile=ca_file or None)


def ca_file_problem(path: Path) -> str | None:
    """What is wrong with a ``ca_file``, or None: it must exist and hold a CA certificate."""
    if not path.is_file():
        return f"no such file {path}"
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        probe.load_verify_locations(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        return f"{path} holds no PEM certificate ({exc.__class__.__name__}: {exc})"
    if not probe.cert_store_stats()["x509_ca"]:
        return f"{path} holds no CA certificate (a server's own certificate is not enough: give its CA's)"
    return None


def explain(exc: BaseException, *, section: str, host: str, port: int) -> str:
    """A connection failure in words, with the key to change (``section`` is smtp or inbound)."""
    where = f"{host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        if exc.verify_code == HOSTNAME_MISMATCH:
            return (f"{where}: the server's certificate is not for {host} ({exc.verify_message}): set {section}.host "
                    "to a name in the certificate")
        if exc.verify_code in UNTRUSTED:
            return (f"{where}: the server's certificate is not trusted ({exc.verify_message}): if a private CA "
                    f"signed it, set {section}.ca_file to that CA's PEM file")
        return f"{where}: the server's certificate was refused ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return (f"{where}: TLS failed ({exc.reason or exc}): check {section}.security and {section}.port "
                "(\"ssl\" is implicit TLS, usually on 465 or 993; \"starttls\" upgrades a plain connection, usually "
                "on 587 or 143)")
    if isinstance(exc, ConnectionRefusedError):
        return f"{where}: connection refused: is the server running there? check {section}.host and {section}.port"
    if isinstance(exc, socket.gaierror):
        return f"{where}: unknown host ({exc.strerror}): check {section}.host"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"{where}: no answer in time: check {section}.host, {section}.port and any firewall between"
    return f"{where}: {exc.__class__.__name__}: {exc}"


def login_refused(*, section: str, host: str, port: int, password_env: str) -> str:
    return (f"{host}:{port}: login refused: check {section}.username and the password in "
            f"{password_env or section + '.password_env'}")
