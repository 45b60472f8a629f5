"""python -m bench.render [N] [--profile]: the CPU time of rendering one email with
`Renderer.render`, for the emails the sweep and `rfi submit` send most (partner/new_referral,
partner/missed, customer/redirect), in English and German by turns, on the samples' data.

Not one of `python -m bench`'s figures (it has no target and no floor): a micro-benchmark for
work on the templates and the renderer. `--profile` prints cProfile's top functions instead."""

from __future__ import annotations

import cProfile
import pstats
import sys
import time

from bot.outbound.render import Renderer
from bot.outbound.samples import SAMPLE_NOW, SAMPLE_REPLY_TO, sample_context

NAMES = ("partner/new_referral", "partner/missed", "customer/redirect")


def render(renderer: Renderer, name: str, count: int) -> float:
    """Seconds of CPU for ``count`` renders of ``name``."""
    context = sample_context(name)
    started = time.process_time()
    for n in range(count):
        renderer.render(name, locale="de" if n % 2 else "en", now=SAMPLE_NOW, reply_to=SAMPLE_REPLY_TO, **context)
    return time.process_time() - started


def main(argv: list[str]) -> None:
    count = int(next((a for a in argv if a.isdigit()), "200"))
    renderer = Renderer()
    for name in NAMES:  # the first render of a language compiles its templates: not timed
        render(renderer, name, 2)
    if "--profile" in argv:
        profile = cProfile.Profile()
        profile.runcall(lambda: [render(renderer, name, count) for name in NAMES])
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)
        return
    for name in NAMES:
        best = min(render(renderer, name, count) for _ in range(5))  # the least disturbed of five
        print(f"{name:<24} {best / count * 1e6:6.0f} µs per email (CPU, best of 5 x {count})")


if __name__ == "__main__":
    main(sys.argv[1:])
