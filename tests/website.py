"""The dashboard as an admin reaches it: `refbot web` in its own process on a free port, and
plain HTTP requests to it."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.mailcatcher import free_port


@dataclass
class Reply:
    status: int
    headers: dict  # names in lower case
    body: str

    def json(self):
        return json.loads(self.body)


def get(url: str, *, user: str | None = None, password: str | None = None, method: str = "GET") -> Reply:
    request = urllib.request.Request(url, method=method)
    if user is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode())


class Site:
    """`refbot --config CONFIG web --port P`, stopped with SIGTERM as an admin's service manager would."""

    def __init__(self, config: Path, *, env: dict | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = config.parent / f"web-{self.port}.log"
        self._stderr = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "web", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=self._stderr, env={**os.environ, **(env or {})})

    def wait(self, path: str = "/healthz", *, timeout: float = 20, **auth) -> "Site":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                get(self.url + path, **auth)
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"refbot web did not answer:\n{self.log.read_text()}")

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=15)
        finally:
            self._stderr.close()
