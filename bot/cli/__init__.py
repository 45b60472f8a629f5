"""The refbot command line: parse, call, print. Exit 0 on success, 1 on a runtime failure,
2 on bad input, with a one-line reason on stderr; ``--json`` prints one document on stdout.
"""

from __future__ import annotations

import logging
import os
import sys

import click

from bot import logs
from bot.cli.base import cli
from bot.errors import BadInput, RefbotError

log = logging.getLogger("bot.cli")


def main(argv: list[str] | None = None) -> int:
    logs.setup(os.environ.get("REFBOT_LOG_LEVEL", "WARNING"))
    try:
        cli.main(args=argv, prog_name="refbot", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        return fail("aborted", 1)
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        return fail(f"error: {exc.format_message()}{hint}", 2)
    except BadInput as exc:
        return fail(f"error: {exc}", 2)
    except RefbotError as exc:
        return fail(f"failed: {exc}", 1)
    except Exception as exc:  # the last guard: no traceback reaches a user
        log.exception("unexpected error")
        return fail(f"internal error: {exc.__class__.__name__}: {exc}", 1)
    return 0


def fail(message: str, status: int) -> int:
    """The one-line reason on stderr (a driver's multi-line message folded), and the exit status."""
    click.echo("refbot: " + " ".join(message.split()), err=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
