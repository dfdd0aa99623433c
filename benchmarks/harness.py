"""The benchmark harness behind ``make bench`` (``python -m benchmarks``).

A *benchmark module* is a file ``bench_<topic>.py`` in this folder that
defines ``BENCHMARKS``: a list of zero-argument functions, each returning a
list of *rows*::

    {"name": "widget storage_lab median", "value": 12.3, "unit": "ms",
     "target": "<= 50", "ok": True}

The harness discovers the modules, runs every function (a module that fails to
import or a function that raises becomes a row with ``ok: False`` and the
error; the rest still runs), prints a table and writes ``results.json``
atomically with sorted keys and the machine's description.

Benchmarks are measurements, never timed tests: the test suite only checks
that the harness discovers, runs and writes (tests/test_benchmarks_harness.py).

Examples
--------
>>> row("demo", 1.5, "ms", "<= 50", True)["ok"]
True
>>> check_rows([{"name": "x"}])[0]["ok"]
False
>>> format_value(0.000123456)
'0.0001235'
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["BENCH_DIR", "ROW_KEYS", "baseline_ms", "check_rows", "discover", "format_markdown",
           "format_table", "format_value", "machine_info", "row", "run", "timed",
           "write_results"]

BENCH_DIR = Path(__file__).resolve().parent
ROW_KEYS = ("name", "value", "unit", "target", "ok")


# -- helpers for benchmark authors ----------------------------------------------------

def row(name: str, value: float | None, unit: str, target: str, ok: bool,
        **extra: Any) -> dict[str, Any]:
    """Build one result row (extra keys, e.g. ``n=5``, are kept).

    Examples
    --------
    >>> row("bt/native", 1.04, "x", "<= 1.10", 1.04 <= 1.10)
    {'name': 'bt/native', 'value': 1.04, 'unit': 'x', 'target': '<= 1.10', 'ok': True}
    """
    return {"name": name, "value": value, "unit": unit, "target": target,
            "ok": bool(ok), **extra}


def timed(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls of ``fn`` after ``warmup`` calls.

    Examples
    --------
    >>> times = timed(lambda: sum(range(100)), repeat=3)
    >>> len(times), all(t >= 0 for t in times)
    (3, True)
    """
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def summary_ms(samples: Iterable[float]) -> tuple[float, float]:
    """Median and max of ``samples`` (seconds) in milliseconds.

    Examples
    --------
    >>> summary_ms([0.010, 0.020, 0.030])
    (20.0, 30.0)
    """
    samples = list(samples)
    return (round(statistics.median(samples) * 1e3, 3), round(max(samples) * 1e3, 3))


_BASELINE_MS: float | None = None


def baseline_ms() -> float:
    """The machine's baseline of this run: a naive one-line-plot widget redraw (ms).

    Measured once per process (:func:`benchmarks.baseline.kernel_baseline_ms`)
    and then reused, so every benchmark of a run divides by the same figure;
    :func:`run` measures it first and stores it in the results.
    """
    global _BASELINE_MS
    if _BASELINE_MS is None:
        from benchmarks.baseline import kernel_baseline_ms

        _BASELINE_MS = kernel_baseline_ms()
    return _BASELINE_MS


# -- discovery and running -------------------------------------------------------------

def discover(directory: Path | str | None = None) -> list[Path]:
    """The ``bench_*.py`` files in ``directory`` (default: this package), sorted.

    Examples
    --------
    >>> all(p.name.startswith("bench_") for p in discover())
    True
    """
    directory = Path(directory) if directory is not None else BENCH_DIR
    return sorted(p for p in directory.glob("bench_*.py") if p.is_file())


def _import(path: Path):
    if path.parent == BENCH_DIR:
        return importlib.import_module(f"benchmarks.{path.stem}")
    # A folder outside the package (tests): import by file path.
    name = f"_virtlab_bench_{abs(hash(str(path.parent)))}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _error_row(name: str, exc: BaseException) -> dict[str, Any]:
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return row(name, None, "", "runs without error", False, error=last)


def check_rows(rows: Any, source: str = "benchmark") -> list[dict[str, Any]]:
    """Validate what a benchmark returned; malformed rows become error rows.

    Examples
    --------
    >>> check_rows([row("a", 1, "s", "< 2", True)])[0]["name"]
    'a'
    >>> check_rows("nonsense")[0]["error"]
    'benchmark returned str, not a list of rows'
    """
    if not isinstance(rows, list):
        return [row(source, None, "", "returns a list of rows", False,
                    error=f"{source} returned {type(rows).__name__}, not a list of rows")]
    out = []
    for i, r in enumerate(rows):
        missing = [k for k in ROW_KEYS if not isinstance(r, dict) or k not in r]
        if missing:
            out.append(row(f"{source}[{i}]", None, "", "a complete row", False,
                           error=f"row {i} lacks {', '.join(missing)}"))
            continue
        r = dict(r)
        value = r["value"]
        if isinstance(value, float) and not math.isfinite(value):
            r["value"], r["ok"] = None, False
            r.setdefault("error", f"value is {value}")
        elif value is not None and (isinstance(value, bool)
                                    or not isinstance(value, (int, float))):
            r["value"], r["ok"] = None, False
            r.setdefault("error", f"value must be a number, got {type(value).__name__}")
        r["ok"] = bool(r["ok"])
        r["name"], r["unit"], r["target"] = str(r["name"]), str(r["unit"]), str(r["target"])
        out.append(r)
    return out


