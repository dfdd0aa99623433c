"""Batch grading: ``-j N`` parallel kernels, ``--shard i/n``, progress, resumable.

Submissions are keyed by (student, exercise): the student is the folder the
file was handed in from, the exercise the one the notebook names.  Exactly
one row per key: several files for one key are reported as ``duplicate``
(none graded), never merged or overwritten.  Each submission is graded in
its own worker process (which starts its own sandboxed kernel); a worker
that fails for any reason still yields a row (``grader_error``).  Results
are written by this process only, atomically, as they finish, so an
interrupted run loses nothing; re-running skips submissions whose stored
result has the same file checksum unless ``force=True``.

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

import dataclasses
import hashlib
import inspect
import json
import multiprocessing
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import IO

import nbformat

from ..errors import check_choice, check_int
from ..i18n import LANGUAGES
from .exercise import get_exercise
from .notebook import cell_role, exercise_id_of, rebuild
from .report import atomic_write, load_results, result_path, write_reports, write_result
from .runner import (GradeOptions, GradeResult, SubmissionRejected, solutions_dir_of,
                     grade_submission, parse_notebook_bytes, read_submission, source_notebook,
                     student_id_for)
from .sandbox import check_sandbox
from .similarity import report_markdown, similarity_report

__all__ = ["merge_outputs", "shard_from_env", "grade_many", "parse_shard", "select_shard",
           "find_submissions", "submission_key"]


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``"i/n"`` (1-based shard i of n)."""
    try:
        i, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise ValueError(f"shard must be i/n with 1 <= i <= n, got {text!r}") from None
    if not 1 <= i <= n:
        raise ValueError(f"shard must be i/n with 1 <= i <= n, got {text!r}")
    return i, n


def shard_from_env(env: dict | None = None, total: int | None = None) -> tuple[int, int] | None:
    """The shard ``(i, n)`` of a cluster array job, from its environment, or None.

    Kubernetes Indexed Jobs set ``JOB_COMPLETION_INDEX`` (0-based) but not the
    number of completions, so ``total`` (``--shards N``, or ``VIRTLAB_SHARDS``)
    must say it; Slurm job arrays set ``SLURM_ARRAY_TASK_ID`` with
    ``SLURM_ARRAY_TASK_MIN`` and ``SLURM_ARRAY_TASK_COUNT`` (any start, e.g.
    ``--array=0-7`` or ``1-8``).

    Examples
    --------
    >>> shard_from_env({"JOB_COMPLETION_INDEX": "2"}, total=4)
    (3, 4)
    >>> shard_from_env({"SLURM_ARRAY_TASK_ID": "8", "SLURM_ARRAY_TASK_MIN": "1",
    ...                 "SLURM_ARRAY_TASK_COUNT": "8"})
    (8, 8)
    >>> shard_from_env({}) is None
    True
    >>> shard_from_env({"JOB_COMPLETION_INDEX": "0"})
    Traceback (most recent call last):
    ...
    ValueError: JOB_COMPLETION_INDEX is set but not the number of shards: pass --shards N (or set VIRTLAB_SHARDS)
    """
    env = os.environ if env is None else env
    if total is None and env.get("VIRTLAB_SHARDS"):
        total = _env_int(env, "VIRTLAB_SHARDS")
    if "JOB_COMPLETION_INDEX" in env:
        if total is None:
            raise ValueError("JOB_COMPLETION_INDEX is set but not the number of shards: "
                             "pass --shards N (or set VIRTLAB_SHARDS)")
        i = _env_int(env, "JOB_COMPLETION_INDEX") + 1
    elif "SLURM_ARRAY_TASK_ID" in env:
        first = _env_int(env, "SLURM_ARRAY_TASK_MIN") if "SLURM_ARRAY_TASK_MIN" in env else 0
        if total is None:
            if "SLURM_ARRAY_TASK_COUNT" not in env:
                raise ValueError("SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: "
                                 "pass --shards N")
            total = _env_int(env, "SLURM_ARRAY_TASK_COUNT")
        i = _env_int(env, "SLURM_ARRAY_TASK_ID") - first + 1
    else:
        return None
    if not 1 <= i <= total:
        raise ValueError(f"the array index gives shard {i} of {total}: outside 1..{total}")
    return i, total


