"""What every command shares: the `refbot` group, the lazily opened app, JSON or human output."""

from __future__ import annotations

import json

import click

from bot import config as config_module
from bot.app import App


def emit(data, as_json: bool, human) -> None:
    """One JSON document on stdout with ``--json``, else the human rendering."""
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        human(data)


class Context:
    """The config path, loaded lazily: `init` must work before a config exists."""

    def __init__(self, path: str | None) -> None:
        self.path = config_module.resolve_path(path)
        self._app: App | None = None

    @property
    def config(self) -> config_module.Config:
        return self.app.config if self._app else config_module.load(self.path)

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = App.open(config_module.load(self.path))
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", help="Config file (default: $REFBOT_CONFIG or ./config.toml).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """refbot: an email-first referral bot."""
    ctx.obj = Context(config_path)
    ctx.call_on_close(ctx.obj.close)
