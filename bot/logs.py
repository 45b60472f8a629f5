"""Structured logs: one JSON object a line on stderr.

Callers pass facts as ``extra={...}``: ids, outcomes, states. Never a password, a secret or
a customer's contact data; ``REDACTED_KEYS`` is a last guard against a slip.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

REDACTED_KEYS = {"password", "secret", "token", "customer", "email", "phone"}
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                entry[key] = "[redacted]" if key in REDACTED_KEYS else value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO")
    # aiosmtpd logs every connection at INFO; our own inbound log line says what matters.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
