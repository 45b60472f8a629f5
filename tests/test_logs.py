"""Logs (SPEC §6 `[logging] format = "auto"`): readable lines on a terminal, JSON lines
otherwise; each record once; nothing secret or personal."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from tests.conftest import RFI
from tests.terminal import run_in_terminal


@pytest.fixture(autouse=True)
def root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def record(stream: io.StringIO, fmt: str = "auto") -> str:
    from bot import logs

    logs.setup("INFO", fmt=fmt, tz="Europe/Berlin", stream=stream)
    logs.setup("INFO", fmt=fmt, tz="Europe/Berlin", stream=stream)  # set up twice: still one handler
    logging.getLogger("bot.test").info("reply applied", extra={"referral": "R-7K3Q9", "detail": "now won",
                                                               "email": "erika@example.org"})
    return stream.getvalue()


def test_a_terminal_gets_one_readable_line_per_record():
    (line,) = record(Terminal()).splitlines()
    assert line.endswith(' INFO    reply applied  referral=R-7K3Q9 detail="now won" email=[redacted]')
    assert line[:4].isdigit() and "{" not in line


def test_a_file_or_pipe_gets_json_lines():
    (line,) = record(io.StringIO()).splitlines()
    entry = json.loads(line)
    assert (entry["event"], entry["referral"], entry["email"], entry["level"]) == (
        "reply applied", "R-7K3Q9", "[redacted]", "info")


def test_the_format_can_be_chosen():
    assert record(Terminal(), fmt="json").startswith("{")
    assert not record(io.StringIO(), fmt="text").startswith("{")


def test_refbot_logs_text_in_a_terminal_and_json_into_a_pipe(refbot, smtp_server):
    path = refbot.config.parent / "rfi.json"
    path.write_text(json.dumps(RFI), encoding="utf-8")
    command = [sys.executable, "-m", "bot", "--config", str(refbot.config), "rfi", "submit", str(path)]
    env = {**os.environ, "REFBOT_LOG_LEVEL": "INFO"}
    code, _, seen = run_in_terminal(command, env=env)
    assert code == 0
    lines = seen.splitlines()
    assert any(" INFO    rfi routed  rfi=RFI-2026-0001 referrals=" in line for line in lines), lines
    assert not any(line.startswith("{") for line in lines)
    assert "erika@example.org" not in seen

    path.write_text(json.dumps({**RFI, "rfi_id": "RFI-2026-0002"}), encoding="utf-8")
    piped = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert piped.returncode == 0
    events = [json.loads(line)["event"] for line in piped.stderr.splitlines()]
    assert "rfi routed" in events
