"""``python -m benchmarks [-k NAME] [-o FILE] [--list] [--strict] [--show [--markdown]]``.

Runs every ``benchmarks/bench_*.py`` module, prints a table (name, value,
unit, target, ok) and writes ``benchmarks/results.json``.  Exit status: 0 when
everything ran (a missed target is reported, not fatal, unless ``--strict``),
1 when a benchmark raised or (with ``--strict``) missed its target.
``--show`` prints the table of an existing results file without running
anything (``--markdown`` for the README).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import json

from .harness import BENCH_DIR, discover, format_markdown, format_table, run, write_results


def baseline_line(results: dict) -> str:
    """The machine's baseline of the run, printed under every table."""
    base = results.get("baseline_ms")
    shown = "not measured" if base is None else f"{base:.4g} ms"
    return (f"\nmachine baseline (naive one-line-plot widget redraw, median, this run): {shown}"
            "; 'x base' = value / baseline")


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
    parser.add_argument("--show", action="store_true",
                        help="print the table of the results file (-o) without running")
    parser.add_argument("--markdown", action="store_true",
                        help="print the table as markdown")
    args = parser.parse_args(argv)
    fmt = format_markdown if args.markdown else format_table

    if args.show:
        results = json.loads(args.output.read_text(encoding="utf-8"))
        print(fmt(results["rows"]))
        print(baseline_line(results))
        machine = results.get("machine", {})
        print(f"\n{results.get('date_utc', '?')}: {machine.get('usable_cpus', '?')} CPUs, "
              f"Python {machine.get('python', '?')}, {results.get('total_seconds', '?')} s")
        return 0

    paths = discover(args.dir)
    if args.list:
        for path in paths:
            print(path.stem)
        return 0
    results = run(paths, args.name_filter,
                  progress=lambda name: print(f"running {name} ...", file=sys.stderr,
                                              flush=True))
    print(fmt(results["rows"]))
    print(baseline_line(results))
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
