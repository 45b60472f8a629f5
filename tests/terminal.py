"""Running refbot with its stderr on a real pseudo-terminal, as an admin at a shell sees it."""

from __future__ import annotations

import os
import pty
import subprocess


def run_in_terminal(command: list[str], *, env: dict, timeout: float = 120) -> tuple[int, str, str]:
    """Exit status, stdout (a pipe) and what appeared on the terminal (stderr)."""
    leader, follower = pty.openpty()
    with os.fdopen(leader, "rb", buffering=0) as terminal:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, env=env)
        os.close(follower)
        seen = b""
        try:
            while chunk := terminal.read(4096):
                seen += chunk
        except OSError:  # the terminal's other end closed: everything was read
            pass
        out, _ = process.communicate(timeout=timeout)
    return process.returncode, out.decode(), seen.decode(errors="replace")
