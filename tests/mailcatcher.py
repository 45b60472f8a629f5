"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping what it receives."""

from __future__ import annotations

import asyncio
import email
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

from tests.dovecot_server import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=default_policy)

    @property
    def to(self) -> str:
        return self.recipients[0]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


class Catcher:
    """The aiosmtpd handler: records every message; can refuse for a while to test retries."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse_with: str | None = None  # e.g. "451 try again later"
        self.answer_after: float = 0  # seconds to wait before answering the end of DATA
        self.refuse_recipients: dict[str, str] = {}  # address -> the answer to its RCPT, e.g. "550 ..."
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse_recipients:
            return self.refuse_recipients[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with:
            return self.refuse_with
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        await asyncio.sleep(self.answer_after)
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.received if address.lower() in (r.lower() for r in m.recipients)]

    def clear(self) -> None:
        self.received.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


class SmtpServer:
    def __init__(self, **options) -> None:
        self.catcher = Catcher()
        self.port = free_port()
        self.controller = Controller(self.catcher, hostname="127.0.0.1", port=self.port, **options)

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