def run(paths: Iterable[Path] | None = None, name_filter: str | None = None,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the benchmark modules at ``paths`` (default: all discovered).

    ``name_filter`` keeps only benchmarks whose ``module.function`` name
    contains it (case-insensitive).  Returns ``{"machine", "rows",
    "benchmarks", "total_seconds", ...}`` ready for :func:`write_results`.
    """
    paths = discover() if paths is None else [Path(p) for p in paths]
    wanted = (name_filter or "").lower()
    rows: list[dict[str, Any]] = []
    ran: list[dict[str, Any]] = []
    t_start = time.perf_counter()
    try:
        baseline: float | None = baseline_ms()
    except Exception:  # noqa: BLE001 - no matplotlib: the rows still run
        baseline = None
    for path in paths:
        module_name = path.stem
        # Import even when the filter does not match the module name: it may
        # match a function inside.
        try:
            module = _import(path)
            benches = getattr(module, "BENCHMARKS")
            benches = list(benches)
        except Exception as exc:  # noqa: BLE001 - reported as a row, the rest runs
            if not wanted or wanted in module_name.lower():
                rows.append({**_error_row(f"{module_name} (import)", exc),
                             "module": module_name})
            continue
        for fn in benches:
            qual = f"{module_name}.{getattr(fn, '__name__', repr(fn))}"
            if wanted and wanted not in qual.lower():
                continue
            if progress:
                progress(qual)
            t0 = time.perf_counter()
            try:
                if not callable(fn):
                    raise TypeError(f"BENCHMARKS entry {fn!r} is not callable")
                got = check_rows(fn(), qual)
            except Exception as exc:  # noqa: BLE001
                got = [_error_row(qual, exc)]
            seconds = round(time.perf_counter() - t0, 3)
            for r in got:
                r["benchmark"] = qual
            rows.extend(got)
            ran.append({"benchmark": qual, "seconds": seconds,
                        "ok": all(r["ok"] for r in got)})
    return {
        "machine": machine_info(),
        "baseline_ms": baseline,
        "filter": name_filter,
        "benchmarks": ran,
        "rows": rows,
        "ok": all(r["ok"] for r in rows),
        "errors": sum(1 for r in rows if "error" in r),
        "total_seconds": round(time.perf_counter() - t_start, 3),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def machine_info() -> dict[str, Any]:
    """CPU count, Python version and platform of this run.

    Examples
    --------
    >>> sorted(machine_info())
    ['cpu_count', 'machine', 'platform', 'processor', 'python', 'usable_cpus']
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    return {"cpu_count": os.cpu_count(), "usable_cpus": usable,
            "python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "processor": platform.processor()}


def write_results(results: dict[str, Any], path: Path | str) -> Path:
    """Write ``results`` as JSON atomically (temporary file + rename).

    Keys are sorted and non-finite numbers are refused, so the file is
    valid, stable JSON.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    text = json.dumps(results, indent=2, sort_keys=True, allow_nan=False) + "\n"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


# -- output ---------------------------------------------------------------------------------

def format_value(value: Any) -> str:
    """Four significant digits, or '-' for no value."""
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table: name, value, unit, target, ok (and errors).

    Rows carrying ``x_baseline`` (the value as a ratio to the run's
    baseline, :func:`baseline_ms`) add an "x base" column.

    Examples
    --------
    >>> print(format_table([row("a", 1.23456, "ms", "<= 50", True)]))
    name  value  unit  target  ok
    ----  -----  ----  ------  --
    a     1.235  ms    <= 50   ok
    """
    ratios = any("x_baseline" in r for r in rows)
    header = ("name", "value", "unit") + (("x base",) if ratios else ()) + ("target", "ok")
    lines = [(str(r["name"]), format_value(r["value"]), str(r["unit"]))
             + ((format_value(r.get("x_baseline")),) if ratios else ())
             + (str(r["target"]),
                ("ok" if r["ok"] else "MISS") + (f"  {r['error']}" if "error" in r else ""))
             for r in rows]
    widths = [max([len(h)] + [len(line[i]) for line in lines]) for i, h in enumerate(header)]

    def fmt(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [fmt(header), fmt(["-" * len(h) for h in header])]
    out += [fmt(line) for line in lines]
    return "\n".join(out)


def format_markdown(rows: list[dict[str, Any]]) -> str:
    """The same table as markdown (for the README).

    Examples
    --------
    >>> print(format_markdown([row("a|b", 1.23456, "ms", "<= 50", False)]))
    | name | value | unit | target | ok |
    |---|---:|---|---|---|
    | a\\|b | 1.235 | ms | <= 50 | **MISS** |
    """
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|")

    ratios = any("x_baseline" in r for r in rows)
    if ratios:
        out = ["| name | value | unit | x base | target | ok |", "|---|---:|---|---:|---|---|"]
    else:
        out = ["| name | value | unit | target | ok |", "|---|---:|---|---|---|"]
    for r in rows:
        verdict = "ok" if r["ok"] else "**MISS**"
        if "error" in r:
            verdict += f" ({cell(r['error'])})"
        ratio = f" {format_value(r.get('x_baseline'))} |" if ratios else ""
        out.append(f"| {cell(r['name'])} | {format_value(r['value'])} | {cell(r['unit'])} |"
                   f"{ratio} {cell(r['target'])} | {verdict} |")
    return "\n".join(out)
