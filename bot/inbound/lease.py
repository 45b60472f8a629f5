"""One reader per IMAP folder: workers that share a mailbox take turns by a lease, so that no
two fetch the same message or fight over moving it. The lease ends with its holder, even one
that is killed: on PostgreSQL it is a session advisory lock on a connection kept for it, on
SQLite an exclusive lock on a file beside the database. The other workers send mail and sweep
deadlines meanwhile, and try again now and then.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


class FolderLease:
    def __init__(self, engine: Engine, folder: str) -> None:
        self.engine = engine
        self.folder = folder
        digest = hashlib.sha256(f"refbot imap {folder}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)  # an advisory lock's bigint
        self._connection: Connection | None = None
        self._file = None

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; whether this worker holds it now."""
        if self.held():
            return True
        if self.engine.dialect.name == "postgresql":
            return self._acquire_advisory_lock()
        return self._acquire_file_lock()

    def held(self) -> bool:
        if self._file is not None:
            return True
        if self._connection is None:
            return False
        try:  # the lock lives as long as its connection; a database restart ends both
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except SQLAlchemyError:
            self.release()
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()  # detached from the pool: closing ends the session and its lock
            except SQLAlchemyError:
                pass
            self._connection = None
        if self._file is not None:
            self._file.close()  # closing the file releases its lock
            self._file = None

    def _acquire_advisory_lock(self) -> bool:
        connection = self.engine.connect()
        connection.detach()  # its own session, never handed to another part of the worker
        try:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
            connection.commit()
        except SQLAlchemyError:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        log.info("imap lease taken", extra={"folder": self.folder})
        return True

    def _acquire_file_lock(self) -> bool:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return True  # a private database: no other worker can share it
        handle = open(Path(database).with_suffix(".imap-lease"), "a")  # noqa: SIM115 - held open on purpose
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        log.info("imap lease taken", extra={"folder": self.folder})
        return True
