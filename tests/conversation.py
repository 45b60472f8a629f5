"""Tests that read as conversations: a partner talks to the real daemon through real mail.

refbot runs as `refbot run` does (the daemon, IMAP IDLE on a real Dovecot, the outbox sending
through a real aiosmtpd); a partner answers the last email they got, as their mail client
would, and reads what comes back:

    contoso = mail.person("leads-de@contoso.example")
    contoso.expect(subject="Neue Empfehlung")
    contoso.replies("INTERESSIERT", client="outlook-de")
    contoso.expect(subject="Kundendaten", body_contains=["Erika Mustermann"])
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING

from bot import config as config_module
from bot.app import App
from bot.runner import Runner
from tests.dovecot_server import DovecotServer
from tests.mailcatcher import Received, SmtpServer
from tests.replies import reply

if TYPE_CHECKING:
    from tests.conftest import Refbot

WAIT_SECONDS = 10.0  # IDLE answers in well under a second; this only bounds a failure


class Mailroom:
    """A running refbot with its IMAP and SMTP servers, and the people who write to it."""

    def __init__(self, *, refbot: Refbot, dovecot: DovecotServer, smtp: SmtpServer) -> None:
        self.refbot, self.dovecot, self.smtp = refbot, dovecot, smtp
        self.app: App | None = None
        self.runner: Runner | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "Mailroom":
        self.app = App.open(config_module.load(self.refbot.config))
        self.runner = Runner(self.app)
        self._thread = threading.Thread(target=self.runner.run, name="refbot-daemon", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.request_stop()
            self._thread.join(timeout=15)
            assert not self._thread.is_alive(), "the daemon did not stop within 15 seconds"
            self.app.close()

    def submit(self, **changes) -> str:
        """A customer's RFI arrives (`refbot rfi submit`); the id of its first referral."""
        return self.refbot.submit(**changes)["referrals"][0]["id"]

    def state(self) -> str:
        """Where the mail stands, for a test that waited in vain."""
        from sqlmodel import select

        from bot.db import transaction
        from bot.models import InboundMessage, OutboundMessage

        with transaction(self.app.engine) as session:
            inbound = [(m.message_id, m.outcome) for m in session.exec(select(InboundMessage)).all()]
            outbox = [(m.kind, m.recipient, m.status, m.last_error) for m in session.exec(select(OutboundMessage)).all()]
        waiting = len(self.dovecot.messages("INBOX"))
        import sys
        import traceback

        reading = "reading the inbox" if self.runner.imap else "not reading the inbox"
        frame = sys._current_frames().get(self._thread.ident)
        where = " <- ".join(f"{f.name}:{f.lineno}" for f in reversed(traceback.extract_stack(frame)[-6:])) if frame else ""
        return (f"daemon alive: {self._thread.is_alive()}, {reading}; {waiting} message(s) waiting in INBOX; "
                f"inbound: {inbound}; outbox: {outbox}; the daemon is at {where}\n"
                f"Dovecot's log:\n{self.dovecot.log_tail(15)}")

    def person(self, address: str) -> "Mailbox":
        return Mailbox(self, address)

    def referral(self, referral_id: str) -> dict:
        return self.refbot.json("referrals", "show", referral_id)


@dataclass
class Mailbox:
    """One person's mailbox: the emails refbot sent them, and their replies."""

    room: Mailroom
    address: str
    seen: int = 0  # how many of their emails they have read
    last: EmailMessage | None = field(default=None, repr=False)  # the one they would answer

    def received(self) -> list[Received]:
        return self.room.smtp.catcher.to(self.address)

    def expect(self, *, subject: str | None = None, body_contains: list[str] | tuple = (),
               body_lacks: list[str] | tuple = (), about: str | None = None) -> Received:
        """The next email refbot sends this person, checked as they would read it."""
        deadline = time.monotonic() + WAIT_SECONDS
        while len(self.received()) <= self.seen and time.monotonic() < deadline:
            time.sleep(0.02)
        mail = self.received()
        assert len(mail) > self.seen, f"{self.address} got no email; {self.room.state()}"
        got = mail[self.seen]
        self.seen += 1
        self.last = got.message
        if subject is not None:
            assert subject in got.subject, f"{got.subject!r} does not say {subject!r}"
        if about is not None:
            assert f"[Referral {about}]" in got.subject
        for words in body_contains:
            assert words in got.text, f"{words!r} is not in:\n{got.text}"
        for words in body_lacks:
            assert words not in got.text, f"{words!r} should not be in:\n{got.text}"
        return got

    def expect_nothing(self, within: float = 1.5) -> None:
        """No email for this person (refbot stays silent), for as long as an answer would take."""
        time.sleep(within)
        assert len(self.received()) == self.seen, f"{self.address} got: {self.received()[self.seen].subject}"

    def replies(self, text: str, *, client: str = "gmail", to: str | None = None,
                answering: EmailMessage | None = None, sender: str | None = None,
                headers: dict | None = None) -> None:
        """Answer the last email read (or ``answering``) as ``client`` would; the message lands
        in refbot's IMAP inbox."""
        original = answering or self.last
        assert original is not None, f"{self.address} has no email to answer yet"
        self.room.dovecot.append("INBOX", reply(original, text, sender=sender or self.address, client=client, to=to,
                                                headers=headers))
