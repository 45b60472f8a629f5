"""python -m bench [--quick] [NAME...]: run the benchmarks (all of them without NAME) and print
one line per figure."""

from __future__ import annotations

import argparse
import compileall
import importlib
import sys
import time
import traceback

from bench.site import ROOT

# benchmark -> (quick, middle, full): the arguments of the run() of the module of that name
SIZES = {
    "inbound": (150, 1_000, 5_000),
    "latency": (10, 100, 200),
    "outbound": (300, 2_000, 5_000),
    "sweep": (((1_000, 10_000), 100), ((10_000, 100_000, 1_000_000), 1_000), ((10_000, 100_000, 1_000_000), 1_000)),
    "intake": (300, 2_000, 10_000),
    "memory": ((100, 500), (500, 5_000), (5_000, 50_000)),
    "cli": (2_000, 100_000, 100_000),
    "web": (5_000, 100_000, 100_000),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="small sizes, under two minutes in all (for CI)")
    sizes.add_argument("--middle", action="store_true", help="sizes between: about a quarter of an hour")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"of {', '.join(SIZES)} (default: all)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in SIZES]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; there are {', '.join(SIZES)}")
    # refbot's processes start from bytecode, as an installed refbot does (pip compiles it, as it
    # compiled the floors' sqlmodel and imapclient): where PYTHONDONTWRITEBYTECODE is set, refbot
    # run from its source tree would otherwise compile its modules again in every process.
    compileall.compile_dir(ROOT / "bot", quiet=1)
    failed = False
    started = time.monotonic()
    for name in args.names or SIZES:
        size = SIZES[name][0 if args.quick else 1 if args.middle else 2]
        try:
            arguments = size if isinstance(size, tuple) else (size,)
            figures = importlib.import_module(f"bench.{name}").run(*arguments)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            traceback.print_exc()
            print(f"{name:<9} FAILED", flush=True)
            failed = True
            continue
        for figure in figures:
            print(figure.line(), flush=True)
    print(f"({time.monotonic() - started:.0f} s)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
