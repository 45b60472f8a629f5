"""What every command shares: the `refbot` group, the lazily opened app, JSON or human output."""

from __future__ import annotations

import importlib
import json
import platform
import sys
from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, TypeVar
from zoneinfo import ZoneInfo

import click

from bot import config as config_module
from bot import logs, schema
from bot.errors import BadInput

if TYPE_CHECKING:
    from bot.app import App

T = TypeVar("T")


def emit(data, as_json: bool, human) -> None:
    """One JSON document on stdout with ``--json``, else the human rendering."""
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        human(data)


class StreamedJson:
    """The document ``emit`` prints with ``--json``, ``{"KEY": [...], ...}``, byte for byte,
    with the list's items written as they come: a list as long as an inbox is never held.
    Output stops short if the command fails on the way; its exit status says so."""

    def __init__(self, key: str) -> None:
        self.count = 0
        click.echo("{\n  " + json.dumps(key) + ": [", nl=False)

    def item(self, value) -> None:
        text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        click.echo(("," if self.count else "") + "\n    " + text, nl=False)
        self.count += 1

    def end(self, rest: dict) -> None:
        """Close the list, then the other keys and the document."""
        close = "\n  ]" if self.count else "]"
        others = "".join(",\n  " + json.dumps(k) + ": " + json.dumps(v, indent=2, ensure_ascii=False).replace("\n", "\n  ")
                         for k, v in rest.items())
        click.echo(close + others + "\n}")


def parse_since(text: str | None, tz: str) -> datetime | None:
    """``--since YYYY-MM-DD``: the start of that day in the bot's time zone."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"--since: {text!r} is not a date like 2026-11-01") from None
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(timezone.utc)


def progress_bar(label: str) -> Callable[[list[T]], Iterable[T]]:
    """A wrapper for a list of work that shows a progress bar on stderr when it is a terminal
    (SPEC §7: long work shows progress); elsewhere the list passes through untouched."""

    def wrap(items: list[T]) -> Iterator[T]:
        if len(items) < 2 or not sys.stderr.isatty():
            yield from items
            return
        with click.progressbar(items, label=label, file=sys.stderr) as bar:
            yield from bar

    return wrap


class Context:
    """The config path, loaded lazily: `init` must work before a config exists."""

    def __init__(self, path: str | None) -> None:
        self.path = config_module.resolve_path(path)
        self._config: config_module.Config | None = None
        self._app: App | None = None

    @property
    def config(self) -> config_module.Config:
        if self._config is None:
            self._config = config_module.load(self.path)
            logs.setup(fmt=self._config.logging.format, tz=self._config.bot.timezone)
        return self._config

    @property
    def app(self) -> App:
        """For commands that write: a new database is made where the config says."""
        return self.open(create=True)

    @property
    def existing(self) -> App:
        """For commands that read, or change what exists: the database must exist already (a
        mistyped path is an error, not a new empty database)."""
        return self.open(create=False)

    @property
    def reader(self) -> App:
        """For commands that only read: the database must exist, and nothing in it changes."""
        return self.open(create=False, read_only=True)

    def open(self, *, create: bool, read_only: bool = False) -> App:
        if self._app is None:
            from bot.app import App

            self._app = App.open(self.config, create=create, read_only=read_only)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


pass_ctx = click.make_pass_decorator(Context)


# Each command's module, imported only when that command runs (or help lists them all): a
# command pays for importing what it uses, not what every other command uses.
COMMANDS = {"init": "configuration", "config": "configuration", "run": "daemon", "tick": "daemon", "demo": "daemon",
            "db": "database", "backup": "database", "inbox": "inbox", "outbox": "outbox", "partners": "partners",
            "preview": "preview", "referrals": "referrals", "rfi": "rfis", "stats": "stats", "web": "web"}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS and name not in self.commands:
            importlib.import_module(f"bot.cli.{COMMANDS[name]}")  # its decorators add it to this group
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="refbot", prog_name="refbot",
                      message=f"%(prog)s %(version)s (database schema {schema.HEAD}, Python {platform.python_version()})")
@click.option("--config", "config_path", metavar="PATH", help="Config file (default: $REFBOT_CONFIG or ./config.toml).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """refbot: an email-first referral bot."""
    ctx.obj = Context(config_path)
    ctx.call_on_close(ctx.obj.close)
