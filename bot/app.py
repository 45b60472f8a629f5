"""What every command needs, opened once: the config, the database, the mailer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy.engine import Engine

from bot import tokens
from bot.config import Config, secret_from_env
from bot.db import open_database
from bot.outbound import outbox
from bot.outbound.mailer import Mailer
from bot.outbound.transports import Transport, make_transport


@dataclass
class App:
    config: Config
    engine: Engine
    mailer: Mailer

    @classmethod
    def open(cls, config: Config, *, create: bool = True, read_only: bool = False) -> "App":
        """Everything on the configured database; without ``create`` it must exist already, and
        ``read_only`` changes nothing in it (see ``open_database``)."""
        engine = open_database(config, create=create, read_only=read_only)
        secret = tokens.load_secret(env_value=secret_from_env(config.bot.secret_env), data_dir=config.data_dir)
        return cls(config, engine, Mailer(config, secret=secret))

    def transport(self) -> Transport:
        return make_transport(self.config)

    def send(self, *, now: datetime, force: bool = False, only: int | None = None,
             progress: outbox.Progress = lambda items: items,
             stopping: Callable[[], bool] = lambda: False) -> outbox.Delivery:
        """Deliver what the outbox holds that is due (everything with ``force``)."""
        smtp = self.config.smtp
        return outbox.deliver(self.engine, self.transport(), sender=smtp.from_address, now=now,
                              max_attempts=smtp.max_attempts, retry_seconds=smtp.retry_seconds,
                              force=force, only=only, progress=progress, stopping=stopping)

    def close(self) -> None:
        self.engine.dispose()
