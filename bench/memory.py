"""memory: the peak resident memory of `refbot inbox poll` over a small and a ten times larger
inbox: it must stay under a fixed budget, and not grow with the number of messages."""

from __future__ import annotations

import os
import subprocess
import time

from bench import inbound, seed
from bench.report import Figure
from bench.site import Site

BUDGET_MB = 200
GROWTH = 1.2


def peak(site: Site, count: int) -> float:
    """Megabytes: the largest resident set of one `refbot inbox poll` over ``count`` replies."""
    messages = inbound.prepare(site, count)
    seed.append(site, "INBOX", messages)
    process = subprocess.Popen(site.refbot_command("inbox", "poll"), env=site.env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    started = time.monotonic()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"inbox poll exited {process.returncode}: {process.stderr.read()[-2000:]!r}")
    process.stderr.close()
    if seed.count(site, "INBOX"):
        raise RuntimeError(f"inbox poll left mail in the inbox after {time.monotonic() - started:.0f} s")
    return usage.ru_maxrss / 1024  # Linux: kilobytes


def run(small: int, large: int) -> list[Figure]:
    figures = []
    with Site("memory-small", imap=True) as site:
        low = peak(site, small)
    with Site("memory-large", imap=True) as site:
        high = peak(site, large)
    figures.append(Figure("memory", f"inbox poll peak RSS, {small} replies", f"{low:,.0f} MB", "-", low / BUDGET_MB,
                          f"<= {BUDGET_MB} MB", low <= BUDGET_MB))
    figures.append(Figure("memory", f"inbox poll peak RSS, {large} replies", f"{high:,.0f} MB", f"{low:,.0f} MB",
                          high / low, f"<= {GROWTH} x", high <= BUDGET_MB and high <= GROWTH * low))
    return figures
