"""The IMAP inbox: fetch what waits, hand each message over, then move it out of the way.

A message leaves the inbox only after its effect is committed: to ``processed_folder``, or
to ``failed_folder`` when it could not be processed. Nothing is ever deleted.
"""

from __future__ import annotations

import logging
import ssl
import time
from typing import Callable, Iterator

import imapclient
from imapclient.exceptions import IMAPClientError

from bot import faults, tls
from bot.config import InboundSettings, secret_from_env
from bot.errors import RefbotError
from bot.inbound import folders
from bot.inbound.pipeline import DatabaseUnavailable, Processed

log = logging.getLogger(__name__)

BATCH = 25  # messages fetched in one FETCH, and moved in one MOVE
IDLE_SLICE_SECONDS = 3  # the longest a message missed by the server's IDLE waits
# ... right after a pass, when a reply that arrived during it is the likeliest to be missed: no
# longer than Dovecot takes to announce one it does not miss (about half a second), so that a
# missed reply waits no longer than twice that
FIRST_SLICE_SECONDS = 0.5


class InboxError(RefbotError):
    """The IMAP server cannot be reached, refused the login, or dropped the connection."""


Handler = Callable[[bytes, str], Processed]  # (raw message, where it came from)
TooLarge = Callable[[bytes, str], Processed]  # (the message's headers only, where it came from)


class ImapInbox:
    def __init__(self, settings: InboundSettings) -> None:
        self.settings = settings
        self.client: imapclient.IMAPClient | None = None
        self.uidvalidity: int | None = None
        self.folders: folders.Folders | None = None  # the configured folders by their names on the server
        self._idle_started = 0.0

    # -- connection ------------------------------------------------------------------------

    def connect(self) -> None:
        s = self.settings
        password = secret_from_env(s.password_env) or ""
        if not password:
            raise InboxError(f"imap: environment variable {s.password_env or '(inbound.password_env)'} with the password is not set")
        client = None
        try:
            client = login(s, password)
            found = folders.resolve(client, s)
            folders.ensure(client, s, found)
            selected = client.select_folder(found.folder)
        except folders.FolderError as exc:
            client.shutdown()
            raise InboxError(f"imap {s.host}:{s.port}: {exc}") from None
        except client_errors() as exc:
            if client is not None:
                client.shutdown()
            raise InboxError(f"imap {explain(exc, s)}") from None
        validity = selected.get(b"UIDVALIDITY")
        if self.uidvalidity is not None and validity != self.uidvalidity:
            # UIDs were renumbered. Harmless here: every message is matched by Message-ID.
            log.warning("imap uidvalidity changed", extra={"folder": s.folder, "uidvalidity": validity})
        self.uidvalidity = validity
        self.client, self.folders = client, found
        log.info("imap connected", extra={"host": s.host, "folder": found.folder, "idle": self.can_idle})

    @property
    def can_idle(self) -> bool:
        return bool(self.client and self.settings.idle and self.client.has_capability("IDLE"))

    def close(self) -> None:
        if self.client is None:
            return
        try:
            self.client.logout()
        except client_errors():
            pass
        self.client = None

    # -- one pass ---------------------------------------------------------------------------

    def poll(self, handle: Handler, *, too_large: TooLarge, stopping: Callable[[], bool] = lambda: False,
             each: Callable[[Processed], None] | None = None) -> list[Processed]:
        """Process every message waiting in the folder once. A database outage stops the
        pass and leaves the rest in the inbox for the next one; so does a stop request,
        after the message in hand.

        ``each``: handed each result as it comes, and none are returned; a pass over a large
        inbox then holds nothing per message."""
        if self.client is None:
            self.connect()
        results: list[Processed] = []
        keep = each or results.append
        done: dict[str, list[int]] = {}  # folder -> the UIDs to move there, a batch at a time
        try:
            try:
                for uid, raw in self._waiting():
                    if stopping():
                        break
                    source = f"imap:{self.folders.folder} uid {uid}"
                    if raw is None:
                        result = too_large(self._headers(uid), source)
                        done.setdefault(self.folders.failed_folder, []).append(uid)
                    else:
                        result = handle(raw, source)
                        faults.crash_at("after-commit", raw)  # committed, still in the inbox
                        folder = self.folders.failed_folder if result.failed else self.folders.processed_folder
                        done.setdefault(folder, []).append(uid)
                    keep(result)
                    if sum(map(len, done.values())) >= BATCH:
                        self._move_all(done)
            finally:
                # Also when the database is gone: what was committed leaves the inbox. Had the
                # move failed, each would come back as a duplicate, and be moved then.
                if self.client is not None:
                    self._move_all(done)
        except DatabaseUnavailable:
            raise
        except client_errors() as exc:
            self.close()
            raise InboxError(f"imap {self.settings.host}: {exc.__class__.__name__}: {exc}") from None
        return results

    def _waiting(self) -> Iterator[tuple[int, bytes | None]]:
        client = self.client
        self._announced().pop("EXISTS", None)  # from here on, an announcement means new mail
        uids = client.search(["NOT", "DELETED"])
        for start in range(0, len(uids), BATCH):
            batch = uids[start:start + BATCH]
            sizes = client.fetch(batch, ["RFC822.SIZE"])
            small = [uid for uid in batch if sizes.get(uid, {}).get(b"RFC822.SIZE", 0) <= self.settings.max_message_bytes]
            for uid in batch:
                if uid not in small and uid in sizes:
                    yield uid, None
            if not small:
                continue
            bodies = client.fetch(small, ["BODY.PEEK[]"])
            for uid in small:
                raw = bodies.get(uid, {}).get(b"BODY[]")
                if raw is not None:
                    yield uid, raw

    def _headers(self, uid: int) -> bytes:
        fetched = self.client.fetch([uid], ["BODY.PEEK[HEADER]"])
        return fetched.get(uid, {}).get(b"BODY[HEADER]", b"")

    @property
    def supports_move(self) -> bool:
        return self.client.has_capability("MOVE")

    def _move_all(self, done: dict[str, list[int]]) -> None:
        """Move each folder's UIDs there, one command per folder, and forget them."""
        for folder, uids in done.items():
            if uids:
                self._move(uids, folder)
        done.clear()

    def _move(self, uids: list[int], folder: str) -> None:
        try:
            if self.supports_move:
                self.client.move(uids, folder)
                return
            self.client.copy(uids, folder)
            self.client.delete_messages(uids)
            if self.client.has_capability("UIDPLUS"):
                self.client.uid_expunge(uids)
            else:
                self.client.expunge()
        finally:
            # The server answers with an EXPUNGE per message moved, and imaplib keeps every
            # one of them for the connection's life, which is the daemon's.
            self._announced().pop("EXPUNGE", None)

    # -- waiting for mail -------------------------------------------------------------------

    def _announced(self) -> dict:
        """What the server said unasked since it was last cleared. imapclient files a new
        message's EXISTS there when the server announces it in a command's response or as IDLE
        begins, and hands over from ``idle_check`` only what comes later."""
        return self.client._imap.untagged_responses

    def wait(self, seconds: float, *, stopping: Callable[[], bool] = lambda: False) -> None:
        """Return when new mail may have arrived, after ``seconds``, or soon after a stop.

        IDLE runs in slices of IDLE_SLICE_SECONDS with a NOOP between them: a server may miss
        telling an IDLE session of a message that arrived just before it began (Dovecot on a
        maildir, within the same second), and the NOOP makes it look again."""
        deadline = time.monotonic() + seconds
        if not self.can_idle:
            while time.monotonic() < deadline and not stopping():
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            return
        try:
            # A NOOP first: mail that arrived during the pass, just before IDLE would begin, is
            # announced now instead of after the first slice.
            self.client.noop()
            length = FIRST_SLICE_SECONDS
            while time.monotonic() < deadline and not stopping():
                if "EXISTS" in self._announced():
                    return  # new mail was announced since the last pass began
                if self._idle_slice(min(deadline, time.monotonic() + length), stopping):
                    return
                self.client.noop()
                length = IDLE_SLICE_SECONDS
        except client_errors() as exc:
            self.close()
            raise InboxError(f"imap {self.settings.host}: IDLE: {exc.__class__.__name__}: {exc}") from None

    def _idle_slice(self, until: float, stopping: Callable[[], bool]) -> bool:
        """IDLE until ``until``; whether the server told of something meanwhile."""
        self.client.idle()
        try:
            if "EXISTS" in self._announced():  # announced as IDLE began
                return True
            while time.monotonic() < until and not stopping():
                # Short checks so a stop request is noticed within half a second.
                if self.client.idle_check(timeout=0.5):
                    return True
            return False
        finally:
            self.client.idle_done()


