"""Where outgoing mail goes: an SMTP server over one persistent connection, or a maildir."""

from __future__ import annotations

import mailbox
import smtplib
import time
from pathlib import Path
from typing import Protocol

from bot import tls
from bot.config import Config, SmtpSettings, secret_from_env
from bot.errors import DeliveryError

# A connection used this recently is taken to be alive; one idle longer is asked with a NOOP
# first (a NOOP before every message would cost a round trip each).
CHECK_AFTER_IDLE_SECONDS = 5


class PermanentFailure(DeliveryError):
    """The server refused the message for good (5xx): retrying will not help."""


class Transport(Protocol):
    def send(self, raw: bytes, *, sender: str, recipient: str) -> None: ...
    def close(self) -> None: ...


class MaildirTransport:
    """Writes each message into a maildir folder, for local use and the demo."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, raw: bytes, *, sender: str, recipient: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            mailbox.Maildir(self.path, create=True).add(raw)
        except OSError as exc:
            raise DeliveryError(f"maildir {self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        pass


class SmtpTransport:
    """One SMTP connection, opened on the first message and kept for the following ones."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._connection: smtplib.SMTP | None = None
        self._used_at = 0.0  # monotonic time of the last message the server took

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        password = secret_from_env(s.password_env) or ""
        if s.username and not password:
            raise DeliveryError(f"smtp: environment variable {s.password_env or '(smtp.password_env)'} with the password is not set")
        connection = None
        try:
            connection = connect(s)
            if s.username:
                connection.login(s.username, password)
        except (OSError, smtplib.SMTPException) as exc:
            if connection is not None:
                connection.close()
            raise DeliveryError(f"smtp {explain(exc, s)}") from None
        return connection

    def send(self, raw: bytes, *, sender: str, recipient: str) -> None:
        """Send once. A failure is never retried here: after DATA the server may have taken the
        message, and the outbox retries later with the same Message-ID."""
        idle = time.monotonic() - self._used_at > CHECK_AFTER_IDLE_SECONDS
        if self._connection is not None and idle and not self._alive():
            self.close()  # a kept connection the server has dropped meanwhile
        if self._connection is None:
            self._connection = self._connect()
        options = [] if recipient.isascii() else ["SMTPUTF8"]
        if options and not self._connection.has_extn("smtputf8"):
            raise PermanentFailure(f"{self.settings.host} does not take non-ASCII addresses (SMTPUTF8)")
        try:
            refused = self._connection.sendmail(sender, [recipient], raw, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _failure(code, text) from None
        except smtplib.SMTPResponseException as exc:
            raise _failure(exc.smtp_code, exc.smtp_error) from None
        except UnicodeError as exc:
            raise PermanentFailure(f"cannot send to this address: {exc.reason}") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryError(f"smtp {self.settings.host}: {exc.__class__.__name__}: {exc}") from None
        self._used_at = time.monotonic()
        if refused:
            code, text = next(iter(refused.values()))
            raise _failure(code, text)

    def _alive(self) -> bool:
        try:
            return self._connection.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (OSError, smtplib.SMTPException):
                self._connection.close()
            self._connection = None


def connect(s: SmtpSettings) -> smtplib.SMTP:
    """A connection to the server, encrypted as ``smtp.security`` says, not logged in yet."""
    # The context (the system's CAs, read from disk) only for a connection that encrypts.
    if s.security == "ssl":
        return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=tls.context(s.ca_file))
    connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
    if s.security == "starttls":
        try:
            connection.starttls(context=tls.context(s.ca_file))
        except BaseException:
            connection.close()
            raise
    return connection


def explain(exc: BaseException, s: SmtpSettings) -> str:
    """A failure to connect or log in, naming the key to change."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return tls.login_refused(section="smtp", host=s.host, port=s.port, password_env=s.password_env) + (
            f" ({exc.smtp_code})")
    if isinstance(exc, smtplib.SMTPNotSupportedError) and s.security == "starttls":
        return (f"{s.host}:{s.port}: the server does not offer STARTTLS: check smtp.security and smtp.port "
                "(\"ssl\" for implicit TLS, usually on 465)")
    return tls.explain(exc, section="smtp", host=s.host, port=s.port)


def _failure(code: int, text: bytes | str) -> DeliveryError:
    reason = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    error = PermanentFailure if 500 <= code < 600 else DeliveryError
    return error(f"{code} {reason}".strip())


def make_transport(config: Config) -> Transport:
    if config.smtp.transport == "maildir":
        return MaildirTransport(config.path(config.smtp.maildir))
    return SmtpTransport(config.smtp)
