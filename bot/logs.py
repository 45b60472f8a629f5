"""Structured logs on stderr: readable one-line records on a terminal, JSON lines otherwise
(``[logging] format``: auto, text or json).

Callers pass facts as ``extra={...}``: ids, outcomes, states. Never a password, a secret or
a customer's contact data; ``REDACTED_KEYS`` is a last guard against a slip.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import TextIO
from zoneinfo import ZoneInfo

REDACTED_KEYS = {"password", "secret", "token", "customer", "email", "phone"}
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def facts(record: logging.LogRecord) -> dict:
    """What the caller passed as ``extra``, with anything secret or personal redacted."""
    return {key: "[redacted]" if key in REDACTED_KEYS else value
            for key, value in vars(record).items() if key not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **facts(record),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2026-11-25 10:00:01 INFO    inbound message  outcome=applied:INTERESTED referral=R-7K3Q9``,
    the time in the bot's time zone."""

    def __init__(self, tz: str = "UTC") -> None:
        super().__init__()
        self.tz = ZoneInfo(tz)

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, self.tz).strftime("%Y-%m-%d %H:%M:%S")
        pairs = " ".join(f"{key}={_plain(value)}" for key, value in facts(record).items() if value is not None)
        line = f"{at} {record.levelname:<7} {record.getMessage()}" + (f"  {pairs}" if pairs else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _plain(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return json.dumps(text, ensure_ascii=False) if not text or any(c.isspace() or c == '"' for c in text) else text


def setup(level: str | None = None, *, fmt: str = "auto", tz: str = "UTC", stream: TextIO | None = None) -> None:
    """One handler on the root logger (set again, never added: no record is written twice);
    ``level`` None keeps the level set before."""
    stream = stream or sys.stderr
    text = fmt == "text" or (fmt == "auto" and stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter(tz) if text else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    if level is not None:
        root.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO")
    # aiosmtpd logs every connection at INFO; our own inbound log line says what matters.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # At DEBUG the IMAP and SMTP libraries log the protocol, message bodies and all: never ours.
    for library in ("imapclient", "mail.debug", "smtplib"):
        logging.getLogger(library).setLevel(logging.WARNING)
