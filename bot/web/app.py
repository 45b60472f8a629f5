"""The read-only admin dashboard (SPEC §8): a Flask application over a reading engine.

Flask, because the daemon is threaded and synchronous: a WSGI application served by
waitress's thread pool sits beside the IMAP loop, the scheduler and the outbox sender in the
same process, with the same Jinja2 the emails use and no event loop to share. Every page is a
GET that reads; the engine is one that never takes a write lock (``bot.db.reading``).

With ``web.password_env`` set every page asks for HTTP basic auth (user ``admin``), except
``/healthz``, which says no more than whether the database answers.
"""

from __future__ import annotations

import hmac
import os
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

from flask import Flask, Response, request
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot import lifecycle
from bot.clock import local_time, utcnow
from bot.config import Config
from bot.db import transaction
from bot.errors import ConfigError
from bot.outbound.render import format_money
from bot.web import pages

# Nothing is fetched from anywhere: no script, no font, no image but inline SVG and data: URLs.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'"
OPEN_PATHS = ("/healthz",)


def create_app(config: Config, engine: Engine) -> Flask:
    password = _password(config)
    app = Flask("bot.web")
    app.extensions["refbot"] = Dashboard(config, engine)
    app.jinja_env.filters.update(local=lambda moment: local_time(moment, config.bot.timezone) if moment else "—",
                                 money=lambda value, currency: format_money(value, currency, "en"),
                                 percent=lambda share: "—" if share is None else f"{share:.0%}")
    app.jinja_env.globals.update(states=lifecycle.NAMES, bot_name=config.bot.name)
    app.register_blueprint(pages.blueprint)

    @app.before_request
    def _authenticate():
        if password is None or request.path in OPEN_PATHS:
            return None
        given = request.authorization
        if given and given.type == "basic" and hmac.compare_digest(given.username or "", "admin") and \
                hmac.compare_digest((given.password or "").encode(), password.encode()):
            return None
        return Response("refbot dashboard: sign in as admin\n", 401, {"WWW-Authenticate": 'Basic realm="refbot"'})

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"  # pages hold customer data
        return response

    @app.errorhandler(SQLAlchemyError)
    def _database_down(exc: SQLAlchemyError):
        return Response(f"refbot dashboard: the database is unavailable ({exc.__class__.__name__})\n", 503,
                        {"Content-Type": "text/plain; charset=utf-8"})

    return app


class Dashboard:
    """What every page needs: the config, the engine, and the time."""

    def __init__(self, config: Config, engine: Engine) -> None:
        self.config, self.engine = config, engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        with transaction(self.engine) as session:
            yield session

    def database_ok(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    @staticmethod
    def now() -> datetime:
        return utcnow()


def _password(config: Config) -> str | None:
    variable = config.web.password_env
    if not variable:
        return None
    password = os.environ.get(variable)
    if not password:
        raise ConfigError(f"web.password_env: the variable {variable} is not set; the dashboard does not start "
                          "without its password")
    return password
