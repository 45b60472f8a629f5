"""sweep: the scheduler's deadline sweep over ever larger tables, with nothing due (the time must
not grow with the table) and with 1,000 referrals past their deadline (each timed out, its
notices rendered and queued). No floor: the targets are absolute; the ratio of a "none due" line
is its time against the smallest table's, of the "due" line its time against the budget."""

from __future__ import annotations

import sqlite3
import statistics
import time

from bench import seed
from bench.report import Figure, ms
from bench.site import Site
from bot.clock import utcnow

NONE_DUE = 0.020  # seconds, at every size
DUE_BUDGET = 2.0
RUNS = 9


def timed_sweep(site: Site, now) -> tuple[float, object]:
    from bot import scheduler

    app = site.app()
    try:
        start = time.perf_counter()
        done = scheduler.sweep(app.engine, app.mailer, app.config, now=now)
        return time.perf_counter() - start, done
    finally:
        app.close()


def run(sizes: tuple[int, ...], due: int) -> list[Figure]:
    figures = []
    with Site("sweep") as site:
        now, made, smallest = utcnow(), 0, None
        for size in sizes:
            seed.referrals(site, size - made, now=now, start=made)
            made = size
            with sqlite3.connect(site.sqlite_path) as db:  # as after a while of work: the planner knows the table
                db.execute("ANALYZE")
            times = sorted(timed_sweep(site, now)[0] for _ in range(RUNS))
            median = statistics.median(times)
            smallest = smallest or median
            figures.append(Figure("sweep", f"none due, {size:,} referrals", ms(median), ms(smallest),
                                  median / smallest, f"<= {NONE_DUE * 1000:.0f} ms", median <= NONE_DUE))
        with sqlite3.connect(site.sqlite_path) as db:
            db.execute("UPDATE referral SET deadline_at = ? WHERE id IN (SELECT id FROM referral ORDER BY id LIMIT ?)",
                       (seed.stamp(now.replace(year=now.year - 1)), due))
        seconds, done = timed_sweep(site, now)
        if len(done.timed_out) != due:
            raise RuntimeError(f"the sweep timed out {len(done.timed_out)} of {due} due")
        queued = sqlite3.connect(site.sqlite_path).execute("SELECT count(*) FROM outbox").fetchone()[0]
    figures.append(Figure("sweep", f"{due:,} due of {made:,}, {queued:,} queued", ms(seconds), "-",
                          seconds / DUE_BUDGET, f"<= {DUE_BUDGET:.0f} s", seconds <= DUE_BUDGET))
    return figures
