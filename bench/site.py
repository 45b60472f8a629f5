"""A refbot site for one benchmark: a temporary folder with its config and SQLite database,
the servers it talks to, and refbot run as a separate process, as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench.sink import Sink
from tests.dovecot_server import DovecotServer, free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-not-for-production"
CONTACT = "leads@contoso.example"
PROFILE_KEY = "contoso/UK/*"
PARTNERS = """
[[partners]]
id = "contoso"
name = "Contoso Ltd"

  [[partners.profiles]]
  region = "UK"
  contact = "leads@contoso.example"
  locale = "en"
  currency = "EUR"
"""


class Site:
    """``imap``: start a Dovecot and point [inbound] at it. ``database``: a SQLAlchemy URL
    (default: SQLite in the folder)."""

    def __init__(self, name: str, *, imap: bool = False, database: str | None = None, idle: bool = True) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=f"refbot-bench-{name}-"))
        self.sink = Sink(free_port()).start()
        self.dovecot = DovecotServer(self.folder / "imap").start() if imap else None
        self.database = database or f"sqlite:///{self.folder / 'refbot.db'}"
        self.config_path = self.folder / "config.toml"
        self.config_path.write_text(self._config(idle), encoding="utf-8")

    def _config(self, idle: bool) -> str:
        text = textwrap.dedent(f"""
            [bot]
            name = "Contoso Referrals"
            timezone = "Europe/Berlin"
            secret_env = "REFBOT_BENCH_SECRET"

            [database]
            url = "{self.database}"

            [smtp]
            transport = "smtp"
            host = "127.0.0.1"
            port = {self.sink.port}
            security = "none"
            from_address = "referrals@example.com"
            reply_address = "referrals+{{token}}@example.com"

            [timeouts]
            undo_minutes = 0

            [logging]
            level = "warning"

            [customer_notices]
            enabled = true
            """)
        if self.dovecot:
            text += textwrap.dedent(f"""
                [inbound]
                transport = "imap"
                host = "127.0.0.1"
                port = {self.dovecot.port}
                security = "none"
                username = "{self.dovecot.user}"
                password_env = "REFBOT_BENCH_IMAP_PASSWORD"
                idle = {str(idle).lower()}
                poll_seconds = 1
                """)
        return text + PARTNERS

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ, REFBOT_BENCH_SECRET=SECRET, REFBOT_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
        if self.dovecot:
            env["REFBOT_BENCH_IMAP_PASSWORD"] = self.dovecot.password
        return env

    def refbot_command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bot", "--config", str(self.config_path), *args]

    def refbot(self, *args: str, timeout: float = 3600) -> tuple[float, str]:
        """Run ``refbot ARGS`` to its end; its wall time and stdout (it must succeed)."""
        return self.run(self.refbot_command(*args), timeout=timeout)

    def run(self, command: list[str], *, timeout: float = 3600, stdin: str | None = None) -> tuple[float, str]:
        start = time.perf_counter()
        done = subprocess.run(command, check=False, capture_output=True, text=True, env=self.env, cwd=ROOT, timeout=timeout,
                              input=stdin)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[2:])} exited {done.returncode}: {done.stderr[-2000:]}")
        return elapsed, done.stdout

    def floor(self, name: str, **arguments) -> tuple[float, str]:
        """Run a floor script of ``bench.floors`` as its own process; its wall time."""
        return self.run([sys.executable, "-m", "bench.floors", name, json.dumps(arguments)])

    def app(self):
        """The site's refbot App, in this process (for seeding)."""
        os.environ["REFBOT_BENCH_SECRET"] = SECRET
        from bot import config as config_module
        from bot.app import App

        return App.open(config_module.load(self.config_path))

    @property
    def sqlite_path(self) -> str:
        return self.database.removeprefix("sqlite:///")

    def close(self) -> None:
        self.sink.stop()
        if self.dovecot:
            self.dovecot.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
