"""Grade one submission in a fresh kernel (nbclient); verdicts in this process.

:func:`grade_submission` never raises for a bad submission: whatever happens
(empty file, broken JSON, a different notebook, an endless loop, a crashed
kernel, memory exhaustion, deleted or edited cells) it returns a result with
a ``status`` and a ``reason``.

What runs in the kernel, in order:

1. the grader's first cell: memory limit (``RLIMIT_AS``, where the OS has
   one), headless matplotlib, and the student's variant seed pinned from the
   student id the grader was given;
2. the submission rebuilt on the exercise source (:func:`.notebook.rebuild`):
   locked and check cells from the source, the student's answer cells, demo
   cells skipped;
3. the grader's export cell: a self-contained copy of
   :mod:`virtlab.grading._kernel` that converts each declared answer name to
   plain JSON and calls the student's functions on the public and hidden
   inputs, writing the result to a file whose random name and nonce exist
   only in that last cell.

The verdict is then computed here from that plain JSON
(:func:`.verdict.evaluate`).  Cell outputs and stderr are never read for
scores (only error names, for the status line).  The instructor secret is
removed from the kernel's environment.

Examples
--------
>>> student_id_for("subs/alice/ex01_popek_goldberg.ipynb")
'alice'
>>> student_id_for("subs/bob__ex03.ipynb")
'bob'
>>> student_id_for("submitted/carol/ex03_page_walks/ex03_page_walks.ipynb")
'carol'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets as _secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import _kernel
from .exercise import get_exercise
from .notebook import exercise_id_of, rebuild, student_version
from .variants import SECRET_ENV, check_student_id, load_secret, variant_code, variant_seed
from .verdict import evaluate

__all__ = ["GradeOptions", "grade_submission", "student_id_for", "source_notebook",
           "results_json"]

_EX_DIR_RE = re.compile(r"^ex\d\d_")
_MAGIC_MPL = re.compile(r"^[ \t]*%matplotlib[^\n]*$", re.M)


@dataclass
class GradeOptions:
    """Limits and locations for grading (defaults suit a lab PC).

    Attributes
    ----------
    cell_timeout : float
        Seconds per cell before the kernel is interrupted.
    notebook_timeout : float
        Seconds for the whole notebook (cells after it are skipped).
    memory_mb : int or None
        Extra address space the kernel may allocate (None = no limit).
    call_timeout : float
        Seconds per call of a student's function on one input.
    run_demos : bool
        Also run cells tagged ``demo`` (widgets, plots).
    secret : bytes or None
        Instructor secret (default: ``VIRTLAB_GRADING_SECRET`` / development secret).
    solutions_dir : str or Path or None
        Folder of the source notebooks (default: the course's ``solutions/``).

    Examples
    --------
    >>> GradeOptions(cell_timeout=5, memory_mb=None).notebook_timeout
    300.0
    """

    cell_timeout: float = 30.0
    notebook_timeout: float = 300.0
    memory_mb: int | None = 1024
    call_timeout: float = 2.0
    run_demos: bool = False
    secret: bytes | None = None
    solutions_dir: str | Path | None = None
    kernel_name: str = "python3"
    extra: dict = field(default_factory=dict)


def student_id_for(path: str | os.PathLike) -> str:
    """The student id implied by a submission path.

    ``<id>__anything.ipynb`` → ``id``; ``<id>/exNN_*.ipynb`` (also nbgrader's
    ``<id>/<assignment>/<notebook>.ipynb``) → the first folder above that is
    not named like an exercise; otherwise the file stem.
    """
    p = Path(path)
    if "__" in p.stem:
        return p.stem.split("__", 1)[0]
    if _EX_DIR_RE.match(p.stem):
        for parent in p.parents:
            if parent.name and not _EX_DIR_RE.match(parent.name):
                return parent.name
    return p.stem


def _solutions_dir(options: GradeOptions) -> Path:
    if options.solutions_dir is not None:
        return Path(options.solutions_dir)
    from ..cli import repo_root
    return repo_root() / "solutions"


_SOURCE_CACHE: dict = {}


def source_notebook(exercise_id: str, solutions_dir: str | Path):
    """The student version generated from ``solutions_dir/<id>.ipynb`` (cached).

    Examples
    --------
    >>> from virtlab.cli import repo_root
    >>> nb = source_notebook("ex03_page_walks", repo_root() / "solutions")
    >>> "BEGIN SOLUTION" in str(nb.cells)
    False
    """
    path = Path(solutions_dir) / f"{exercise_id}.ipynb"
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _SOURCE_CACHE:
        _SOURCE_CACHE[key] = student_version(nbformat.read(path, as_version=4))
    return _SOURCE_CACHE[key]


def _preamble(seed: int, memory_mb: int | None) -> str:
    limit = "None" if memory_mb is None else str(int(memory_mb) * 2**20)
    return f"""\
# virtlab grader: limits and the pinned variant (not part of the submission)
import os as _vg_os
_vg_os.environ["MPLBACKEND"] = "Agg"
_vg_extra = {limit}
if _vg_extra is not None:
    try:
        import resource as _vg_resource
        with open("/proc/self/status") as _vg_fh:
            _vg_size = [int(l.split()[1]) * 1024 for l in _vg_fh if l.startswith("VmSize")][0]
        _vg_resource.setrlimit(_vg_resource.RLIMIT_AS, (_vg_size + _vg_extra,) * 2)
    except Exception:
        pass  # no limit where the OS offers none
import virtlab.grading.session as _vg_session
_vg_session._GRADING["seed"] = {int(seed)}
_vg_session._block_references()
del _vg_os, _vg_extra, _vg_session
"""


def _export_cell(spec: dict, path: str, nonce: str) -> str:
    source = Path(_kernel.__file__).read_text(encoding="utf-8")
    return (
        "# virtlab grader: export plain answers (not part of the submission)\n"
        f"_vg_ns = {{'__name__': '_virtlab_export'}}\n"
        f"exec(compile({source!r}, '<virtlab-export>', 'exec'), _vg_ns)\n"
        f"_vg_ns['_grader_export'](globals(), __import__('json').loads({json.dumps(spec)!r}),"
        f" {path!r}, {nonce!r})\n")


def _kernel_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    env.update(PYTHONHASHSEED="0", MPLBACKEND="Agg")
    return env


#: Instructor cells (setup, checks, demos) get at least this many seconds, so that a
#: loaded machine cannot make a short --cell-timeout fail the course's own code.
INSTRUCTOR_CELL_TIMEOUT = 60.0


def _execute(cells: list, options: GradeOptions, export_timeout: float, workdir: str) -> dict:
    """Run cells in a fresh kernel; return per-cell errors and how it ended."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = nbformat.v4.new_notebook(cells=list(cells))  # nbclient may replace list items
    nb.metadata["kernelspec"] = {"name": options.kernel_name, "display_name": "Python 3",
                                 "language": "python"}
    replies: dict[int, dict] = {}
    client = NotebookClient(
        nb, timeout=max(1, int(options.cell_timeout)), kernel_name=options.kernel_name,
        allow_errors=True, interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": "cell timed out",
                          "traceback": []},
        record_timing=False, startup_timeout=60, shutdown_kernel="immediate",
        resources={"metadata": {"path": workdir}})
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__(
        cell_index, execute_reply or {})
    outcome = {"errors": [], "dead": None, "skipped": 0, "timeouts": [], "hung": None}
    deadline = time.monotonic() + options.notebook_timeout
    last = len(cells) - 1
    # IPC sockets in the private work folder: no TCP port races between
    # parallel kernels (-j N) and nothing listening on the network
    km = client.create_kernel_manager()
    km.transport = "ipc"
    km.ip = os.path.join(workdir, "kernel")
    try:
        with client.setup_kernel(env=_kernel_env()):
            for i, cell in enumerate(cells):
                remaining = deadline - time.monotonic()
                if i == last:
                    client.timeout = max(1, int(export_timeout))
                elif remaining <= 0:
                    outcome["skipped"] += 1
                    continue
                else:
                    own = str(cell.metadata.get("virtlab_origin", "")).startswith("student")
                    limit = (options.cell_timeout if own
                             else max(options.cell_timeout, INSTRUCTOR_CELL_TIMEOUT))
                    client.timeout = max(1, int(min(limit, remaining)))
                try:
                    client.execute_cell(cell, i)
                except DeadKernelError:
                    outcome["dead"] = i
                    break
                content = replies.pop(i, {}).get("content", {})
                if content.get("status") == "error":
                    ename = str(content.get("ename", "Error"))
                    outcome["errors"].append((i, ename))
                    if ename == "CellTimeoutError":
                        outcome["timeouts"].append(i)
                        # did the interrupt work?  A kernel that ignores SIGINT is hung
                        client.timeout = 3
                        client.execute_cell(nbformat.v4.new_code_cell("pass"), i)
                        probe = replies.pop(i, {}).get("content", {})
                        if probe.get("status") != "ok":
                            outcome["hung"] = i
                            break
    except DeadKernelError:
        outcome["dead"] = outcome["dead"] if outcome["dead"] is not None else -1
    except Exception as exc:  # the kernel failed to start or the channel broke
        if outcome["dead"] is None:
            outcome["dead"] = -1
            outcome["start_error"] = f"{type(exc).__name__}: {exc}"[:200]
    return outcome


