"""What every command needs, opened once: the config, the database, the mailer.

The mailer (templates, catalogs) and the outbox sender are imported when first used: a command
that only reads pays for neither."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from sqlalchemy.engine import Engine

from bot import tokens
from bot.config import Config, secret_from_env
from bot.db import open_database

if TYPE_CHECKING:
    from bot.outbound import outbox
    from bot.outbound.mailer import Mailer
    from bot.outbound.transports import Transport


@dataclass
class App:
    config: Config
    engine: Engine
    secret: bytes
    _mailer: Mailer | None = field(default=None, repr=False)

    @classmethod
    def open(cls, config: Config, *, create: bool = True, read_only: bool = False) -> App:
        """Everything on the configured database; without ``create`` it must exist already, and
        ``read_only`` changes nothing in it (see ``open_database``)."""
        engine = open_database(config, create=create, read_only=read_only)
        secret = tokens.load_secret(env_value=secret_from_env(config.bot.secret_env), data_dir=config.data_dir)
        return cls(config, engine, secret)

    @property
    def mailer(self) -> Mailer:
        if self._mailer is None:
            from bot.outbound.mailer import Mailer

            self._mailer = Mailer(self.config, secret=self.secret)
        return self._mailer

    @mailer.setter
    def mailer(self, mailer: Mailer) -> None:
        self._mailer = mailer

    def transport(self) -> Transport:
        from bot.outbound.transports import make_transport

        return make_transport(self.config)

    def send(self, *, now: datetime, force: bool = False, only: int | None = None,
             progress: outbox.Progress = lambda items: items,
             stopping: Callable[[], bool] = lambda: False) -> outbox.Delivery:
        """Deliver what the outbox holds that is due (everything with ``force``)."""
        from bot.outbound import outbox

        smtp = self.config.smtp
        return outbox.deliver(self.engine, self.transport(), sender=smtp.from_address, now=now,
                              max_attempts=smtp.max_attempts, retry_seconds=smtp.retry_seconds,
                              force=force, only=only, progress=progress, stopping=stopping)

    def close(self) -> None:
        self.engine.dispose()
