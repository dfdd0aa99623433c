"""``virtlab assign``: generate ``exercises/`` from the sources in ``solutions/``.

The generation is deterministic (cell ids and metadata come from the source),
so a test can demand that the committed ``exercises/`` equal a fresh
generation.  With a roster, per-student copies carry each student's variant
code in the ``VARIANT`` cell (codes are HMACs under the instructor secret).

Examples
--------
>>> import tempfile, nbformat
>>> from virtlab.grading.selftest import source_notebook
>>> d = Path(tempfile.mkdtemp())
>>> (d / "solutions").mkdir()
>>> nbformat.write(source_notebook(), d / "solutions" / "ex00_selftest.ipynb")
>>> assign(d / "solutions", d / "exercises")
['ex00_selftest.ipynb']
>>> assign(d / "solutions", d / "exercises", check=True)
[]
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import nbformat

from .notebook import cell_role, exercise_id_of, student_version
from .report import atomic_write
from .variants import check_student_id, variant_code

__all__ = ["generate", "assign", "release", "notebook_text"]


def notebook_text(nb) -> str:
    """Canonical JSON text of a notebook (validated).

    Examples
    --------
    >>> notebook_text(nbformat.v4.new_notebook())[-2:] == "}" + chr(10)
    True
    """
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def generate(solutions_dir: str | Path) -> dict[str, str]:
    """Exercise notebook texts by file name, generated from every source.

    Examples
    --------
    >>> from virtlab.paths import repo_root
    >>> "ex03_page_walks.ipynb" in generate(repo_root() / "solutions")
    True
    """
    out = {}
    for path in sorted(Path(solutions_dir).glob("ex*.ipynb")):
        source = nbformat.read(path, as_version=4)
        if exercise_id_of(source) != path.stem:
            raise ValueError(f"{path.name}: metadata virtlab.exercise must be {path.stem!r}")
        out[path.name] = notebook_text(student_version(source))
    return out


def assign(solutions_dir: str | Path, exercises_dir: str | Path,
           check: bool = False) -> list[str]:
    """Write (or with ``check=True`` only compare) the generated exercises.

    Returns the names of files that differ from a fresh generation (with
    ``check=False`` those are the files written); stale exercise files
    without a source are reported as ``"<name> (no source)"``.
    """
    fresh = generate(solutions_dir)
    exercises_dir = Path(exercises_dir)
    changed = []
    for name, text in fresh.items():
        target = exercises_dir / name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            changed.append(name)
            if not check:
                atomic_write(target, text)
    if exercises_dir.is_dir():
        for extra in sorted(exercises_dir.glob("ex*.ipynb")):
            if extra.name not in fresh:
                changed.append(f"{extra.name} (no source)")
    return changed


def _with_variant(nb, code: str):
    nb = nbformat.from_dict(nbformat.from_dict(nb))
    for cell in nb.cells:
        if cell_role(cell) == "variant":
            cell.source = re.sub(r"VARIANT\s*=\s*None", f'VARIANT = "{code}"', cell.source, 1)
    return nb


def release(solutions_dir: str | Path, roster: list[str], out_dir: str | Path,
            secret=None) -> str:
    """Per-student copies ``out_dir/<student>/<exercise>.ipynb`` with variant codes.

    Returns a CSV (student, exercise, variant code) for the instructor.

    Examples
    --------
    >>> import tempfile
    >>> from virtlab.grading.selftest import source_notebook
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "sol").mkdir()
    >>> nbformat.write(source_notebook(), d / "sol" / "ex00_selftest.ipynb")
    >>> print(release(d / "sol", ["ann"], d / "rel", secret=b"k").strip())
    student,exercise,variant
    ann,ex00_selftest,...
    >>> (d / "rel" / "ann" / "ex00_selftest.ipynb").is_file()
    True
    """
    fresh = generate(solutions_dir)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", "exercise", "variant"])
    for student in roster:
        check_student_id(student)
        for name, text in fresh.items():
            exercise_id = name[:-len(".ipynb")]
            code = variant_code(student, exercise_id, secret)
            nb = _with_variant(nbformat.reads(text, as_version=4), code)
            atomic_write(Path(out_dir) / student / name, notebook_text(nb))
            writer.writerow([student, exercise_id, code])
    return buf.getvalue()
