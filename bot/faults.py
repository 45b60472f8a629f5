"""Named points where a test may kill the worker for real (SIGKILL, no goodbye), chosen by the
environment: ``REFBOT_CRASH_AT=after-commit`` (a message's change is committed, the message
is still in the inbox), ``after-send`` (the mail server accepted an email, the outbox does not
know yet) or ``processing`` (in the middle of a message's transaction). With
``REFBOT_CRASH_IF=<text>`` only a message whose bytes hold that text crashes the worker.

Unset, each point is a dictionary lookup: nothing else happens.
"""

from __future__ import annotations

import os
import signal

POINTS = ("after-commit", "after-send", "processing")


def crash_at(point: str, data: bytes = b"") -> None:
    """Kill this process here when the environment names ``point``."""
    if os.environ.get("REFBOT_CRASH_AT") != point:
        return
    only = os.environ.get("REFBOT_CRASH_IF")
    if only and only.encode() not in data:
        return
    os.kill(os.getpid(), signal.SIGKILL)
