"""``python -m benchmarks [-k NAME] [-o FILE] [--list] [--strict]``.

Runs every ``benchmarks/bench_*.py`` module, prints a table (name, value,
unit, target, ok) and writes ``benchmarks/results.json``.  Exit status: 0 when
everything ran (a missed target is reported, not fatal, unless ``--strict``),
1 when a benchmark raised or (with ``--strict``) missed its target.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .harness import BENCH_DIR, discover, format_table, run, write_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="name_filter", metavar="NAME",
                        help="run only benchmarks whose module.function contains NAME")
    parser.add_argument("-o", "--output", type=Path, default=BENCH_DIR / "results.json",
                        help="where to write the JSON results (default: %(default)s)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder holding bench_*.py modules (default: this package)")
    parser.add_argument("--list", action="store_true", help="list benchmark modules and exit")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when a target is missed")
    args = parser.parse_args(argv)

    paths = discover(args.dir)
    if args.list:
        for path in paths:
            print(path.stem)
        return 0
    results = run(paths, args.name_filter,
                  progress=lambda name: print(f"running {name} ...", file=sys.stderr,
                                              flush=True))
    print(format_table(results["rows"]))
    machine = results["machine"]
    print(f"\n{len(results['rows'])} rows from {len(results['benchmarks'])} benchmarks in "
          f"{results['total_seconds']:.1f} s on {machine['usable_cpus']} CPUs, "
          f"Python {machine['python']}")
    out = write_results(results, args.output)
    print(f"wrote {out}")
    if results["errors"]:
        return 1
    if args.strict and not results["ok"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
