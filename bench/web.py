"""web: the median time of the dashboard's busiest pages on a large program, against the same
pages on a program of 1,000 referrals in the same run: time must not grow with the table."""

from __future__ import annotations

import sqlite3
import statistics
import time

from bench import seed
from bench.report import Figure, ms
from bench.site import Site
from bot.clock import utcnow

PAGES = ("/", "/referrals", "/metrics")
SMALL = 1_000
TARGET = 1.5
RUNS = 15


def states(n: int) -> str:
    return ("new", "evaluating", "negotiating", "won", "lost", "declined", "missed", "skipped")[n % 8]


def timings(site: Site, size: int) -> dict[str, float]:
    """The median time of each page, served by the dashboard's Flask app in this process."""
    from bot import config as config_module
    from bot import tally
    from bot.db import connect, reading
    from bot.web.app import create_app

    seed.referrals(site, size, now=utcnow(), status=states)
    engine = connect(site.database)
    with engine.begin() as connection:  # the seed wrote behind refbot's back: count as the migration does
        tally.rebuild(connection)
    with sqlite3.connect(site.sqlite_path) as db:
        db.execute("ANALYZE")
    try:
        client = create_app(config_module.load(site.config_path), reading(engine)).test_client()
        medians = {}
        for page in PAGES:
            client.get(page)  # the first request pays for compiling its templates
            times = []
            for _ in range(RUNS):
                start = time.perf_counter()
                answer = client.get(page)
                times.append(time.perf_counter() - start)
                if answer.status_code != 200:
                    raise RuntimeError(f"{page} answered {answer.status_code}")
            medians[page] = statistics.median(times)
        return medians
    finally:
        engine.dispose()


def run(size: int) -> list[Figure]:
    with Site("web-small") as site:
        small = timings(site, SMALL)
    with Site("web-large") as site:
        large = timings(site, size)
    return [Figure("web", f"{page} on {size:,} referrals", ms(large[page]), ms(small[page]), large[page] / small[page],
                   f"<= {TARGET} x", large[page] <= TARGET * small[page]) for page in PAGES]
