"""Batch grading: ``-j N`` parallel kernels, ``--shard i/n``, progress, resumable.

Each submission is graded in its own worker process (which starts its own
kernel); a worker that fails for any reason still yields a row
(``grader_error``).  Results are stored as they finish, so an interrupted run
loses nothing; re-running skips submissions whose stored result has the same
file checksum unless ``force=True``.

Examples
--------
>>> parse_shard("2/4")
(2, 4)
>>> select_shard(["a", "b", "c", "d", "e"], 2, 2)
['b', 'd']
>>> parse_shard("5/4")
Traceback (most recent call last):
...
ValueError: shard must be i/n with 1 <= i <= n, got '5/4'
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import IO

from ..errors import check_int
from .report import result_path, write_reports, write_result
from .runner import GradeOptions, grade_submission, student_id_for

__all__ = ["grade_many", "parse_shard", "select_shard", "find_submissions"]


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``"i/n"`` (1-based shard i of n)."""
    try:
        i, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise ValueError(f"shard must be i/n with 1 <= i <= n, got {text!r}") from None
    if not 1 <= i <= n:
        raise ValueError(f"shard must be i/n with 1 <= i <= n, got {text!r}")
    return i, n


def select_shard(items: list, i: int, n: int) -> list:
    """Every n-th item of the sorted list, starting at the i-th (1-based)."""
    return [x for k, x in enumerate(sorted(items)) if k % n == i - 1]


def find_submissions(paths: list) -> list[Path]:
    """Expand folders to the ``.ipynb`` files below them (checkpoints excluded).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "bob" / ".ipynb_checkpoints").mkdir(parents=True)
    >>> for f in ("bob/ex01.ipynb", "bob/.ipynb_checkpoints/ex01-checkpoint.ipynb"):
    ...     _ = (d / f).write_text("{}")
    >>> [p.relative_to(d).as_posix() for p in find_submissions([d])]
    ['bob/ex01.ipynb']
    """
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += [f for f in sorted(p.rglob("*.ipynb"))
                      if ".ipynb_checkpoints" not in f.parts]
        else:
            found.append(p)
    return sorted(set(found))


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _already_graded(out: Path, path: Path) -> bool:
    target = result_path(out, student_id_for(path), path)
    try:
        old = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return old.get("sha256") is not None and old.get("sha256") == _sha256(path)


def _worker(path: str, options: GradeOptions, exercise_id: str | None) -> dict:
    try:
        return grade_submission(path, options=options, exercise_id=exercise_id)
    except BaseException as exc:  # never lose a row
        return {"student": student_id_for(path), "exercise": exercise_id or "",
                "submission": path, "status": "grader_error", "gradable": False,
                "reason": f"{type(exc).__name__}: {exc}"[:300], "points": 0.0,
                "max_points": 0.0, "score": 0.0, "questions": {}, "tests": []}


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = int(width * done / total) if total else width
    return "#" * filled + "." * (width - filled)


def grade_many(paths: list, out: str | os.PathLike, jobs: int = 1,
               shard: tuple[int, int] = (1, 1), force: bool = False,
               options: GradeOptions | None = None, exercise_id: str | None = None,
               progress: IO | None = None) -> dict:
    """Grade submissions into ``out``; returns the summary (see :mod:`.report`).

    Parameters
    ----------
    paths : list of path-like
        Notebook files or folders holding them.
    out : path-like
        Output folder (results/, grades.csv, summary.*).
    jobs : int
        Parallel kernels (worker processes).
    shard : (i, n)
        Grade only shard i of n (by sorted path), for array jobs / CI matrices.
    force : bool
        Re-grade submissions that already have a result with the same checksum.
    progress : file, optional
        Where the progress bar goes (default stderr).

    Examples
    --------
    >>> import io, tempfile
    >>> out = tempfile.mkdtemp()
    >>> s = grade_many([], out, jobs=2, progress=io.StringIO())
    >>> s["submissions"], sorted(p.name for p in Path(out).iterdir())
    (0, ['grades.csv', 'summary.json', 'summary.txt'])
    """
    jobs = check_int("jobs", jobs, minimum=1, maximum=256)
    i, n = shard
    check_int("shard", n, minimum=1)
    check_int("shard", i, minimum=1, maximum=n)
    options = options or GradeOptions()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    progress = progress if progress is not None else sys.stderr
    todo = select_shard(find_submissions(paths), i, n)
    skipped = [p for p in todo if not force and _already_graded(out, p)]
    todo = [p for p in todo if p not in skipped]
    total = len(todo)
    print(f"grading {total} submission(s) with {jobs} kernel(s)"
          + (f", shard {i}/{n}" if n > 1 else "")
          + (f"; {len(skipped)} already graded (use --force to redo)" if skipped else ""),
          file=progress, flush=True)
    t0 = time.monotonic()
    done = 0

    def report(result: dict) -> None:
        nonlocal done
        done += 1
        write_result(out, result)
        pts = (f"{result.get('points', 0):g}/{result.get('max_points', 0):g}"
               if result.get("gradable") else "-")
        print(f"[{_bar(done, total)}] {done}/{total} {result.get('student')} "
              f"{result.get('exercise') or Path(result.get('submission', '')).name}: "
              f"{result.get('status')} {pts} ({result.get('runtime_s', 0)} s)",
              file=progress, flush=True)

    if jobs == 1 or total <= 1:
        for p in todo:
            report(_worker(str(p), options, exercise_id))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = {pool.submit(_worker, str(p), options, exercise_id): p for p in todo}
            for fut in as_completed(futures):
                p = futures[fut]
                try:
                    result = fut.result()
                except BaseException as exc:  # a worker process died
                    result = {"student": student_id_for(p), "exercise": exercise_id or "",
                              "submission": str(p), "status": "grader_error",
                              "gradable": False, "reason": f"worker failed: {exc}"[:300],
                              "points": 0.0, "max_points": 0.0, "score": 0.0,
                              "questions": {}, "tests": []}
                report(result)
    s = write_reports(out)
    wall = time.monotonic() - t0
    s["wall_s"] = round(wall, 2)
    s["graded_now"] = total
    s["skipped"] = len(skipped)
    if total:
        print(f"done: {total} graded in {wall:.1f} s ({wall / total:.2f} s per submission "
              f"with {jobs} kernel(s)); reports in {out}", file=progress, flush=True)
    return s
