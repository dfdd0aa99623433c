"""Grade one submission in a fresh, sandboxed kernel (nbclient); verdicts in this process.

:func:`grade_submission` never raises for a bad submission: whatever happens
(empty file, a FIFO or a symlink, broken JSON, a different notebook, an
endless loop, a crashed kernel, memory exhaustion, deleted or edited cells)
it returns a :class:`GradeResult` with a ``status`` and a ``reason``.

Before anything is read, the file is checked (:func:`read_submission`): a
regular file (no FIFO or device, no symlink leading out of the submissions
folder), at most :data:`MAX_BYTES`, JSON nested at most :data:`MAX_NESTING`
deep.  The student id comes from the submission's folder
(:func:`student_id_for`), never from the file name.

What runs in the kernel -- inside the bubblewrap sandbox of
:mod:`.sandbox`, which cannot see the grader's files, environment, processes
or the reference solvers -- in order:

1. the grader's first cell: memory limit, headless matplotlib, the student's
   variant *as data* (the problem the grader computed, its statement and the
   hints; :class:`~.session.GradingSession`) and the export function, bound
   before any student code runs;
2. the submission rebuilt on the exercise source (:func:`.notebook.rebuild`):
   locked and check cells from the source, the student's answer cells, demo
   cells skipped;
3. the grader's export cell: calls the export function with the answer
   names and the *inputs* of the public and hidden cases, writing plain JSON
   to a file whose random name and nonce exist only in that last cell.

Reference answers and verdicts are computed here, from that plain JSON
(:func:`.verdict.evaluate`); the kernel never holds a reference answer.
Cell outputs are capped and never read for scores; the kernel's stdout and
stderr go to a capped log that ends up in the report.

Examples
--------
>>> student_id_for("subs/alice/ex01_popek_goldberg.ipynb", root="subs")
'alice'
>>> student_id_for("subs/mallory/victim__ex03_page_walks.ipynb", root="subs")
'mallory'
>>> student_id_for("submitted/carol/ex03_page_walks/ex03_page_walks.ipynb", root="submitted")
'carol'
>>> student_id_for("course/submitted/carol/ps1/ex03_page_walks.ipynb", root="course")
'carol'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import secrets as _secrets
import shutil
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import zmq
import zmq.asyncio
from nbclient import NotebookClient

from . import _kernel
from .exercise import Function, Value, get_exercise, load_private
from .facade import facade_source, imported_names
from .notebook import exercise_id_of, language_of, manual_answers, rebuild, student_version
from .problem_data import encode
from .sandbox import (CappedKernelManager, PidsCgroup, SandboxedKernelManager, SandboxLimits, SandboxUnavailable,
                      check_sandbox, limits_preexec)
from .variants import SECRET_ENV, check_student_id, load_secret, variant_code, variant_seed
from .verdict import evaluate
from ..i18n import normalise_language, set_language
from ..paths import repo_root

__all__ = ["GradeOptions", "GradeResult", "grade_submission", "student_id_for", "solutions_dir_of",
           "source_notebook", "results_json", "read_submission", "SubmissionRejected",
           "MAX_BYTES", "MAX_NESTING"]

_MAGIC_MPL = re.compile(r"^[ \t]*%matplotlib[^\n]*$", re.M)

#: Largest submission file read (bytes).
MAX_BYTES = 16 * 2**20
#: Deepest JSON nesting accepted (a notebook needs about 6).
MAX_NESTING = 64
#: Output kept per cell and per notebook (characters); the rest is dropped.
CELL_OUTPUT_CAP = 64 * 1024
NOTEBOOK_OUTPUT_CAP = 1024 * 1024
#: Address space above ``memory_mb`` that the sandbox's backstop limit allows (MiB).
MEMORY_BACKSTOP_MB = 2048
#: Messages queued from a kernel, and the largest message accepted (bytes).
IOPUB_QUEUE = 128
MAX_MESSAGE = 8 * 2**20
#: Kernel stdout/stderr kept for the report (characters, the end of the log).
LOG_CAP = 4000
#: nbgrader's layout: <root>/submitted/<student>/<assignment>/<notebook>.ipynb
_NBGRADER_FOLDERS = ("submitted", "autograded")


@dataclass
class GradeOptions:
    """Limits and locations for grading (defaults suit a lab PC).

    Attributes
    ----------
    cell_timeout : float
        Seconds per cell before the kernel is interrupted.
    notebook_timeout : float
        Seconds for the whole notebook; all attempts together (a crashed
        cell is blanked and the notebook run again) take at most 1.5 times this.
    memory_mb : int or None
        Extra address space the kernel may allocate (None = no limit).
    call_timeout : float
        Seconds per call of a student's function on one input.
    run_demos : bool
        Also run cells tagged ``demo`` (widgets, plots).
    secret : bytes or None
        Instructor secret (default: ``VIRTLAB_GRADING_SECRET`` / development secret).
    solutions_dir : str or Path or None
        Folder of the source notebooks (default: the course's ``solutions/``);
        may be a private folder outside the public course.
    sandbox : bool
        Run kernels in the bubblewrap sandbox (:mod:`.sandbox`).  False is the
        instructor's explicit, unsafe opt-out (``--unsafe-no-sandbox``).
    limits : SandboxLimits
        Processes, file size, CPU time and ``/tmp`` size in the sandbox.

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
    sandbox: bool = True
    limits: SandboxLimits = field(default_factory=SandboxLimits)


@dataclass(frozen=True)
class GradeResult:
    """The outcome of grading one submission (what ``results/*.json`` stores).

    Attributes
    ----------
    student, exercise, submission : str
        Who (from the folder), which exercise, which file.
    status : str
        ``ok``, ``timeout``, ``kernel_died``, ``memory_limit``, ``export_failed``,
        ``empty``, ``invalid_json``, ``not_a_notebook``, ``not_an_exercise``,
        ``wrong_exercise``, ``unreadable``, ``unsafe_file``, ``too_large``,
        ``bad_student_id``, ``duplicate``, ``no_sandbox`` or ``grader_error``.
    reason : str
        Why, in words (for the instructor).
    gradable : bool
        True when the notebook ran and points were computed.
    points, max_points, score : float
    variant : str
        The variant code (empty when never graded).
    questions, question_max : dict
        Points and maximum per question id.
    tests : tuple of dict
        PrairieLearn-style tests (name, points, max_points, message, visibility), plus
        each test's status ``code`` and ``params`` (:mod:`.verdict`): the feedback
        files render their messages from these in the student's language; ``name``
        and ``message`` stay English, so results are the same in every language.
    edition : str
        The course edition the submission was written in (``"en"`` or ``"de"``;
        empty when the file was never read as a notebook).
    hints : dict
        The instructor's hint per autograded question (the catalogue's English
        key; the feedback files show it in the student's language).
    manual : tuple of dict
        Manually graded answers (grade id, points available, answer text): pending.
    notes, cell_errors : tuple of str
    kernel_log : str
        The end of the kernel's stdout/stderr (never shown on the console).
    sha256 : str or None
        Checksum of the file graded.
    sandboxed : bool
    runtime_s : float

    Examples
    --------
    >>> r = GradeResult("ann", "ex00_selftest", "ann/ex00_selftest.ipynb", "empty", "x")
    >>> r.points, r.to_dict()["status"], GradeResult.from_dict(r.to_dict()) == r
    (0.0, 'empty', True)
    """

    student: str
    exercise: str
    submission: str
    status: str
    reason: str
    gradable: bool = False
    points: float = 0.0
    max_points: float = 0.0
    score: float = 0.0
    variant: str = ""
    questions: dict = field(default_factory=dict)
    question_max: dict = field(default_factory=dict)
    tests: tuple = ()
    manual: tuple = ()
    notes: tuple = ()
    cell_errors: tuple = ()
    kernel_log: str = ""
    message: str = ""
    sha256: str | None = None
    sandboxed: bool = False
    runtime_s: float = 0.0
    edition: str = ""
    hints: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON form (tuples become lists)."""
        d = dataclasses.asdict(self)
        for k in ("tests", "manual", "notes", "cell_errors"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "GradeResult":
        """Read a stored result back (unknown keys ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in data.items() if k in names}
        for k in ("tests", "manual", "notes", "cell_errors"):
            if k in kw:
                kw[k] = tuple(kw[k])
        return cls(**kw)


class SubmissionRejected(Exception):
    """A file that is not read (status and reason for the report)."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def student_id_for(path: str | os.PathLike, root: str | os.PathLike | None = None) -> str:
    """The student id of a submission: the folder it was handed in from.

    With ``root`` (the submissions folder given to ``virtlab grade``) the id
    is the first folder below it (after nbgrader's ``submitted/``);
    without, the file's own folder.  Nothing in the file name counts, so
    ``mallory/victim__ex03.ipynb`` is mallory's.  A file directly in
    ``root`` has no student: ``""`` (graded as ``bad_student_id``).
    """
    p = Path(os.path.abspath(path))
    if root is None:
        return p.parent.name
    try:
        parts = list(p.relative_to(os.path.abspath(root)).parts[:-1])
    except ValueError:
        return p.parent.name
    if len(parts) > 1 and parts[0] in _NBGRADER_FOLDERS:
        parts = parts[1:]
    return parts[0] if parts else ""


def read_submission(path: str | os.PathLike, root: str | os.PathLike | None = None,
                    max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a submission, after checking the file is safe to read.

    Refused (:class:`SubmissionRejected`): a symlink (or a path through one)
    leading out of ``root`` (default: the file's folder), anything but a
    regular file (FIFO, device, socket, folder), a file over ``max_bytes``.
    The file is opened without following a final symlink and without
    blocking, and at most ``max_bytes + 1`` bytes are read.

    Examples
    --------
    >>> d = Path(tempfile.mkdtemp()); os.mkfifo(d / "f.ipynb")
    >>> read_submission(d / "f.ipynb")
    Traceback (most recent call last):
    ...
    virtlab.grading.runner.SubmissionRejected: not a regular file (a FIFO)
    """
    path = Path(path)
    base = os.path.realpath(root if root is not None else path.parent)
    real = os.path.realpath(path)
    if os.path.commonpath([base, real]) != base:
        raise SubmissionRejected("unsafe_file", "a symbolic link out of the submissions "
                                 "folder (not read)")
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise SubmissionRejected("unreadable", f"cannot read the file: {exc.strerror}") \
            from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise SubmissionRejected("unreadable", "cannot read the file: it is a folder")
        if not stat.S_ISREG(st.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else
                    "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
                    "a socket or other")
            raise SubmissionRejected("unsafe_file", f"not a regular file ({kind})")
        if st.st_size > max_bytes:
            raise SubmissionRejected("too_large", f"the file has {st.st_size} bytes; at most "
                                     f"{max_bytes} are graded")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise SubmissionRejected("too_large", f"the file has more than {max_bytes} bytes")
        return b"".join(chunks)
    except OSError as exc:
        raise SubmissionRejected("unreadable", f"cannot read the file: {exc.strerror}") \
            from None
    finally:
        os.close(fd)


def _nesting(value) -> int:
    """Depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (list, dict)):
            deepest = max(deepest, d)
            if d > MAX_NESTING:
                return d
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


def parse_notebook_bytes(data: bytes):
    """bytes → (raw dict, notebook) or :class:`SubmissionRejected` (status, reason)."""
    if not data.strip():
        raise SubmissionRejected("empty", "the file is empty")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SubmissionRejected("invalid_json", f"not valid JSON ({type(exc).__name__})") \
            from None
    except RecursionError:
        raise SubmissionRejected("invalid_json", "not valid JSON (nested too deeply)") \
            from None
    if _nesting(raw) > MAX_NESTING:
        raise SubmissionRejected("invalid_json", f"JSON nested deeper than {MAX_NESTING}")
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
        raise SubmissionRejected("not_a_notebook", f"not a Jupyter notebook ({exc})") \
            from None
    return raw, nb


_PRIVATE_LOADED: set = set()


def solutions_dir_of(options: GradeOptions) -> Path:
    """The source notebooks' folder; private exercise modules in it are registered once."""
    folder = (Path(options.solutions_dir) if options.solutions_dir is not None
              else repo_root() / "solutions")
    key = str(folder.resolve())
    if key not in _PRIVATE_LOADED:
        _PRIVATE_LOADED.add(key)
        load_private(folder)
    return folder


_SOURCE_CACHE: dict = {}


def source_notebook(exercise_id: str, solutions_dir: str | Path, language: str | None = None):
    """The student version generated from ``solutions_dir/<id>.ipynb`` (cached).

    With ``language`` (a submission's ``metadata.virtlab.language``, e.g.
    ``"de"``) the source of that edition, ``solutions_dir/<language>/<id>.ipynb``,
    when it exists: a German submission is rebuilt on the German source (same
    exercise, same grade ids; its translated Markdown is not an edited cell).

    Examples
    --------
    >>> nb = source_notebook("ex03_page_walks", repo_root() / "solutions")
    >>> "BEGIN SOLUTION" in str(nb.cells)
    False
    >>> de = source_notebook("ex03_page_walks", repo_root() / "solutions", language="de")
    >>> de.metadata["virtlab"]["language"], de.cells[0].metadata["nbgrader"]["grade_id"]
    ('de', 'language')
    """
    path = Path(solutions_dir) / f"{exercise_id}.ipynb"
    if isinstance(language, str) and re.fullmatch(r"[a-z]{2}", language):
        edition = Path(solutions_dir) / language / f"{exercise_id}.ipynb"
        path = edition if edition.is_file() else path
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _SOURCE_CACHE:
        _SOURCE_CACHE[key] = student_version(nbformat.read(path, as_version=4))
    return _SOURCE_CACHE[key]


def kernel_view(exercise, problem, seed: int, language: str | None = None) -> dict:
    """What the grading kernel learns of the variant: data, never a solver.

    The statement (``describe``) is worded in ``language``, the submission's
    edition (default: the current language), because the sandboxed kernel
    cannot build it; the title and the hints stay their English msgids, which
    the kernel translates where it shows them.

    Examples
    --------
    >>> from virtlab.grading.selftest import EXERCISE as ex
    >>> sorted(kernel_view(ex, ex.make_problem(3), 3))
    ['describe', 'exercise', 'hints', 'problem', 'seed', 'title']
    >>> kernel_view(ex, {"n": 2, "m": 3, "pairs": []}, 3, "de")["describe"].splitlines()[0]
    'Ein Gast verwendet Seitentabellen mit 2 Stufen, der Wirt 3 Stufen.'
    """
    lang = normalise_language(language) if isinstance(language, str) else None
    previous = set_language(lang) if lang else None
    try:
        describe = exercise.describe(problem) if exercise.describe else repr(problem)
    finally:
        if previous is not None:
            set_language(previous)
    return {"exercise": exercise.id, "title": exercise.title, "seed": int(seed),
            "problem": encode(problem), "describe": describe,
            "hints": {q.id: q.hint for q in exercise.questions}}


def _preamble(view: dict, memory_mb: int | None, exporter: str) -> str:
    limit = "None" if memory_mb is None else str(int(memory_mb) * 2**20)
    source = Path(_kernel.__file__).read_text(encoding="utf-8")
    return f"""\
# virtlab grader: limits, the variant as data, the export (not part of the submission)
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
import sys as _vg_sys


class _VgCapped:
    # printed output is cut at the source (the grader also drops it at its socket)
    def __init__(self, stream, budget):
        self._vg_stream, self._vg_budget = stream, budget

    def write(self, text):
        keep = text[:max(self._vg_budget, 0)]
        self._vg_budget -= len(text)
        if keep:
            self._vg_stream.write(keep)
        return len(text)

    def __getattr__(self, name):
        return getattr(self._vg_stream, name)


_vg_sys.stdout = _VgCapped(_vg_sys.stdout, {NOTEBOOK_OUTPUT_CAP // 2})
_vg_sys.stderr = _VgCapped(_vg_sys.stderr, {NOTEBOOK_OUTPUT_CAP // 2})
import json as _vg_json
import virtlab.grading.session as _vg_session
_vg_session._enter_grading(_vg_json.loads({json.dumps(view)!r}))
_vg_ns = {{'__name__': '_virtlab_export'}}
exec(compile({source!r}, '<virtlab-export>', 'exec'), _vg_ns)
{exporter} = _vg_ns['_make_exporter']()
del _vg_os, _vg_extra, _vg_session, _vg_ns, _vg_json, _vg_sys
"""


def _export_cell(exporter: str, spec: dict, path: str, nonce: str) -> str:
    # no name a student could replace is resolved here but the exporter's own
    return ("# virtlab grader: export plain answers (not part of the submission)\n"
            f"{exporter}({json.dumps(spec)!r}, {path!r}, {nonce!r})\n")


def _kernel_env(sandboxed: bool) -> dict:
    if sandboxed:  # bwrap clears it anyway; give the launcher nothing to leak either
        return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    env = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    env.update(PYTHONHASHSEED="0", MPLBACKEND="Agg")
    return env


#: Instructor cells (setup, checks, demos) get at least this many seconds, so that a
#: loaded machine cannot make a short --cell-timeout fail the course's own code.
INSTRUCTOR_CELL_TIMEOUT = 60.0


class _CappedClient(NotebookClient):
    """nbclient that keeps at most a capped amount of output per cell and notebook."""

    def output(self, outs, msg, display_id, cell_index):
        used = getattr(self, "_vg_used", None)
        if used is None:
            used = self._vg_used = {"total": 0}
        size = len(str(msg.get("content", "")))
        cell = used.get(cell_index, 0) + size
        if cell > CELL_OUTPUT_CAP or used["total"] + size > NOTEBOOK_OUTPUT_CAP:
            self._vg_truncated = True
            return None
        used[cell_index] = cell
        used["total"] += size
        return super().output(outs, msg, display_id, cell_index)


def exercise_facade(exercise, source) -> dict[str, str]:
    """Files of the sandbox's ``virtlab/grading/exercises`` folder for ``exercise``.

    Only what the exercise's own notebook cells import from its module
    (:func:`.facade.facade_source`); never a solver.
    """
    files = {"__init__.py": '"""Exercise modules, as a grading kernel sees them."""\n'}
    module = sys.modules.get(getattr(exercise.make_problem, "__module__", ""))
    wanted = imported_names([c.source for c in source.cells if c.cell_type == "code"],
                            exercise.id)
    if module is not None and wanted:
        student = [q.name for q in exercise.questions if isinstance(q, Function)]
        files[f"{exercise.id}.py"] = facade_source(module, wanted, student)
        # shared helper modules of the exercises (``_guest``: building a variant's
        # guest program) come along as they are: they hold no reference answers
        for helper in sorted(set(re.findall(r"from virtlab\.grading\.exercises\.(_\w+) import",
                                            files[f"{exercise.id}.py"]))):
            path = Path(module.__file__).with_name(f"{helper}.py")
            files[f"{helper}.py"] = path.read_text(encoding="utf-8")
    return files


def _execute(cells: list, options: GradeOptions, export_timeout: float, workdir: str,
             time_left: float, facade: dict | None = None) -> dict:
    """Run cells in a fresh kernel; return per-cell errors and how it ended."""
    from nbclient.exceptions import DeadKernelError

    nb = nbformat.v4.new_notebook(cells=list(cells))  # nbclient may replace list items
    nb.metadata["kernelspec"] = {"name": options.kernel_name, "display_name": "Python 3",
                                 "language": "python"}
    conn_dir = os.path.join(workdir, "conn")
    scratch = os.path.join(workdir, "scratch")
    os.makedirs(conn_dir)
    os.makedirs(scratch)
    replies: dict[int, dict] = {}
    client = _CappedClient(
        nb, timeout=max(1, int(options.cell_timeout)), kernel_name=options.kernel_name,
        allow_errors=True, interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": "cell timed out",
                          "traceback": []},
        record_timing=False, startup_timeout=60, shutdown_kernel="immediate",
        resources={"metadata": {"path": scratch}})
    client.kernel_manager_class = (SandboxedKernelManager if options.sandbox
                                   else CappedKernelManager)
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__(
        cell_index, execute_reply or {})
    outcome = {"errors": [], "dead": None, "skipped": 0, "timeouts": [], "hung": None,
               "log": ""}
    deadline = time.monotonic() + min(options.notebook_timeout, time_left)
    last = len(cells) - 1
    # IPC sockets in the private connection folder: no TCP port races between
    # parallel kernels (-j N), nothing listening on the network, and the only
    # host folder (with the scratch folder) the sandbox may write to
    km = client.create_kernel_manager()
    # a flood of output is dropped at the socket, not buffered in the grader: at
    # most IOPUB_QUEUE messages queue up, and no message may exceed MAX_MESSAGE
    km.context = zmq.asyncio.Context()
    km.context.setsockopt(zmq.RCVHWM, IOPUB_QUEUE)
    km.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
    km.transport = "ipc"
    km.ip = os.path.join(conn_dir, "kernel")
    km.connection_file = os.path.join(conn_dir, "kernel.json")
    cgroup = None
    if options.sandbox:
        km.sandbox_conn_dir, km.sandbox_scratch_dir = conn_dir, scratch
        if facade:
            km.sandbox_facade_dir = os.path.join(workdir, "facade")
            os.makedirs(km.sandbox_facade_dir)
            for name, text in facade.items():
                Path(km.sandbox_facade_dir, name).write_text(text, encoding="utf-8")
        cgroup = PidsCgroup.create(options.limits.processes)
    # the grader's first cell sets the real memory limit (the kernel's size at
    # start + memory_mb); the launcher's limit is only a backstop above it
    limits = dataclasses.replace(
        options.limits, memory_mb=None if options.memory_mb is None
        else int(options.memory_mb) + MEMORY_BACKSTOP_MB)
    if options.sandbox:
        km.sandbox_limits = limits
    log_path = os.path.join(workdir, "kernel.log")
    try:
        with open(log_path, "wb") as log, client.setup_kernel(
                env=_kernel_env(options.sandbox), stdout=log, stderr=log,
                preexec_fn=limits_preexec(limits, cgroup) if options.sandbox
                else None):
            for i, cell in enumerate(cells):
                remaining = deadline - time.monotonic()
                if i == last:
                    client.timeout = max(1, int(min(export_timeout,
                                                    max(remaining, 0) + export_timeout / 2)))
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
                    ename = _kernel.clean_name(content.get("ename", "Error"))
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
    finally:
        if cgroup is not None:
            cgroup.remove()  # kills anything left (root: RLIMIT_NPROC does not apply)
        km.context.destroy(linger=0)
    outcome["truncated"] = bool(getattr(client, "_vg_truncated", False))
    outcome["log"] = _tail(log_path)
    return outcome


def _tail(path: str) -> str:
    """The end of the kernel log, printable characters only."""
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, os.path.getsize(path) - LOG_CAP))
            text = fh.read(LOG_CAP).decode("utf-8", "replace")
    except OSError:
        return ""
    return "".join(c if c.isprintable() or c == "\n" else "?" for c in text)


