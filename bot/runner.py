"""The daemon: inbound mail, scheduler sweeps and the outbox sender, in one process.

One bad message never stops it (each is processed and recorded on its own); a lost
connection is retried with backoff; SIGTERM/SIGINT stop it after the message in hand;
SIGHUP re-reads the config and keeps the old one when the new one is invalid.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import schedule

from bot import config as config_module
from bot import scheduler
from bot.app import App
from bot.clock import utcnow
from bot.db import reading, sync_profiles, transaction
from bot.errors import ConfigError, RefbotError
from bot.inbound.crashes import MAX_CRASHES, CrashJournal
from bot.inbound.imap import ImapInbox
from bot.inbound.lease import FolderLease
from bot.inbound.pipeline import DatabaseUnavailable, Processed, process, record_crasher, record_too_large
from bot.inbound.smtp import SmtpInbox
from bot.outbound.mailer import Mailer

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60
OUTBOX_SECONDS = 15
MAX_BACKOFF_SECONDS = 300
FINAL_SEND_SECONDS = 2  # at a stop, sending what is queued may take this long
STOP_GRACE_SECONDS = 4.5  # SPEC §5: stopped within 5 seconds of SIGTERM, however busy


@dataclass
class Pass:
    """What one pass of each part did (for `refbot run --once`; `refbot inbox poll` prints each message as it is done)."""

    inbound: list[Processed] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    sent: int = 0

    def as_json(self) -> dict:
        return {"processed": processed_json(self.inbound), "timed_out": self.timed_out, "reminded": self.reminded, "sent": self.sent}


def processed_json(results: list[Processed]) -> list[dict]:
    return [one_json(p) for p in results]


def one_json(p: Processed) -> dict:
    return {"message_id": p.message_id, "outcome": p.outcome, "referral": p.referral_id, "detail": p.detail}


class Runner:
    def __init__(self, app: App, *, config_path: Path | None = None) -> None:
        self.app = app
        self.config_path = config_path
        self.stop = threading.Event()
        self.mail_arrived = threading.Event()
        self.reload_requested = threading.Event()
        self._lock = threading.Lock()  # one message at a time, whichever thread it came from
        self.imap: ImapInbox | None = None
        self._next_poll = 0.0  # monotonic time of the next poll when the server has no IDLE
        self._grace: threading.Timer | None = None  # leaves the process if a stop takes too long
        inbound = app.config.inbound
        self.lease = FolderLease(app.engine, f"{inbound.username}@{inbound.host}:{inbound.port}/{inbound.folder}")
        self.journal = CrashJournal(app.config.data_dir / f"inbound-in-hand-{inbound.transport}.json")

    # -- the parts, each one safe to call at any time ----------------------------------------

    def handle(self, raw: bytes, source: str) -> Processed:
        with self._lock:
            crashes = self.journal.begin(raw)
            try:
                if crashes >= MAX_CRASHES:
                    return record_crasher(self.app, raw, times=crashes, now=utcnow(), source=source)
                return process(self.app, raw, now=utcnow(), source=source)
            finally:
                self.journal.end()

    def poll_inbox(self, each: Callable[[Processed], None] | None = None) -> list[Processed]:
        """Process what waits in the IMAP folder, if this worker holds the folder's lease;
        ``each`` is handed each result as it comes instead of a list of them all."""
        if self.app.config.inbound.transport != "imap":
            return []
        if not self.lease.acquire():
            self.close()
            return []  # another worker reads the folder
        if self.imap is None:
            self.imap = ImapInbox(self.app.config.inbound)
        return self.imap.poll(self.handle, too_large=self.set_aside, stopping=self._interrupted, each=each)

    def set_aside(self, headers: bytes, source: str) -> Processed:
        with self._lock:
            return record_too_large(self.app, headers, now=utcnow(), source=source)

    def sweep(self) -> scheduler.Sweep:
        return scheduler.sweep(self.app.engine, self.app.mailer, self.app.config, now=utcnow(),
                               stopping=self.stop.is_set)

    def send(self, *, until: float | None = None) -> int:
        """Send what is due; stop between messages when asked to stop (or at ``until``)."""
        def stopping() -> bool:
            return self.stop.is_set() if until is None else time.monotonic() > until
        return len(self.app.send(now=utcnow(), stopping=stopping).sent)

    def once(self) -> Pass:
        """One pass of each part: inbound, scheduler, outbox."""
        try:
            done = Pass(inbound=self.poll_inbox())
        finally:
            self.close()
        swept = self.sweep()
        done.timed_out, done.reminded = swept.timed_out, swept.reminded
        done.sent = self.send()
        return done

    def close(self) -> None:
        if self.imap:
            self.imap.close()
            self.imap = None
        self.lease.release()

    # -- the daemon ------------------------------------------------------------------------------

    def run(self) -> None:
        self._install_signals()
        jobs = schedule.Scheduler()
        jobs.every(SWEEP_SECONDS).seconds.do(self._guarded, self.sweep)
        jobs.every(OUTBOX_SECONDS).seconds.do(self._guarded, self.send)
        smtp_inbox = self._start_smtp_inbox()
        web = self._start_web()
        log.info("refbot running", extra={"inbound": self.app.config.inbound.transport})
        self._guarded(self.sweep)  # catch up on whatever fell due while we were down
        self._guarded(self.send)
        backoff = 1
        try:
            while not self.stop.is_set():
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    self.reload()
                try:
                    self._inbound_step()
                    backoff = 1
                except Exception as exc:  # nothing ends the daemon: back off and go on
                    if isinstance(exc, (RefbotError, OSError)):
                        log.warning("inbound unavailable; retrying", extra={"error": str(exc), "retry_in": backoff})
                    else:
                        log.exception("inbound step failed; retrying", extra={"retry_in": backoff})
                        self.close()
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                jobs.run_pending()
        finally:
            if web:
                web.stop()
            if smtp_inbox:
                smtp_inbox.stop()
            self.close()
            self._guarded(self.final_send)
            if self._grace is not None:
                self._grace.cancel()
            log.info("refbot stopped")

    def final_send(self) -> int:
        """What the last messages queued goes out now if it can, else with the next start."""
        return self.send(until=time.monotonic() + FINAL_SEND_SECONDS)

    def _inbound_step(self) -> None:
        """Process what waits, send what that queued, then wait for more (IDLE or polling).

        Waits are cut into OUTBOX_SECONDS slices so that the scheduled jobs keep running.
        """
        inbound = self.app.config.inbound
        if inbound.transport == "imap":
            idle = self.imap is not None and self.imap.can_idle
            if idle or time.monotonic() >= self._next_poll:
                if self.poll_inbox():
                    self.send()
                self._next_poll = time.monotonic() + inbound.poll_seconds
            until_poll = min(max(0.0, self._next_poll - time.monotonic()), OUTBOX_SECONDS)
            if self.imap is None:  # another worker reads the folder: ask for the lease at the next poll
                self.stop.wait(until_poll)
                return
            self.imap.wait(OUTBOX_SECONDS if self.imap.can_idle else until_poll, stopping=self._interrupted)
        elif self.mail_arrived.wait(timeout=1.0):
            self.mail_arrived.clear()
            self.send()

    def _start_smtp_inbox(self) -> SmtpInbox | None:
        inbound = self.app.config.inbound
        if inbound.transport != "smtp":
            return None
        domain = self.app.config.smtp.reply_address.rpartition("@")[2]
        inbox = SmtpInbox(host=inbound.listen_host, port=inbound.listen_port, domain=domain,
                          handle=self.handle, on_processed=self.mail_arrived.set,
                          max_bytes=inbound.max_message_bytes)
        inbox.start()
        return inbox

    def _start_web(self):
        """The dashboard beside the daemon's work, when ``[web] enabled``."""
        if not self.app.config.web.enabled:
            return None
        from bot.web.server import WebServer

        return WebServer(self.app.config, reading(self.app.engine)).start()

    def _guarded(self, job):
        try:
            return job()
        except DatabaseUnavailable as exc:
            log.warning("database unavailable", extra={"job": job.__name__, "error": str(exc)})
        except Exception:  # a failing sweep or send must not end the daemon
            log.exception("job failed", extra={"job": job.__name__})
        return None

    # -- signals ---------------------------------------------------------------------------------

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        signal.signal(signal.SIGTERM, lambda *_: self._stop_within_the_grace())
        signal.signal(signal.SIGINT, lambda *_: self._stop_within_the_grace())
        # The handler only asks: reloading inside it could wait forever on the lock held by
        # the message the main thread is processing.
        signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())

    def _interrupted(self) -> bool:
        return self.stop.is_set() or self.reload_requested.is_set()

    def request_stop(self) -> None:
        log.info("stop requested")
        self.stop.set()

    def _stop_within_the_grace(self) -> None:
        """A signal's stop request: if the daemon is caught in a network call that outlasts the
        grace (an SMTP server that does not answer, say), leave anyway. Nothing is lost: every
        change commits with its emails, and a message leaves the inbox only after its commit."""
        self.request_stop()

        def leave() -> None:
            log.warning("stopping took too long; leaving now", extra={"grace_seconds": STOP_GRACE_SECONDS})
            logging.shutdown()
            os._exit(0)

        if self._grace is None:
            self._grace = threading.Timer(STOP_GRACE_SECONDS, leave)
            self._grace.daemon = True
            self._grace.start()

    def reload(self) -> None:
        """Re-read the config file; keep the running config if the new one is invalid."""
        if self.config_path is None:
            return
        try:
            new = config_module.load(self.config_path)
        except ConfigError as exc:
            log.error("config reload refused; keeping the running config", extra={"error": str(exc)})
            return
        with self._lock:
            with transaction(self.app.engine) as session:
                sync_profiles(session, new)
            self.app.config = new
            self.app.mailer = Mailer(new, secret=self.app.mailer.secret)
        log.info("config reloaded", extra={"partners": len(new.partners)})
