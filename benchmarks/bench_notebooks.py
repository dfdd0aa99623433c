"""Notebook suite: wall time to execute every notebook (nbclient, in memory).

Each notebook in ``notebooks/`` (and ``solutions/``) is executed top to
bottom in a fresh kernel, exactly as ``scripts/execute_notebooks.py`` does,
but nothing is written back.  The time includes the kernel start (about half a
second).  Targets: "each notebook should execute in a few seconds" (we use
<= 10 s) and the whole set well inside the 5-minute ``make test`` budget on
two cores (<= 150 s, i.e. half of it on one worker).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import row

ROOT = Path(__file__).resolve().parent.parent
PER_NOTEBOOK_S = 10.0
TOTAL_S = 150.0


def notebooks() -> list[Path]:
    """The notebooks a student or the grader executes."""
    return sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("solutions/*.ipynb")])


def execute_seconds(path: Path) -> float:
    """Execute ``path`` in a fresh kernel and return the wall time in seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            record_timing=False)
    t0 = time.perf_counter()
    client.execute()
    return time.perf_counter() - t0


def bench_notebook_suite() -> list[dict[str, Any]]:
    """Seconds per notebook and in total."""
    rows = []
    total = 0.0
    failed = False
    for path in notebooks():
        name = f"notebook {path.parent.name}/{path.stem}"
        try:
            seconds = execute_seconds(path)
        except Exception as exc:  # noqa: BLE001 - a failing notebook is a row, not a crash
            failed = True
            rows.append(row(name, None, "s", "executes", False,
                            error=f"{type(exc).__name__}: {str(exc)[:300]}"))
            continue
        total += seconds
        rows.append(row(name, round(seconds, 2), "s", f"<= {PER_NOTEBOOK_S:g}",
                        seconds <= PER_NOTEBOOK_S))
    rows.append(row("notebooks total", round(total, 2), "s", f"<= {TOTAL_S:g}",
                    total <= TOTAL_S and not failed, n=len(notebooks())))
    return rows


MAKE_TEST_S = 300.0


def bench_make_test() -> list[dict[str, Any]]:
    """Wall time of the whole test suite as ``make test`` runs it (opt-in).

    Takes minutes, so it runs only with ``VIRTLAB_BENCH_MAKE_TEST=1``
    (e.g. ``VIRTLAB_BENCH_MAKE_TEST=1 make bench ARGS="-k make_test"``).
    Target (design.md): under 5 minutes on a 2-core machine.
    """
    import subprocess
    import sys

    name = "make test (pytest -n 2 --dist loadfile)"
    if os.environ.get("VIRTLAB_BENCH_MAKE_TEST") != "1":
        return [row(name, None, "s", f"<= {MAKE_TEST_S:g}", True,
                    note="not measured; set VIRTLAB_BENCH_MAKE_TEST=1")]
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile",
                           "-q"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - t0
    tail = (proc.stdout.strip().splitlines() or [""])[-1]
    extra = {"summary": tail[:200], "exit_status": proc.returncode}
    if proc.returncode != 0:
        extra["error"] = f"pytest exited with {proc.returncode}: {tail[:200]}"
    return [row(name, round(seconds, 1), "s", f"<= {MAKE_TEST_S:g}",
                seconds <= MAKE_TEST_S and proc.returncode == 0, **extra)]


BENCHMARKS = [bench_notebook_suite, bench_make_test]