def _attempt_once(rebuilt_cells, view, spec, options, export_timeout, time_left, facade):
    """One kernel run: grader cell, rebuilt cells, export cell → (cells, outcome, export)."""
    workdir = tempfile.mkdtemp(prefix="virtlab-grade-")
    try:
        export_path = os.path.join(workdir, "scratch", f"export-{_secrets.token_hex(8)}.json")
        nonce = _secrets.token_hex(16)
        exporter = f"_vg_export_{_secrets.token_hex(6)}"
        cells = ([nbformat.v4.new_code_cell(_preamble(view, options.memory_mb, exporter))]
                 + [nbformat.v4.new_code_cell(c.source, metadata=dict(c.metadata))
                    for c in rebuilt_cells]
                 + [nbformat.v4.new_code_cell(_export_cell(exporter, spec, export_path,
                                                           nonce))])
        outcome = _execute(cells, options, export_timeout, workdir, time_left, facade)
        exported = None
        try:
            data = read_submission(export_path, max_bytes=MAX_BYTES)
            candidate = json.loads(data.decode("utf-8"))
            if (isinstance(candidate, dict) and candidate.get("nonce") == nonce
                    and _nesting(candidate) <= MAX_NESTING):
                exported = candidate
        except (SubmissionRejected, ValueError, RecursionError):
            exported = None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return cells, outcome, exported


