"""Benchmarks for the grading toolchain (issue 8).

Target (design.md): "a few seconds per submission; -j N scales with cores".

* ``grade 40 submissions -j 2``: 40 submissions of exercise 3 under 40
  student ids (a third correct, a third untouched, a third partly wrong),
  graded with :func:`virtlab.grading.batch.grade_many` exactly as
  ``virtlab grade SUBS --out DIR -j 2`` does; reports wall-clock seconds per
  submission (target: <= 5 s).
* the same 10 submissions with ``-j 1`` and ``-j 2``: the speed-up of a
  second kernel (target: >= 1.3 on a 2-core machine; it cannot exceed the
  number of free cores).
* the sandbox's price (issue 14): the same 8 submissions with ``-j 1``, graded
  in the bubblewrap sandbox and with ``sandbox=False`` (the instructor's
  ``--unsafe-no-sandbox``), alternating twice; seconds per submission for both
  and their ratio (target: <= 1.25, design.md).
* ``check-solutions`` for every exercise and 10 seeds, in-process.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = "ex03_page_walks"


def _submissions(folder: Path, n: int) -> None:
    sol = nbformat.read(ROOT / "solutions" / f"{EXERCISE}.ipynb", as_version=4)
    blank = nbformat.read(ROOT / "exercises" / f"{EXERCISE}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in sol.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for k in range(n):
        nb = nbformat.from_dict(nbformat.from_dict(blank))
        if k % 3 != 1:
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if gid in answers:
                    cell.source = answers[gid]
                    if k % 3 == 2 and gid in ("q2_answer", "q6_answer"):
                        cell.source += "\nmisses = 0\ncheaper = 'neither'"
        target = folder / f"student{k:03d}" / f"{EXERCISE}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)


def _grade(folder: Path, jobs: int, out: Path, sandbox: bool = True) -> float:
    from virtlab.grading.batch import grade_many
    from virtlab.grading.runner import GradeOptions

    opts = GradeOptions(solutions_dir=ROOT / "solutions", secret=b"benchmark",
                        sandbox=sandbox)
    t0 = time.perf_counter()
    with open(out.parent / f"progress-{out.name}.txt", "w") as log:
        summary = grade_many([folder], out, jobs=jobs, options=opts, progress=log)
    wall = time.perf_counter() - t0
    assert summary["submissions"] == len(list(folder.rglob("*.ipynb")))
    return wall


def bench_grade_40():
    tmp = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        _submissions(tmp / "subs", 40)
        wall = _grade(tmp / "subs", 2, tmp / "out")
        per = wall / 40
        return [{"name": "grading: 40 submissions -j 2, per submission", "value": round(per, 2),
                 "unit": "s", "target": "<= 5 s", "ok": per <= 5.0},
                {"name": "grading: 40 submissions -j 2, total", "value": round(wall, 1),
                 "unit": "s", "target": "informational", "ok": True}]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_scaling():
    tmp = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        _submissions(tmp / "subs", 10)
        one = _grade(tmp / "subs", 1, tmp / "out1")
        two = _grade(tmp / "subs", 2, tmp / "out2")
        speedup = one / two
        return [{"name": "grading: 10 submissions -j 1", "value": round(one, 1), "unit": "s",
                 "target": "informational", "ok": True},
                {"name": "grading: 10 submissions -j 2", "value": round(two, 1), "unit": "s",
                 "target": "informational", "ok": True},
                {"name": "grading: speed-up of -j 2 over -j 1", "value": round(speedup, 2),
                 "unit": "x", "target": ">= 1.3 (2 cores)", "ok": speedup >= 1.3}]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_sandbox_cost():
    tmp = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    n = 8
    try:
        _submissions(tmp / "subs", n)
        walls = {True: [], False: []}
        for k, sandbox in enumerate((False, True, True, False)):  # alternate: fair to drift
            walls[sandbox].append(_grade(tmp / "subs", 1, tmp / f"out{k}", sandbox=sandbox))
        inside, outside = sum(walls[True]) / 2 / n, sum(walls[False]) / 2 / n
        ratio = inside / outside
        return [{"name": "grading: -j 1, per submission, sandboxed (bwrap)",
                 "value": round(inside, 2), "unit": "s", "target": "informational", "ok": True},
                {"name": "grading: -j 1, per submission, without sandbox",
                 "value": round(outside, 2), "unit": "s", "target": "informational",
                 "ok": True},
                {"name": "grading: sandbox cost (sandboxed / unsandboxed time)",
                 "value": round(ratio, 3), "unit": "x", "target": "<= 1.25",
                 "ok": ratio <= 1.25}]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_check_solutions():
    from virtlab.grading.checks import check_solutions

    t0 = time.perf_counter()
    issues = check_solutions(ROOT / "solutions", ROOT / "exercises", seeds=10)
    wall = time.perf_counter() - t0
    return [{"name": "grading: check-solutions, all exercises x 10 seeds", "value": round(wall, 1),
             "unit": "s", "target": "no problems", "ok": not issues}]


BENCHMARKS = [bench_grade_40, bench_scaling, bench_sandbox_cost, bench_check_solutions]
