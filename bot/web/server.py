"""Serving the dashboard: waitress, a production WSGI server of plain threads, in a thread of
its own beside the daemon's work (`refbot run` with ``[web] enabled``) or alone (`refbot web`)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine
from waitress.server import create_server

from bot.config import Config
from bot.errors import RefbotError
from bot.web.app import create_app

log = logging.getLogger(__name__)
THREADS = 4


class WebServer:
    def __init__(self, config: Config, engine: Engine, *, host: str | None = None, port: int | None = None) -> None:
        application = create_app(config, engine)
        host = host or config.web.listen_host
        port = config.web.listen_port if port is None else port
        try:
            self.server = create_server(application, host=host, port=port, threads=THREADS, ident="refbot")
        except OSError as exc:
            raise RefbotError(f"web: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.url = f"http://{host}:{self.server.effective_port}/"
        self._thread: threading.Thread | None = None

    def start(self) -> "WebServer":
        self._thread = threading.Thread(target=self.serve, name="refbot-web", daemon=True)
        self._thread.start()
        return self

    def serve(self) -> None:
        """Serve until ``stop``."""
        log.info("dashboard listening", extra={"url": self.url})
        self.server.run()

    def stop(self) -> None:
        self.server.close()
        if self._thread is not None:
            self._thread.join(timeout=10)