def results_json(result: GradeResult | dict) -> dict:
    """The PrairieLearn-style ``results.json`` view of a result (what a student may see).

    Examples
    --------
    >>> results_json({"score": 1.0, "tests": [], "notes": ["x"], "sha256": "ab"})
    {'score': 1.0, 'tests': []}
    """
    data = result.to_dict() if isinstance(result, GradeResult) else result
    keys = ("gradable", "score", "message", "tests", "student", "exercise", "variant",
            "status", "points", "max_points", "questions")
    return {k: data[k] for k in keys if k in data}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def grade_submission(path: str | os.PathLike, student_id: str | None = None,
                     options: GradeOptions | None = None,
                     exercise_id: str | None = None,
                     root: str | os.PathLike | None = None) -> GradeResult:
    """Grade one submission; always returns a :class:`GradeResult` (never raises for its content).

    Parameters
    ----------
    path : path-like
        The submitted ``.ipynb``.
    student_id : str, optional
        Default: :func:`student_id_for` ``(path, root)`` -- the folder.
    options : GradeOptions, optional
    exercise_id : str, optional
        Expected exercise; a notebook of another exercise gets status
        ``wrong_exercise``.  Default: the exercise the notebook names.
    root : path-like, optional
        The submissions folder: symlinks may not lead out of it (default:
        the file's folder), and the student id is the first folder below it.

    Examples
    --------
    Broken files never reach a kernel; they get a row with a reason:

    >>> import tempfile, pathlib
    >>> empty = pathlib.Path(tempfile.mkdtemp()) / "alice" / "ex03_page_walks.ipynb"
    >>> empty.parent.mkdir(); _ = empty.write_text("")
    >>> r = grade_submission(empty)
    >>> r.student, r.status, r.reason, r.points
    ('alice', 'empty', 'the file is empty', 0.0)
    """
    t0 = time.monotonic()
    options = options or GradeOptions()
    path = Path(path)
    sid = student_id if student_id is not None else student_id_for(path, root)
    base = {"student": sid, "exercise": exercise_id or "", "submission": str(path)}

    def stop(status: str, reason: str, **more) -> GradeResult:
        return GradeResult(status=status, reason=reason,
                           runtime_s=round(time.monotonic() - t0, 2),
                           **{"message": reason, **base, **more})

    try:
        check_student_id(sid)
    except (TypeError, ValueError) as exc:
        return stop("bad_student_id", f"{exc} (the student id is the submission's folder)")
    try:
        data = read_submission(path, root)
        base["sha256"] = _sha256(data)
        raw, nb = parse_notebook_bytes(data)
    except SubmissionRejected as exc:
        return stop(exc.status, exc.reason)
    base["edition"] = language_of(nb) or "en"
    claimed = exercise_id_of(nb)
    if claimed is None:
        return stop("not_an_exercise", "the notebook is not a virtlab exercise "
                    "(no exercise id in its metadata or setup cell)")
    if exercise_id is not None and claimed != exercise_id:
        return stop("wrong_exercise", f"expected exercise {exercise_id}, got {claimed[:80]}")
    base["exercise"] = claimed
    try:
        sol_dir = solutions_dir_of(options)  # registers private exercise modules first
        exercise = get_exercise(claimed)
        source = source_notebook(claimed, sol_dir, language_of(nb))
    except (ValueError, OSError) as exc:
        return stop("not_an_exercise", f"unknown exercise {claimed[:80]!r} ({exc})"[:300])
    if options.sandbox:
        try:
            check_sandbox()
        except SandboxUnavailable as exc:
            return stop("no_sandbox", f"not graded: {exc}")

    secret = load_secret(options.secret)
    seed = variant_seed(sid, exercise.id, secret)
    base["variant"] = variant_code(sid, exercise.id, secret)
    problem = exercise.make_problem(seed)
    solution = exercise.solve(problem)
    hidden = exercise.hidden_cases(problem, seed, secret)
    view = kernel_view(exercise, problem, seed, base["edition"])
    facade = exercise_facade(exercise, source)

    try:
        rebuilt = rebuild(nb, source, run_demos=options.run_demos)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        return stop("not_a_notebook", f"malformed notebook structure ({type(exc).__name__})")
    manual = tuple(manual_answers(nb, source))
    for cell in rebuilt.cells:  # no inline figures at grading (saves the backend import)
        cell.source = _MAGIC_MPL.sub("", cell.source)
    spec = exercise.export_spec(problem, hidden, call_timeout=options.call_timeout)
    n_calls = sum(len(f["cases"]) for f in spec["functions"].values())
    export_timeout = options.call_timeout * n_calls + 30
    skipped_cells: list[str] = []
    first_outcome = None
    startups = 0
    # every attempt together: at most 1.5 x the notebook time limit
    budget_end = t0 + 1.5 * options.notebook_timeout
    logs: list[str] = []
    truncated = False
    exported = None
    for _attempt in range(5):
        time_left = budget_end - time.monotonic()
        if first_outcome is not None and time_left < min(10.0, options.notebook_timeout / 4):
            break
        cells, outcome, exported = _attempt_once(rebuilt.cells, view, spec, options,
                                                 export_timeout, max(time_left, 1.0), facade)
        logs.append(outcome["log"])
        truncated = truncated or outcome["truncated"]
        if outcome["dead"] == -1 and startups < 2:  # the kernel never started: retry
            startups += 1
            first_outcome = first_outcome or None
            continue
        first_outcome = first_outcome or (cells, outcome)
        # A student cell that killed or hung the kernel loses only its own answer:
        # run again without it, so the other answers still count.
        culprits = ([outcome["dead"]] if outcome["dead"] is not None and outcome["dead"] > 0
                    else []) + ([outcome["hung"]] if outcome["hung"] is not None else []) \
            + (outcome["timeouts"] if exported is None else [])
        culprits = sorted({i - 1 for i in culprits if (i - 1) in rebuilt.student_cells})
        if exported is not None or not culprits:
            break
        for i in culprits:
            skipped_cells.append(str(rebuilt.cells[i].metadata.get("virtlab_origin")))
            rebuilt.cells[i].source = "pass  # skipped by the grader: it stopped the kernel"
    if first_outcome is None:  # the kernel never started
        first_outcome = (cells, outcome)
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
                          "message": t.text("en"), "code": t.code, "params": t.params,
                          "visibility": t.visibility})

    def origin(i: int) -> str:
        if i == 0:
            return "grader setup"
        if i == len(cells) - 1:
            return "grader export"
        return str(cells[i].metadata.get("virtlab_origin", f"cell {i}"))

    # the export cell calls the student's functions on hidden inputs: its error
    # name is student-controlled and is never reported
    errors = [f"{origin(i)}: " + (name if i != len(cells) - 1 else "failed")
              for i, name in outcome["errors"]]
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
    if truncated:
        reason += "; output over the cap was dropped"
    if manual:
        pending = sum(float(m["points"]) for m in manual)
        reason += f"; {pending:g} point(s) of manually graded answers pending"
    message = (f"{verdict.points:g}/{verdict.max_points:g} points"
               + ("" if status == "ok" else f" ({status}: {reason})"))
    return stop(status, reason, gradable=True, points=verdict.points,
                max_points=verdict.max_points,
                score=round(verdict.points / verdict.max_points, 4),
                questions={qv.id: qv.points for qv in verdict.questions},
                question_max={qv.id: qv.max_points for qv in verdict.questions},
                hints={q.id: q.hint for q in exercise.questions
                       if isinstance(q, (Value, Function))},
                tests=tuple(tests), manual=manual, notes=tuple(rebuilt.notes),
                cell_errors=tuple(errors), kernel_log="\n".join(x for x in logs if x)[-LOG_CAP:],
                message=message, sandboxed=bool(options.sandbox))
