"""Subcommands of the ``virtlab`` command: ``assign``, ``grade``, ``check-solutions``.

:data:`COMMANDS` lists them; :func:`virtlab.cli.commands` puts them next to
the command line's own (this module never imports :mod:`virtlab.cli`).

Examples
--------
>>> sorted(COMMANDS)
['assign', 'check-solutions', 'grade', 'practice']
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..i18n import ENV, LANGUAGES, normalise_language
from ..paths import repo_root
from .assign import assign, release
from .batch import grade_many, merge_outputs, parse_shard, shard_from_env
from .checks import check_solutions
from .exercise import exercises
from .practice import format_practice, practice_problem, worked_solution
from .report import summary_text
from .runner import GradeOptions
from .sandbox import SandboxUnavailable
from .variants import SECRET_ENV

__all__ = ["COMMANDS", "editions", "assign_command", "grade_command", "check_solutions_command",
           "practice_command", "feedback_language"]

UNSAFE_WARNING = """\
virtlab grade: WARNING: --unsafe-no-sandbox: students' code runs with YOUR permissions.
  A submission can then read and change your files (the results, the installed
  package, the solutions), read the instructor secret, and leave processes behind
  that tamper with later submissions. Use it only for trusted notebooks.
"""


def _root() -> Path:
    return repo_root()


def _secret(args) -> bytes | None:
    if getattr(args, "secret_file", None):
        data = Path(args.secret_file).read_bytes().strip()
        if not data:
            raise SystemExit("virtlab: the secret file is empty")
        return data
    return None


def _assign_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--solutions", default=None, help="source notebooks (default solutions/)")
    p.add_argument("--exercises", default=None, help="output folder (default exercises/)")
    p.add_argument("--check", action="store_true",
                   help="only compare: exit 1 if exercises/ differs from a fresh generation")
    p.add_argument("--roster", default=None,
                   help="file with one student id per line: write per-student copies with "
                        "their variant codes to --release")
    p.add_argument("--release", default="release", help="folder for per-student copies")
    p.add_argument("--secret-file", default=None,
                   help="instructor secret (default: $VIRTLAB_GRADING_SECRET)")


def editions(solutions: str | None, exercises: str | None) -> list[tuple[Path, Path]]:
    """(sources, exercises) folder pairs: the given ones, else every edition of the course.

    Without ``--solutions``/``--exercises``: ``solutions/`` -> ``exercises/`` and,
    when the German edition exists, ``solutions/de/`` -> ``exercises/de/``.

    Examples
    --------
    >>> [(s.name, e.name) for s, e in editions(None, None)]
    [('solutions', 'exercises'), ('de', 'de')]
    >>> editions("a", "b")
    [(PosixPath('a'), PosixPath('b'))]
    """
    root = _root()
    if solutions or exercises:
        return [(Path(solutions) if solutions else root / "solutions",
                 Path(exercises) if exercises else root / "exercises")]
    pairs = [(root / "solutions", root / "exercises")]
    if (root / "solutions" / "de").is_dir():
        pairs.append((root / "solutions" / "de", root / "exercises" / "de"))
    return pairs


def assign_command(args, extra) -> int:
    """Generate exercises/ from solutions/ (or check that they agree), every edition."""
    changed = []
    for sol, exe in editions(args.solutions, args.exercises):
        root = _root().resolve()
        shown = exe.resolve().relative_to(root) if exe.resolve().is_relative_to(root) else exe
        changed += [f"{shown}/{name}" for name in assign(sol, exe, check=args.check)]
    sol, exe = editions(args.solutions, args.exercises)[0]
    if args.check:
        for name in changed:
            print(f"{name} differs from a fresh generation", file=sys.stderr)
        print("exercises are up to date" if not changed else
              "run `virtlab assign` and commit exercises/")
        return 1 if changed else 0
    print(f"generated {len(changed)} changed exercise notebook(s)"
          + (": " + ", ".join(changed) if changed else ""))
    if args.roster:
        roster = [line.strip() for line in Path(args.roster).read_text().splitlines()
                  if line.strip() and not line.startswith("#")]
        codes = release(sol, roster, args.release, _secret(args))
        (Path(args.release) / "variants.csv").write_text(codes)
        print(f"wrote per-student copies for {len(roster)} student(s) to {args.release} "
              f"(codes in {args.release}/variants.csv)")
    return 0


def _grade_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("submissions", nargs="*", help="notebooks or folders of notebooks")
    p.add_argument("--out", required=True, help="output folder for reports")
    p.add_argument("-j", "--jobs", type=int, default=1, help="parallel kernels")
    p.add_argument("--shard", default=None,
                   help="grade only shard i/n (e.g. 2/8); default: from a Kubernetes Indexed "
                        "Job (JOB_COMPLETION_INDEX, with --shards) or a Slurm array "
                        "(SLURM_ARRAY_TASK_ID), else everything")
    p.add_argument("--shards", type=int, default=None,
                   help="number of shards when the index comes from the environment")
    p.add_argument("--merge", nargs="+", default=None, metavar="SHARD_OUT",
                   help="merge the output folders of shard runs into --out (refuses "
                        "overlaps, reports missing shards and students); grades nothing")
    p.add_argument("--force", action="store_true", help="re-grade already graded submissions")
    p.add_argument("--exercise", default=None, help="expected exercise id")
    p.add_argument("--cell-timeout", type=float, default=30.0, help="seconds per cell")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per notebook")
    p.add_argument("--memory-mb", type=int, default=1024,
                   help="memory limit per kernel in MiB (0 = none)")
    p.add_argument("--call-timeout", type=float, default=2.0,
                   help="seconds per call of a student's function")
    p.add_argument("--run-demos", action="store_true", help="also run cells tagged demo")
    p.add_argument("--solutions", default=None,
                   help="source notebooks (default solutions/; may be a private folder "
                        "outside the public course)")
    p.add_argument("--secret-file", default=None,
                   help="instructor secret (default: $VIRTLAB_GRADING_SECRET)")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run students' code WITHOUT the bubblewrap sandbox (unsafe; only "
                        "for trusted notebooks)")
    p.add_argument("--lang", choices=LANGUAGES, default=None,
                   help="language of the students' feedback files (feedback/*.txt): en or "
                        "de; default: $VIRTLAB_LANG when set, else the edition each student "
                        "handed in. grades.csv and results/ are the same in every language")


def feedback_language(args, env=None) -> str | None:
    """The language of the feedback files: ``--lang``, else ``$VIRTLAB_LANG``, else None.

    None means: each student's feedback in the edition they handed in.

    Examples
    --------
    >>> import argparse
    >>> feedback_language(argparse.Namespace(lang=None), {"VIRTLAB_LANG": "de_DE.UTF-8"})
    'de'
    >>> feedback_language(argparse.Namespace(lang="en"), {"VIRTLAB_LANG": "de"})
    'en'
    >>> feedback_language(argparse.Namespace(lang=None), {}) is None
    True
    """
    if getattr(args, "lang", None):
        return args.lang
    value = (os.environ if env is None else env).get(ENV, "")
    return normalise_language(value) if value else None


def grade_command(args, extra) -> int:
    """Grade submissions; write results/, grades.csv, the summary and the feedback files."""
    if args.merge:
        if args.submissions:
            print("virtlab grade: --merge takes shard output folders, not submissions",
                  file=sys.stderr)
            return 2
        try:
            s = merge_outputs(args.merge, args.out, lang=feedback_language(args))
        except ValueError as exc:
            print(f"virtlab grade: {exc}", file=sys.stderr)
            return 2
        print(summary_text(s), end="")
        for i in s["missing_shards"]:
            print(f"virtlab grade: shard {i} is missing", file=sys.stderr)
        for student, exercise in s["missing"]:
            print(f"virtlab grade: no result for {student} / {exercise}", file=sys.stderr)
        return 1 if s["missing_shards"] or s["missing"] else 0
    if not args.submissions:
        print("virtlab grade: give submissions to grade (or --merge SHARD_OUT ...)",
              file=sys.stderr)
        return 2
    try:
        shard = (parse_shard(args.shard) if args.shard
                 else shard_from_env(total=args.shards) or (1, 1))
    except ValueError as exc:
        print(f"virtlab grade: {exc}", file=sys.stderr)
        return 2
    secret = _secret(args)
    if secret is None and not os.environ.get(SECRET_ENV):
        print(f"virtlab grade: warning: no instructor secret (set {SECRET_ENV} or "
              "--secret-file); using the public development secret", file=sys.stderr)
    if args.unsafe_no_sandbox:
        print(UNSAFE_WARNING, end="", file=sys.stderr)
    options = GradeOptions(cell_timeout=args.cell_timeout, notebook_timeout=args.timeout,
                           memory_mb=args.memory_mb or None, call_timeout=args.call_timeout,
                           run_demos=args.run_demos, secret=secret,
                           solutions_dir=args.solutions or (_root() / "solutions"),
                           sandbox=not args.unsafe_no_sandbox)
    try:
        s = grade_many(args.submissions, args.out, jobs=args.jobs, shard=shard,
                       force=args.force, options=options, exercise_id=args.exercise,
                       lang=feedback_language(args))
    except SandboxUnavailable as exc:
        print(f"virtlab grade: refusing to grade: {exc}.\n  Install bubblewrap, or pass "
              "--unsafe-no-sandbox for trusted notebooks only.", file=sys.stderr)
        return 2
    print(summary_text(s), end="")
    return 0


def _check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds", type=int, default=25, help="variants per exercise")
    p.add_argument("--kernel", action="store_true",
                   help="also grade each solution and exercise in a real kernel")
    p.add_argument("--only", nargs="*", default=None, help="exercise ids to check")
    p.add_argument("--solutions", default=None)
    p.add_argument("--exercises", default=None)


def check_solutions_command(args, extra) -> int:
    """Full marks for every solution, zero for every untouched exercise, and more (every edition)."""
    issues = []
    for sol, exe in editions(args.solutions, args.exercises):
        issues += check_solutions(sol, exe, seeds=args.seeds, kernel=args.kernel,
                                  only=args.only)
    for msg in issues:
        print(msg, file=sys.stderr)
    print(f"check-solutions: {'OK' if not issues else f'{len(issues)} problem(s)'}")
    return 1 if issues else 0


def _practice_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("exercise", help="exercise id or its number prefix, e.g. ex04 or "
                                    "ex04_credit_scheduler")
    p.add_argument("--seed", type=int, default=0,
                   help="practice problem number (any whole number >= 0; never a graded variant)")
    p.add_argument("--solve", action="store_true", help="also print the worked solution")


def practice_command(args, extra) -> int:
    """Print a practice problem (and with --solve its worked solution), as OSTEP's -s/-c."""
    known = sorted(e for e in exercises() if e != "ex00_selftest")
    match = [e for e in known if e == args.exercise or e.split("_")[0] == args.exercise]
    if len(match) != 1:
        print(f"virtlab practice: unknown exercise {args.exercise!r}; one of: "
              f"{', '.join(known)}", file=sys.stderr)
        return 2
    try:
        p = practice_problem(match[0], args.seed)
        steps = worked_solution(match[0], args.seed) if args.solve else []
    except (ValueError, TypeError) as exc:
        print(f"virtlab practice: {exc}", file=sys.stderr)
        return 2
    print(format_practice(p, steps))
    return 0


#: name -> (help, function adding arguments, function running the command)
COMMANDS: dict = {
    "practice": ("a fresh practice problem from a seed, --solve for the worked solution",
                 _practice_args, practice_command),
    "assign": ("generate exercises/ (and exercises/de/) from solutions/ (and solutions/de/); "
               "--check compares, --roster releases",
               _assign_args, assign_command),
    "grade": ("grade submissions in fresh kernels: virtlab grade SUBS... --out DIR -j N "
              "[--lang de]",
              _grade_args, grade_command),
    "check-solutions": ("every solution full marks, every untouched exercise zero, "
                        "hidden tests present, exercises/ up to date",
                        _check_args, check_solutions_command),
}
