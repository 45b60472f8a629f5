"""The read-only admin dashboard: `refbot web`."""

from __future__ import annotations

import os
import signal
import threading

import click

from bot import logs
from bot.cli.base import Context, cli, pass_ctx


@cli.command()
@click.option("--host", metavar="H", help="Listen on this address (default: web.listen_host).")
@click.option("--port", metavar="P", type=click.IntRange(0, 65535), help="Listen on this port (default: web.listen_port).")
@pass_ctx
def web(ctx: Context, host: str | None, port: int | None) -> None:
    """Serve the read-only admin dashboard until SIGTERM or SIGINT."""
    from bot.web.server import WebServer

    config = ctx.config
    logs.setup(os.environ.get("REFBOT_LOG_LEVEL") or config.logging.level, fmt=config.logging.format,
               tz=config.bot.timezone)
    server = WebServer(config, ctx.reader.engine, host=host, port=port)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"refbot dashboard on {server.url} (Ctrl-C stops it)", err=True)
    server.start()
    stop.wait()
    server.stop()
