"""cli: the wall time of `refbot referrals show ID` on a large database, against
`python -c "import sqlmodel"` (starting Python and importing the ORM is the least any command
pays)."""

from __future__ import annotations

import statistics
import sys

from bench import seed
from bench.report import Figure, ms
from bench.site import Site
from bot.clock import utcnow

TARGET = 1.25
RUNS = 7


def run(size: int) -> list[Figure]:
    with Site("cli") as site:
        made = seed.referrals(site, size, now=utcnow())
        shown = made[size // 2].id
        site.refbot("referrals", "show", shown)  # warm the file cache for both
        floors, times = [], []
        for _ in range(RUNS):  # interleaved, so that a noisy moment hurts both alike
            floors.append(site.run([sys.executable, "-c", "import sqlmodel"])[0])
            seconds, out = site.refbot("referrals", "show", shown)
            if shown not in out:
                raise RuntimeError(f"referrals show {shown} did not show it: {out[:200]}")
            times.append(seconds)
    floor, median = statistics.median(floors), statistics.median(times)
    ratio = median / floor
    return [Figure("cli", f"referrals show, {size} referrals", ms(median), ms(floor), ratio, f"<= {TARGET:.2f}",
                   ratio <= TARGET)]
