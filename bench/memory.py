"""memory: the peak resident memory of `refbot inbox poll` over a small and a ten times larger
inbox: it must stay under a fixed budget, and not grow with the number of messages."""

from __future__ import annotations

import subprocess
import time

from bench import inbound, seed
from bench.report import Figure
from bench.site import Site

BUDGET_MB = 200
GROWTH = 1.2
POLL_SECONDS = 0.02


def peak(site: Site, count: int) -> float:
    """Megabytes: the largest resident set of one `refbot inbox poll` over ``count`` replies."""
    messages = inbound.prepare(site, count)
    seed.append(site, "INBOX", messages)
    log = site.folder / "poll.stderr"  # a file: a pipe nobody reads could fill and stop it
    with open(log, "wb") as stderr:
        process = subprocess.Popen(site.refbot_command("inbox", "poll"), env=site.env, stdout=subprocess.DEVNULL,
                                   stderr=stderr)
    # The kernel's high-water mark of the process's own memory, read until it ends: the rusage
    # of a child counts the memory of the process that forked it, this one, at the fork.
    highest = 0
    while process.poll() is None:
        highest = max(highest, high_water_kb(process.pid))
        time.sleep(POLL_SECONDS)
    if process.returncode:
        raise RuntimeError(f"inbox poll exited {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
    if seed.count(site, "INBOX"):
        raise RuntimeError("inbox poll left mail in the inbox")
    return highest / 1024


def high_water_kb(pid: int) -> int:
    """VmHWM of ``pid`` in kilobytes; 0 once it has ended."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


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
