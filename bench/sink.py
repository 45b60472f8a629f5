"""The SMTP sink: aiosmtpd on 127.0.0.1 that accepts everything and only counts it (a sink
that kept 100,000 messages would measure its own memory)."""

from __future__ import annotations

import threading
import time

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self) -> None:
        self.messages = 0
        self.recipients: dict[str, int] = {}
        self.arrived: dict[str, float] = {}  # subject tag -> monotonic time, for the latency bench
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    async def handle_DATA(self, server, session, envelope):
        now = time.monotonic()
        with self._changed:
            self.messages += 1
            for address in envelope.rcpt_tos:
                self.recipients[address] = self.recipients.get(address, 0) + 1
            head = envelope.original_content.split(b"\r\n\r\n", 1)[0]
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"in-reply-to:"):
                    self.arrived.setdefault(line.split(b":", 1)[1].strip().decode(), now)
            self._changed.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.messages >= count, timeout)

    def wait_reply(self, message_id: str, timeout: float) -> float | None:
        """The monotonic time the answer to ``message_id`` arrived, waiting up to ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: message_id in self.arrived, timeout)
            return self.arrived.get(message_id)

    def reset(self) -> None:
        with self._lock:
            self.messages = 0
            self.recipients.clear()
            self.arrived.clear()


class Sink:
    def __init__(self, port: int) -> None:
        self.port = port
        self.counter = Counter()
        self.controller = Controller(self.counter, hostname="127.0.0.1", port=port)

    def start(self) -> Sink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
