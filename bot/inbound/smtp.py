"""The embedded SMTP server: replies delivered straight to refbot (``inbound.transport = "smtp"``).

It accepts only recipients of the bot's reply domain, so it is no open relay, and answers
451 when the database is unavailable so that the sending server keeps the message and
tries again: nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from bot.inbound.pipeline import DatabaseUnavailable, Processed

log = logging.getLogger(__name__)


class ReplyHandler:
    """aiosmtpd handler: RCPT checks the domain, DATA processes the message."""

    def __init__(self, domain: str, handle: Callable[[bytes, str], Processed], on_processed: Callable[[], None]) -> None:
        self.domain = domain.lower()
        self.handle = handle
        self.on_processed = on_processed

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.rpartition("@")[2].lower() != self.domain:
            return f"550 5.7.1 {address}: this server only accepts replies for {self.domain}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        loop = asyncio.get_running_loop()
        # As an MTA would, record the envelope recipient: it carries the token even when
        # the reply's To header does not (a Bcc, a forward).
        raw = b"".join(b"X-Original-To: %s\r\n" % r.encode() for r in envelope.rcpt_tos) + envelope.original_content
        try:
            # The database work runs off the event loop so that other sessions are not held up.
            await loop.run_in_executor(None, self.handle, raw, "smtp")
        except DatabaseUnavailable:
            log.warning("smtp inbound deferred: database unavailable")
            return "451 4.3.0 temporarily unable to process the message; try again later"
        self.on_processed()
        return "250 OK"


class _Controller(Controller):
    """aiosmtpd refuses a line over 1,000 bytes (RFC 5321's limit for what a server must take);
    real MTAs take longer ones, and Outlook's HTML has them. Here a line may be as long as the
    whole message may be."""

    def __init__(self, handler, *, max_bytes: int, **kwargs) -> None:
        super().__init__(handler, data_size_limit=max_bytes, **kwargs)
        # The limit sizes the connection's read buffer, which the server makes as it starts.
        # A little over the size limit, so that an oversized line is refused as too much mail (552).
        self.server_class = type("LongLineSMTP", (SMTP,), {"line_length_limit": max_bytes + 1024})

    def factory(self) -> SMTP:
        return self.server_class(self.handler, **self.SMTP_kwargs)


class SmtpInbox:
    def __init__(self, *, host: str, port: int, domain: str, handle, on_processed=lambda: None,
                 max_bytes: int = 10_000_000) -> None:
        self.controller = _Controller(ReplyHandler(domain, handle, on_processed), hostname=host, port=port,
                                      max_bytes=max_bytes)

    def start(self) -> None:
        self.controller.start()
        log.info("smtp inbound listening", extra={"host": self.controller.hostname, "port": self.controller.port})

    def stop(self) -> None:
        self.controller.stop()
