"""The message in hand, written down before it is processed and wiped after, so that a message
that kills the worker (a parser bug that takes the process down, memory it cannot have) does not
kill it for ever: the worker that starts again finds the message here, counts the crash, and
after ``MAX_CRASHES`` on the same message sets it aside for an admin instead of trying again.

A small JSON file in the data folder: it must outlive the process, and never depends on the
database, which may be what is down.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)

MAX_CRASHES = 3  # a fourth try on a message that took the worker down three times sets it aside
_FROM = re.compile(rb"^from:[ \t]*([^\r\n]{1,998})", re.IGNORECASE | re.MULTILINE)
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(<[\x21-\x3d\x3f-\x7e]{1,253}>)", re.IGNORECASE | re.MULTILINE)


class CrashJournal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def begin(self, raw: bytes) -> int:
        """Write ``raw`` down as the message in hand; how many times it took a worker down before."""
        digest = hashlib.sha256(raw).hexdigest()
        crashes = 0
        try:
            earlier = json.loads(self.path.read_text(encoding="utf-8"))
            if earlier.get("sha256") == digest:
                crashes = int(earlier.get("tries", 0))
        except (OSError, ValueError, AttributeError):
            pass  # no journal (the last message finished), or one cut short by the crash itself
        if crashes:
            log.warning("a message in hand when the worker died is tried again",
                        extra={"crashes": crashes, "message_id": message_id(raw)})
        self._write({"sha256": digest, "tries": crashes + 1})
        return crashes

    def end(self) -> None:
        """The message in hand finished (whatever its outcome)."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _write(self, entry: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        # No fsync: the journal is for a process that dies, whose writes the system keeps; a
        # machine that goes down loses at most one count.
        temporary.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(temporary, self.path)


def message_id(raw: bytes) -> str | None:
    """The Message-ID, read without the email parser: it may be what kills the worker."""
    found = _MESSAGE_ID.search(_headers(raw))
    return found.group(1).decode("ascii", "replace") if found else None


def from_header(raw: bytes) -> str:
    """The first line of the From header, read without the email parser, for an admin to see."""
    found = _FROM.search(_headers(raw))
    return found.group(1).decode("utf-8", "replace") if found else ""


def _headers(raw: bytes) -> bytes:
    return raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
