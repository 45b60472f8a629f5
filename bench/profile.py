"""Run refbot's command of a benchmark on that benchmark's own data under a profiler:

    python -m bench.profile inbound 1000 py-spy record -r 200 -f raw -o inbound.txt --
    python -m bench.profile outbound 1000 python -m pyinstrument -r text -o outbound.txt

The site is set up as the benchmark sets it up (Dovecot with N replies waiting, or N emails
queued), then the refbot command runs with the words after N in front of it. A first word
"python" stands for the interpreter running this, and the command follows it as `-m bot ...`.
The site is removed afterwards."""

from __future__ import annotations

import subprocess
import sys
import time

from bench import inbound, outbound, seed
from bench.site import ROOT, Site


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("inbound", "outbound"):
        print(__doc__, file=sys.stderr)
        return 2
    name, count, prefix = argv[0], int(argv[1]), argv[2:]
    if prefix[:1] == ["python"]:
        prefix[0] = sys.executable
    with Site(name, imap=name == "inbound") as site:
        if name == "inbound":
            seed.append(site, "INBOX", inbound.prepare(site, count))
            command = site.refbot_command("inbox", "poll", "--json")
        else:
            outbound.queue(site, count)
            command = site.refbot_command("outbox", "flush", "--json")
        if prefix and prefix[0] == sys.executable:
            command = command[1:]  # the profiler runs the interpreter itself: `python -m PROFILER ... -m bot ...`
        started = time.perf_counter()
        done = subprocess.run(prefix + command, env=site.env, cwd=ROOT, capture_output=True, text=True, check=False)
        print(f"{name}: {count} in {time.perf_counter() - started:.1f} s, exit {done.returncode}", file=sys.stderr)
        if done.returncode:
            print(done.stderr[-3000:], file=sys.stderr)
        return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
