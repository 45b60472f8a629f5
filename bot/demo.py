"""`refbot demo`: a whole referral lifecycle on the embedded default, in a temporary folder.

It runs the real daemon (embedded SMTP inbound, maildir outbound, SQLite), submits an RFI,
answers as the partner over SMTP as a mail client would (taking one answer back with UNDO and
correcting the estimate with UPDATE), lets a second referral time out so that the customer is
told, and prints every email and state change on the way.
"""

from __future__ import annotations

import email
import smtplib
import socket
import tempfile
import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Callable

from bot import config as config_module
from bot import default_config, scheduler
from bot import rfi as rfi_module
from bot.app import App
from bot.clock import utcnow
from bot.db import transaction
from bot.models import Referral
from bot.runner import Runner

CUSTOMER = {"name": "Erika Mustermann", "email": "erika@example.org", "company": "Example GmbH",
            "phone": "+49 30 1234567", "size": "medium"}


def play(say: Callable[[str], None]) -> None:
    with tempfile.TemporaryDirectory(prefix="refbot-demo-") as folder:
        Demo(Path(folder), say).play()


class Demo:
    def __init__(self, folder: Path, say: Callable[[str], None]) -> None:
        self.say = say
        port = _free_port()
        path = folder / "config.toml"
        path.write_text(default_config.CONFIG.replace("listen_port = 2525", f"listen_port = {port}"), encoding="utf-8")
        self.config = config_module.load(path)
        self.app = App.open(self.config)
        self.runner = Runner(self.app)
        self.maildir = self.config.path(self.config.smtp.maildir) / "new"
        self.seen: set[str] = set()

    def play(self) -> None:
        thread = threading.Thread(target=self.runner.run, name="refbot-demo", daemon=True)
        thread.start()
        try:
            self._wait_for_listener()
            self.say(f"refbot demo in a temporary folder; replies go to 127.0.0.1:{self.config.inbound.listen_port}\n")
            first = self.submit("RFI-DEMO-1")
            last = self.show_new_mail()
            self.reply(first, last, "INTERESSIERT")
            last = self.show_new_mail()
            self.reply(first, last, "ANNEHMEN 25.000 EUR 31.12.2027")
            last = self.show_new_mail()
            self.reply(first, last, "GEWONNEN 27.500")
            last = self.show_new_mail()
            self.say(f"== oops, that was another deal: within {self.config.timeouts.undo_minutes} minutes "
                     "the partner takes it back")
            self.reply(first, last, "RÜCKGÄNGIG")
            last = self.show_new_mail()
            self.reply(first, last, "ÄNDERN 30.000 31.03.2028")
            self.show_new_mail()
            self.time_out(self.submit("RFI-DEMO-2"))
        finally:
            self.runner.request_stop()
            thread.join(timeout=10)
            self.app.close()

    def submit(self, rfi_id: str) -> str:
        rfi = rfi_module.RfiInput(rfi_id=rfi_id, customer=CUSTOMER, region="DE", location="Berlin",
                                  need="Move our on-premises SQL Server to Azure", products=["Azure SQL"],
                                  keywords=["migration"], partners=["contoso"])
        result = rfi_module.submit(self.app.engine, self.app.mailer, self.config, rfi, now=utcnow())
        self.app.send(now=utcnow())
        referral = result.referrals[0]
        self.say(f"== RFI {rfi_id} submitted: referral {referral.id} for {referral.partner_id} is {referral.status}\n")
        return referral.id

    def reply(self, referral_id: str, original: EmailMessage, text: str) -> None:
        """Answer like a mail client: to the Reply-To address, quoting the original."""
        reply = EmailMessage()
        reply["From"] = "Contoso Leads <leads-de@contoso.example>"
        reply["To"] = original["Reply-To"]
        reply["Subject"] = "AW: " + str(original["Subject"])
        reply["In-Reply-To"] = original["Message-ID"]
        reply["References"] = original["Message-ID"]
        reply["Message-ID"] = email.utils.make_msgid(domain="contoso.example")
        quoted = "\n".join("> " + line for line in original.get_body(("plain",)).get_content().splitlines())
        reply.set_content(f"{text}\n\nViele Grüße\nAnna\n\nAm {original['Date']} schrieb {original['From']}:\n{quoted}\n")
        self.say(f"== partner replies: {text}")
        before = self._status(referral_id)
        with smtplib.SMTP("127.0.0.1", self.config.inbound.listen_port, timeout=10) as smtp:
            smtp.send_message(reply)
        deadline = time.monotonic() + 10
        while not self._unseen() and time.monotonic() < deadline:  # refbot's answer
            time.sleep(0.05)
        self.say(f"== {referral_id}: {before} -> {self._status(referral_id)}\n")

    def time_out(self, referral_id: str) -> None:
        self.show_new_mail()
        later = utcnow() + timedelta(hours=self.config.timeouts.new_hours + 1)
        self.say(f"== nobody answers {referral_id}; {self.config.timeouts.new_hours} hours later the scheduler runs")
        scheduler.sweep(self.app.engine, self.app.mailer, self.config, now=later)
        self.app.send(now=later)
        self.say(f"== {referral_id}: new -> {self._status(referral_id)}\n")
        self.show_new_mail()

    def show_new_mail(self) -> EmailMessage | None:
        """Print every email refbot wrote since the last look; return the newest one."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not self._unseen():
            time.sleep(0.05)
        newest = None
        for path in self._unseen():
            self.seen.add(path.name)
            message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
            reply_to = f"Reply-To: {message['Reply-To']}\n" if message["Reply-To"] else ""
            self.say(f"--- email to {message['To']}\nSubject: {message['Subject']}\n{reply_to}")
            self.say(message.get_body(("plain",)).get_content().rstrip() + "\n")
            newest = message
        return newest

    def _unseen(self) -> list[Path]:
        if not self.maildir.exists():
            return []
        return sorted((p for p in self.maildir.iterdir() if p.name not in self.seen), key=lambda p: p.stat().st_mtime_ns)

    def _status(self, referral_id: str) -> str:
        with transaction(self.app.engine) as session:
            return session.get(Referral, referral_id).status

    def _wait_for_listener(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.config.inbound.listen_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