def _env_int(env, name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {env[name]!r}") from None


def merge_outputs(shards: list, out: str | os.PathLike, lang: str | None = None) -> dict:
    """Merge the output folders of shard runs into ``out``: one report for the course.

    Each shard's ``shard.json`` says which shard it was and which (student,
    exercise) pairs it was given.  The merge refuses shards of different
    splits, a shard given twice and a pair graded in two shards; it reports
    shards that are missing and assigned pairs without a result.  Results are
    copied as the grader wrote them; ``grades.csv``, the summary and the
    manual-answer files are rebuilt, and the feedback files (in ``lang``, see
    :func:`~.report.write_reports`); the similarity report (computed by every
    shard over all submissions) is taken from the first shard.

    Returns the summary with ``missing_shards`` and ``missing`` (pairs).
    """
    if not shards:
        raise ValueError("shards must name at least one shard output folder")
    plans, seen = [], {}
    for folder in map(Path, shards):
        plan_file = folder / "shard.json"
        if not plan_file.is_file():
            raise ValueError(f"shards: {folder} has no shard.json (not a `virtlab grade` output)")
        plan = json.loads(plan_file.read_text(encoding="utf-8"))
        i, n = plan["shard"]
        if plans and n != plans[0][1]["shard"][1]:
            raise ValueError(f"shards: {folder} is shard {i}/{n}, the others are of "
                             f"{plans[0][1]['shard'][1]}")
        if i in seen:
            raise ValueError(f"shards: shard {i}/{n} given twice ({seen[i]} and {folder})")
        seen[i] = folder
        plans.append((folder, plan))
    n = plans[0][1]["shard"][1]
    rows: dict[tuple[str, str], tuple[Path, dict]] = {}
    for folder, plan in plans:
        for row in load_results(folder):
            key = (row.get("student"), row.get("exercise"))
            if key in rows:
                raise ValueError(f"shards: {key[0]} / {key[1]} was graded in both "
                                 f"{rows[key][0]} and {folder}")
            rows[key] = (folder, row)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for _folder, row in rows.values():
        write_result(out, row, (row["student"], row["exercise"]))
    first_similarity = plans[0][0] / "similarity"
    if first_similarity.is_dir():
        for f in sorted(first_similarity.iterdir()):
            atomic_write(out / "similarity" / f.name, f.read_text(encoding="utf-8"))
    s = write_reports(out, lang)
    s["missing_shards"] = sorted(set(range(1, n + 1)) - set(seen))
    s["missing"] = sorted(tuple(k) for _, plan in plans for k in plan["assigned"]
                          if tuple(k) not in rows)
    return s


def select_shard(items: list, i: int, n: int) -> list:
    """Every n-th item of the sorted list, starting at the i-th (1-based)."""
    return [x for k, x in enumerate(sorted(items)) if k % n == i - 1]


def find_submissions(paths: list) -> list[tuple[Path, Path]]:
    """Expand folders to ``(root, notebook)`` pairs (checkpoints excluded).

    The root is the folder given (the student id is the first folder below
    it); for a file given directly it is the folder above the file's folder,
    so the student is the file's folder.  Symlinked folders are not followed.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "bob" / ".ipynb_checkpoints").mkdir(parents=True)
    >>> for f in ("bob/ex01.ipynb", "bob/.ipynb_checkpoints/ex01-checkpoint.ipynb"):
    ...     _ = (d / f).write_text("{}")
    >>> [p.relative_to(d).as_posix() for _, p in find_submissions([d])]
    ['bob/ex01.ipynb']
    """
    found: dict[Path, Path] = {}
    for given in map(Path, paths):
        if given.is_dir() and not given.is_symlink():
            for dirpath, dirnames, filenames in os.walk(given):
                dirnames[:] = sorted(d for d in dirnames if d != ".ipynb_checkpoints")
                for name in filenames:
                    if name.endswith(".ipynb"):
                        found.setdefault(Path(dirpath) / name, given)
        else:  # a file named directly: its folder is the student's
            found.setdefault(given, given.absolute().parent.parent)
    return sorted(((root, path) for path, root in found.items()), key=lambda rp: rp[1])


_SAFE_EX = re.compile(r"^ex\d\d_[A-Za-z0-9_]{1,60}$")


def submission_key(path: Path, root: Path, exercise_id: str | None = None) -> tuple[str, str]:
    """(student, exercise) of a submission, from its folder and the notebook's exercise id.

    Reads the file only through :func:`.runner.read_submission` (checked);
    a broken file is keyed by its file name.
    """
    student = student_id_for(path, root)
    exercise = exercise_id or ""
    if not exercise:
        try:
            _, nb = parse_notebook_bytes(read_submission(path, root))
            exercise = exercise_id_of(nb) or ""
        except SubmissionRejected:
            exercise = ""
    if not _SAFE_EX.match(exercise):
        exercise = path.stem
    return student, exercise


def _sha256(path: Path, root: Path) -> str | None:
    try:
        return hashlib.sha256(read_submission(path, root)).hexdigest()
    except SubmissionRejected:
        return None


def _already_graded(out: Path, key: tuple[str, str], path: Path, root: Path) -> bool:
    target = result_path(out, *key)
    try:
        old = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (old.get("sha256") is not None and old.get("submission") == str(path)
            and old.get("sha256") == _sha256(path, root))


def _failed(path, root, exercise_id, reason: str) -> GradeResult:
    return GradeResult(student_id_for(path, root), exercise_id or "", str(path),
                       "grader_error", reason[:300])


def _worker(path: str, root: str, options: GradeOptions,
            exercise_id: str | None) -> GradeResult:
    try:
        return grade_submission(path, options=options, exercise_id=exercise_id, root=root)
    except BaseException as exc:  # never lose a row
        return _failed(path, root, exercise_id, f"{type(exc).__name__}: {exc}")


def _answer_code(path: Path, root: Path, source) -> str | None:
    """The student's own code (answer cells and their extra cells), or None."""
    try:
        _, nb = parse_notebook_bytes(read_submission(path, root))
        rebuilt = rebuild(nb, source)
    except (SubmissionRejected, TypeError, ValueError, AttributeError, KeyError):
        return None
    return "\n\n".join(rebuilt.cells[i].source for i in sorted(rebuilt.student_cells)
                       if rebuilt.cells[i].metadata.get("virtlab_origin") != "student variant")


def _reference_code(exercise, solutions_dir: Path) -> str:
    """What a student could copy: the solution's answer cells and the exercise module."""
    parts = []
    try:
        src = nbformat.read(solutions_dir / f"{exercise.id}.ipynb", as_version=4)
        parts += [c.source for c in src.cells if cell_role(c) == "answer"]
    except (OSError, ValueError):
        pass
    try:
        parts.append(Path(inspect.getsourcefile(exercise.make_problem)).read_text())
    except (OSError, TypeError):
        pass
    return "\n\n".join(parts)


def write_similarity(out: Path, submissions: dict, options: GradeOptions) -> dict:
    """Write ``out/similarity/<exercise>.md`` and ``.json``; return flagged counts.

    ``submissions`` maps (student, exercise) to (root, path).  Every
    submission found is compared (not only this shard's), so each shard's
    report is complete.  Flags are for a person to look at; no score changes.
    """
    by_ex: dict[str, dict[str, tuple]] = {}
    for (student, eid), rp in submissions.items():
        by_ex.setdefault(eid, {})[student] = rp
    counts = {}
    sol = solutions_dir_of(options)
    for eid, members in sorted(by_ex.items()):
        try:
            exercise = get_exercise(eid)
            source = source_notebook(eid, sol)
        except (ValueError, OSError):
            continue
        answers = {}
        for student, (root, path) in members.items():
            code = _answer_code(path, root, source)
            if code is not None:
                answers[student] = code
        scaffold = "\n\n".join(c.source for c in source.cells if c.cell_type == "code")
        reference = _reference_code(exercise, sol)
        sim = similarity_report(eid, answers, reference, scaffold)
        atomic_write(out / "similarity" / f"{eid}.md", report_markdown(sim, answers, reference))
        data = {"exercise": eid, "flagged": [dataclasses.asdict(m) for m in sim.flagged],
                "against_reference": [dataclasses.asdict(m) for m in sim.against_reference]}
        atomic_write(out / "similarity" / f"{eid}.json",
                     json.dumps(data, indent=1, sort_keys=True) + "\n")
        counts[eid] = len(sim.flagged)
    return counts


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = int(width * done / total) if total else width
    return "#" * filled + "." * (width - filled)


def grade_many(paths: list, out: str | os.PathLike, jobs: int = 1,
               shard: tuple[int, int] = (1, 1), force: bool = False,
               options: GradeOptions | None = None, exercise_id: str | None = None,
               progress: IO | None = None, lang: str | None = None) -> dict:
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
    lang : str, optional
        Language of the students' feedback files (``"en"`` or ``"de"``); default:
        each in the edition its student handed in.  Results and CSV do not
        depend on it.

    Examples
    --------
    >>> import io, tempfile
    >>> out = tempfile.mkdtemp()
    >>> s = grade_many([], out, jobs=2, progress=io.StringIO())
    >>> s["submissions"], sorted(p.name for p in Path(out).iterdir())
    (0, ['grades.csv', 'shard.json', 'summary.json', 'summary.txt'])
    """
    jobs = check_int("jobs", jobs, minimum=1, maximum=256)
    if lang is not None:
        check_choice("lang", lang, LANGUAGES)
    i, n = shard
    check_int("shard", n, minimum=1)
    check_int("shard", i, minimum=1, maximum=n)
    options = options or GradeOptions()
    if options.sandbox:
        check_sandbox()  # refuse to grade at all rather than grade unsafely
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    progress = progress if progress is not None else sys.stderr
    groups: dict[tuple[str, str], list[tuple[Path, Path]]] = {}
    for root, path in find_submissions(paths):
        groups.setdefault(submission_key(path, root, exercise_id), []).append((root, path))
    keys = select_shard(list(groups), i, n)
    atomic_write(out / "shard.json", json.dumps({"shard": [i, n], "assigned": sorted(keys)},
                                                indent=1) + "\n")
    duplicates = {k: groups[k] for k in keys if len(groups[k]) > 1}
    single = [k for k in keys if len(groups[k]) == 1]
    skipped = [k for k in single
               if not force and _already_graded(out, k, groups[k][0][1], groups[k][0][0])]
    todo = [k for k in single if k not in skipped]
    total = len(todo) + len(duplicates)
    print(f"grading {len(todo)} submission(s) with {jobs} kernel(s)"
          + ("" if options.sandbox else " WITHOUT A SANDBOX")
          + (f", shard {i}/{n}" if n > 1 else "")
          + (f"; {len(skipped)} already graded (use --force to redo)" if skipped else "")
          + (f"; {len(duplicates)} duplicate(s) not graded" if duplicates else ""),
          file=progress, flush=True)
    t0 = time.monotonic()
    done = 0

    def report(key: tuple[str, str], result: GradeResult) -> None:
        nonlocal done
        done += 1
        write_result(out, result, key)
        pts = f"{result.points:g}/{result.max_points:g}" if result.gradable else "-"
        print(f"[{_bar(done, total)}] {done}/{total} {key[0]} {key[1]}: "
              f"{result.status} {pts} ({result.runtime_s} s)", file=progress, flush=True)

    for key, members in duplicates.items():
        files = ", ".join(str(p) for _, p in members)
        report(key, GradeResult(key[0], key[1], str(members[0][1]), "duplicate",
                                f"{len(members)} submissions of one exercise by one student "
                                f"({files}); none graded: keep one and grade again"))
    if jobs == 1 or len(todo) <= 1:
        for key in todo:
            root, path = groups[key][0]
            report(key, _worker(str(path), str(root), options, exercise_id))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = {pool.submit(_worker, str(groups[k][0][1]), str(groups[k][0][0]),
                                   options, exercise_id): k for k in todo}
            for fut in as_completed(futures):
                key = futures[fut]
                root, path = groups[key][0]
                try:
                    result = fut.result()
                except BaseException as exc:  # a worker process died
                    result = _failed(path, root, exercise_id, f"worker failed: {exc}")
                report(key, result)
    s = write_reports(out, lang)
    s["similarity"] = write_similarity(out, {k: v[0] for k, v in groups.items()
                                             if len(v) == 1}, options)
    wall = time.monotonic() - t0
    s["wall_s"] = round(wall, 2)
    s["graded_now"] = len(todo)
    s["skipped"] = len(skipped)
    if todo:
        print(f"done: {len(todo)} graded in {wall:.1f} s ({wall / len(todo):.2f} s per "
              f"submission with {jobs} kernel(s)); reports in {out}", file=progress, flush=True)
    return s