def login(s: InboundSettings, password: str) -> imapclient.IMAPClient:
    """A logged-in client, encrypted as ``inbound.security`` says."""
    # The context (the system's CAs, read from disk) only for a connection that encrypts.
    context = tls.context(s.ca_file) if s.security != "none" else None
    client = imapclient.IMAPClient(s.host, port=s.port, ssl=s.security == "ssl", ssl_context=context, timeout=60)
    try:
        if s.security == "starttls":
            client.starttls(context)
        client.login(s.username, password)
    except BaseException:
        try:
            client.shutdown()
        except OSError:
            pass  # a failed STARTTLS leaves no socket to shut down
        raise
    return client


def explain(exc: BaseException, s: InboundSettings) -> str:
    """A failure to connect or log in, naming the key to change."""
    if isinstance(exc, imapclient.exceptions.LoginError):
        return tls.login_refused(section="inbound", host=s.host, port=s.port, password_env=s.password_env)
    if isinstance(exc, IMAPClientError) and "STARTTLS" in str(exc).upper() and s.security == "starttls":
        return (f"{s.host}:{s.port}: the server does not offer STARTTLS: check inbound.security and inbound.port "
                "(\"ssl\" for implicit TLS, usually on 993)")
    return tls.explain(exc, section="inbound", host=s.host, port=s.port)


def client_errors() -> tuple[type[BaseException], ...]:
    return (IMAPClientError, OSError, ssl.SSLError, imapclient.exceptions.IMAPClientAbortError)

