"""latency: `refbot run` with IDLE on Dovecot; the time from a reply's APPEND to its answer at
the sink, one reply at a time. The floor is Dovecot's own IDLE notification delay, measured by a
bare IDLE client on another folder of the same server in the same run."""

from __future__ import annotations

import signal
import statistics
import subprocess
import time

from bench import seed
from bench.report import Figure, ms
from bench.site import Site
from bot.clock import utcnow

P50_OVER = 0.2  # seconds over the floor
P95_OVER = 0.5
WAIT = 30.0  # the longest an answer may take before the run counts as broken


def quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def idle_floor(site: Site, samples: int) -> list[float]:
    """How long Dovecot takes to tell an IDLE client of an APPEND from another connection."""
    delays = []
    with site.dovecot.client() as watcher, site.dovecot.client() as writer:
        watcher.create_folder("Floor")
        watcher.select_folder("Floor")
        for n in range(samples):
            watcher.idle()
            start = time.monotonic()
            writer.append("Floor", b"Subject: floor %d\r\n\r\nfloor\r\n" % n)
            while not any(b"EXISTS" in response for response in watcher.idle_check(timeout=WAIT)):
                pass
            delays.append(time.monotonic() - start)
            watcher.idle_done()
    return delays


def replies(site: Site, count: int) -> list[float]:
    """`refbot run` answers each reply in turn: APPEND to the answer's arrival, per reply."""
    made = seed.referrals(site, count + 1, now=utcnow())
    daemon = subprocess.Popen(site.refbot_command("run"), env=site.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    delays = []
    try:
        with site.dovecot.client() as writer:
            for n, referral in enumerate(made):
                message_id, raw = seed.reply(referral, "INTERESTED", n=n)
                start = time.monotonic()
                writer.append("INBOX", raw)
                arrived = site.sink.counter.wait_reply(message_id, WAIT)
                if arrived is None:
                    raise RuntimeError(f"no answer to reply {n} within {WAIT:.0f} s")
                if n:  # the first waits for the daemon to start
                    delays.append(arrived - start)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, errors = daemon.communicate(timeout=30)
        if daemon.returncode:
            raise RuntimeError(f"refbot run exited {daemon.returncode}: {errors[-2000:]!r}")
    return delays


def run(size: int) -> list[Figure]:
    with Site("latency", imap=True) as site:
        floor = statistics.median(idle_floor(site, min(size, 30)))
        delays = replies(site, size)
    p50, p95 = statistics.median(delays), quantile(delays, 0.95)
    return [Figure("latency", f"run: APPEND to answer p50, {size}", ms(p50), ms(floor), p50 / floor,
                   f"<= floor+{P50_OVER} s", p50 <= floor + P50_OVER),
            Figure("latency", f"run: APPEND to answer p95, {size}", ms(p95), ms(floor), p95 / floor,
                   f"<= floor+{P95_OVER} s", p95 <= floor + P95_OVER)]