def _attempt_once(rebuilt_cells, seed, spec, options, export_timeout):
    """One kernel run: grader cell, rebuilt cells, export cell → (cells, outcome, export)."""
    workdir = tempfile.mkdtemp(prefix="virtlab-grade-")
    try:
        export_path = os.path.join(workdir, f"export-{_secrets.token_hex(8)}.json")
        nonce = _secrets.token_hex(16)
        cells = ([nbformat.v4.new_code_cell(_preamble(seed, options.memory_mb))]
                 + [nbformat.v4.new_code_cell(c.source, metadata=dict(c.metadata))
                    for c in rebuilt_cells]
                 + [nbformat.v4.new_code_cell(_export_cell(spec, export_path, nonce))])
        outcome = _execute(cells, options, export_timeout, workdir)
        exported = None
        try:
            with open(export_path, encoding="utf-8") as fh:
                candidate = json.load(fh)
            if isinstance(candidate, dict) and candidate.get("nonce") == nonce:
                exported = candidate
        except (OSError, ValueError):
            exported = None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return cells, outcome, exported


def results_json(result: dict) -> dict:
    """The PrairieLearn-style ``results.json`` view of a result (what a student may see).

    Examples
    --------
    >>> results_json({"score": 1.0, "tests": [], "notes": ["x"], "sha256": "ab"})
    {'score': 1.0, 'tests': []}
    """
    keys = ("gradable", "score", "message", "tests", "student", "exercise", "variant",
            "status", "points", "max_points", "questions")
    return {k: result[k] for k in keys if k in result}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def grade_submission(path: str | os.PathLike, student_id: str | None = None,
                     options: GradeOptions | None = None,
                     exercise_id: str | None = None) -> dict:
    """Grade one submission; always returns a result dict (never raises for its content).

    Parameters
    ----------
    path : path-like
        The submitted ``.ipynb``.
    student_id : str, optional
        Default: :func:`student_id_for` ``(path)``.
    options : GradeOptions, optional
    exercise_id : str, optional
        Expected exercise; a notebook of another exercise gets status
        ``wrong_exercise``.  Default: the exercise the notebook names.

    Examples
    --------
    Broken files never reach a kernel; they get a row with a reason:

    >>> import tempfile, pathlib
    >>> empty = pathlib.Path(tempfile.mkdtemp()) / "alice" / "ex03_page_walks.ipynb"
    >>> empty.parent.mkdir(); _ = empty.write_text("")
    >>> r = grade_submission(empty)
    >>> r["student"], r["status"], r["reason"], r["points"]
    ('alice', 'empty', 'the file is empty', 0.0)
    """
    t0 = time.monotonic()
    options = options or GradeOptions()
    path = Path(path)
    sid = student_id if student_id is not None else student_id_for(path)
    result: dict = {"student": sid, "exercise": exercise_id or "", "variant": "",
                    "submission": str(path), "status": "", "reason": "", "points": 0.0,
                    "max_points": 0.0, "score": 0.0, "gradable": False, "questions": {},
                    "tests": [], "notes": [], "message": ""}

    def finish(status: str, reason: str, gradable: bool = False) -> dict:
        result.update(status=status, reason=reason, gradable=gradable,
                      runtime_s=round(time.monotonic() - t0, 2))
        if not result["message"]:
            result["message"] = reason
        return result

    try:
        check_student_id(sid)
    except (TypeError, ValueError) as exc:
        return finish("bad_student_id", str(exc))
    try:
        data = path.read_bytes()
    except OSError as exc:
        return finish("unreadable", f"cannot read the file: {exc.strerror}")
    result["sha256"] = _sha256(data)
    if not data.strip():
        return finish("empty", "the file is empty")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return finish("invalid_json", f"not valid JSON ({type(exc).__name__})")
    try:
        nb = nbformat.from_dict(raw)
        if not isinstance(raw, dict) or "cells" not in raw or not isinstance(raw["cells"], list):
            raise ValueError("no cells")
        for cell in nb.cells:
            if not isinstance(cell, dict) or "cell_type" not in cell:
                raise ValueError("malformed cell")
            if isinstance(cell.get("source"), list):
                cell["source"] = "".join(str(s) for s in cell["source"])
    except (ValueError, TypeError, AttributeError) as exc:
        return finish("not_a_notebook", f"not a Jupyter notebook ({exc})")
    claimed = exercise_id_of(nb)
    if claimed is None:
        return finish("not_an_exercise", "the notebook is not a virtlab exercise "
                      "(no exercise id in its metadata or setup cell)")
    if exercise_id is not None and claimed != exercise_id:
        return finish("wrong_exercise", f"expected exercise {exercise_id}, got {claimed}")
    result["exercise"] = claimed
    try:
        exercise = get_exercise(claimed)
        source = source_notebook(claimed, _solutions_dir(options))
    except (ValueError, OSError) as exc:
        return finish("not_an_exercise", f"unknown exercise {claimed!r} ({exc})")

    secret = load_secret(options.secret)
    seed = variant_seed(sid, exercise.id, secret)
    result["variant"] = variant_code(sid, exercise.id, secret)
    result["max_points"] = float(exercise.max_points)
    problem = exercise.make_problem(seed)
    solution = exercise.solve(problem)
    hidden = exercise.hidden_cases(problem, seed, secret)

    try:
        rebuilt = rebuild(nb, source, run_demos=options.run_demos)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        return finish("not_a_notebook", f"malformed notebook structure ({type(exc).__name__})")
    for cell in rebuilt.cells:  # no inline figures at grading (saves the backend import)
        cell.source = _MAGIC_MPL.sub("", cell.source)
    result["notes"] = rebuilt.notes
    spec = exercise.export_spec(problem, hidden, call_timeout=options.call_timeout)
    n_calls = sum(len(f["cases"]) for f in spec["functions"].values())
    export_timeout = options.call_timeout * n_calls + 30
    skipped_cells: list[str] = []
    first_outcome = None
    startups = 0
    for _attempt in range(5):
        cells, outcome, exported = _attempt_once(rebuilt.cells, seed, spec, options,
                                                 export_timeout)
        if outcome["dead"] == -1 and startups < 2:  # the kernel never started: retry
            startups += 1
            continue
        first_outcome = first_outcome or (cells, outcome)
        # A student cell that killed or hung the kernel loses only its own answer:
        # run again without it (at most twice), so the other answers still count.
        culprits = ([outcome["dead"]] if outcome["dead"] is not None and outcome["dead"] > 0
                    else []) + ([outcome["hung"]] if outcome["hung"] is not None else []) \
            + (outcome["timeouts"] if exported is None else [])
        culprits = sorted({i - 1 for i in culprits if (i - 1) in rebuilt.student_cells})
        if exported is not None or not culprits:
            break
        for i in culprits:
            skipped_cells.append(str(rebuilt.cells[i].metadata.get("virtlab_origin")))
            rebuilt.cells[i].source = "pass  # skipped by the grader: it stopped the kernel"
    cells, outcome = first_outcome  # status and reason describe what the submission did

    verdict = evaluate(exercise, problem, solution, exported or {}, hidden, seed)
    tests = []
    for qv in verdict.questions:
        scored = [t for t in qv.tests if t.scored]
        share = qv.max_points / len(scored) if scored else 0.0
        for t in qv.tests:
            tests.append({"name": f"{qv.id}: {t.name}", "question": qv.id,
                          "points": round(share, 4) if (t.scored and t.passed) else 0.0,
                          "max_points": round(share, 4) if t.scored else 0.0,
                          "message": t.message, "visibility": t.visibility})
    result.update(points=verdict.points, max_points=verdict.max_points,
                  questions={qv.id: qv.points for qv in verdict.questions}, tests=tests,
                  question_max={qv.id: qv.max_points for qv in verdict.questions},
                  score=round(verdict.points / verdict.max_points, 4))

    def origin(i: int) -> str:
        if i == 0:
            return "grader setup"
        if i == len(cells) - 1:
            return "grader export"
        return str(cells[i].metadata.get("virtlab_origin", f"cell {i}"))

    errors = [f"{origin(i)}: {name}" for i, name in outcome["errors"]]
    result["cell_errors"] = errors
    names = {name for _, name in outcome["errors"]}
    if outcome["dead"] is not None:
        where = origin(outcome["dead"]) if outcome["dead"] >= 0 else "start-up"
        status, reason = "kernel_died", f"the kernel died during {where}"
        if outcome.get("start_error"):
            reason += f" ({outcome['start_error']})"
    elif outcome["timeouts"] or outcome["skipped"]:
        where = ", ".join(origin(i) for i in outcome["timeouts"]) or "the notebook"
        status = "timeout"
        reason = f"time limit exceeded in {where}"
        if outcome["hung"] is not None:
            reason += " (the kernel ignored the interrupt)"
        if outcome["skipped"]:
            reason += f"; {outcome['skipped']} cell(s) skipped after the notebook time limit"
    elif "MemoryError" in names:
        where = ", ".join(origin(i) for i, n in outcome["errors"] if n == "MemoryError")
        status, reason = "memory_limit", f"memory limit exceeded in {where}"
    elif exported is None:
        status, reason = "export_failed", "the answers could not be exported"
    elif errors:
        status, reason = "ok", "graded; errors in " + "; ".join(errors[:5])
    else:
        status, reason = "ok", "graded"
    if skipped_cells:
        reason += ("; graded again without " + ", ".join(skipped_cells)
                   + (" (other answers kept)" if exported is not None else ""))
    if exported is None and status != "export_failed":
        reason += "; no answers could be exported"
    if rebuilt.notes:
        reason += "; repaired: " + "; ".join(rebuilt.notes[:5])
    result["message"] = (f"{verdict.points:g}/{verdict.max_points:g} points"
                         + ("" if status == "ok" else f" ({status}: {reason})"))
    return finish(status, reason, gradable=True)
