"""The course as files: where the notebooks live, a student's copy, the lab's course view.

A checkout holds the course beside the package (``notebooks/``,
``exercises/``, ``docs/``); the built wheel carries the same files inside the
package, in ``virtlab/_course/`` (``setup.py`` copies them there at build
time).  :func:`course_source` finds whichever is present, so the functions
below work the same in a checkout and after ``pip install virtlab``.

- :func:`copy_course` writes a student's copy: notebooks, exercises, the
  glossary (``glossary.md``, generated from :data:`virtlab.glossary.TERMS`;
  the German edition's ``glossary.de.md`` beside it) and the slide errata.  It
  remembers what it wrote (``.virtlab-course.json``) and refuses to overwrite a file
  the student has changed, unless forced.
- :func:`course_view` builds the folder ``virtlab lab`` serves in a checkout:
  ``course/`` with links to ``notebooks/`` and ``exercises/``, the errata and
  the glossary — the course, without the developer tree around it.

Examples
--------
>>> import tempfile
>>> dest = Path(tempfile.mkdtemp()) / "my-course"
>>> report = copy_course(dest)
>>> sorted(p.name for p in dest.iterdir())
['.virtlab-course.json', 'docs', 'exercises', 'glossary.de.md', 'glossary.md', 'notebooks']
>>> (dest / "notebooks" / "00_start_here.ipynb").is_file()
True
>>> copy_course(dest).written      # nothing changed since: nothing to write
[]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course import TOPICS
from .errors import check_choice
from .glossary import TERMS
from .i18n import LANGUAGES, N_, translations

__all__ = ["CopyReport", "CourseConflict", "GLOSSARY_PAGES", "copy_course", "course_source",
           "course_view", "glossary_markdown", "heading_cell_ids", "lab_root", "student_files"]

#: The glossary page of each edition, beside each other in the course folder:
#: file name → language (the German edition's notebooks live in ``notebooks/de/``).
GLOSSARY_PAGES = {"glossary.md": "en", "glossary.de.md": "de"}

_PACKAGE = Path(__file__).resolve().parent
MANIFEST = ".virtlab-course.json"


def course_source() -> Path:
    """The folder holding ``notebooks/``, ``exercises/`` and ``docs/``.

    ``virtlab/_course`` in an installed wheel, else the checkout around the package.
    """
    for candidate in (_PACKAGE / "_course", _PACKAGE.parent):
        if (candidate / "notebooks").is_dir() and (candidate / "exercises").is_dir():
            return candidate
    raise FileNotFoundError(
        f"the course files are missing: neither {_PACKAGE / '_course'} (installed wheel) nor "
        f"{_PACKAGE.parent} (checkout) holds notebooks/ and exercises/")


def glossary_markdown(language: str = "en") -> str:
    """The glossary (German, English, meaning, notebook) as a markdown page.

    Parameters
    ----------
    language : str
        The edition the page is for: ``"en"`` (``glossary.md``) or ``"de"``
        (``glossary.de.md``): headings, introduction and the meanings
        (:attr:`virtlab.glossary.Term.meaning`) in that language, whatever the
        current language is.  The term columns are the same in both.

    Examples
    --------
    >>> glossary_markdown().splitlines()[0]
    '# Glossary (*Glossar*)'
    >>> glossary_markdown("de").splitlines()[0]
    '# Glossar (*Glossary*)'
    """
    check_choice("language", language, LANGUAGES)
    tr = translations(language).gettext

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [tr(N_("# Glossary (*Glossar*)")), "",
             tr(N_("The lecture's German terms with their English equivalents, in course "
                   "order. Notebook 00 has a search box for them.")), "",
             tr(N_("| Deutsch | English | meaning | notebook |")), "|---|---|---|---|"]
    also = tr(N_("also: {names}"))
    for t in TERMS:
        de = t.de + (f" ({also.format(names=', '.join(t.synonyms))})" if t.synonyms else "")
        lines.append(f"| {cell(de)} | {cell(t.en)} | {cell(tr(t.definition))} "
                     f"| {t.notebook} |")
    return "\n".join(lines) + "\n"


def student_files(source: Path | None = None) -> dict[str, bytes]:
    """What a student gets: relative path → content.

    Every notebook of ``notebooks/`` and every exercise in ``exercises/`` (whatever
    is there, not a fixed list), the glossary pages of both editions
    (:data:`GLOSSARY_PAGES`) and ``docs/errata.md`` (the path the notebooks link to).
    """
    src = course_source() if source is None else Path(source)
    files: dict[str, bytes] = {}
    for folder in ("notebooks", "notebooks/de", "exercises"):    # de: the German edition
        for path in sorted((src / folder).glob("*.ipynb")):
            files[f"{folder}/{path.name}"] = path.read_bytes()
    for name, language in GLOSSARY_PAGES.items():
        files[name] = glossary_markdown(language).encode()
    errata = src / "docs" / "errata.md"
    if errata.is_file():
        files["docs/errata.md"] = errata.read_bytes()
    return files


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class CourseConflict(Exception):
    """Files in the destination that the student changed (or that were not ours).

    Attributes
    ----------
    paths : list of str
        The relative paths that would have been overwritten.
    """

    def __init__(self, paths: list[str]):
        self.paths = paths
        super().__init__(
            f"{len(paths)} file(s) changed since they were copied (or not written by "
            f"virtlab): {', '.join(paths)}; nothing was written — use force=True "
            "(--force) to overwrite them")


@dataclass
class CopyReport:
    """What :func:`copy_course` did: relative paths written and left alone."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def copy_course(dest: str | os.PathLike, force: bool = False,
                source: Path | None = None) -> CopyReport:
    """Copy the student files (:func:`student_files`) into ``dest``.

    A file already in ``dest`` is replaced only if it is still exactly what an
    earlier copy wrote (so course updates arrive) or ``force`` is true.  If
    any file would overwrite a student's change, :class:`CourseConflict` is
    raised before anything is written.

    Parameters
    ----------
    dest : path
        The student's course folder (created if missing).
    force : bool
        Overwrite changed files too.
    source : path, optional
        Course folder to copy from (default :func:`course_source`).

    Returns
    -------
    CopyReport
    """
    if not isinstance(force, bool):
        raise TypeError(f"force must be True or False; got {force!r}")
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"dest must be a folder; {dest} is a file")
    files = student_files(source)
    manifest_path = dest / MANIFEST
    try:
        copied = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    except (OSError, ValueError):
        copied = {}
    report, conflicts, todo = CopyReport(), [], {}
    for rel, data in files.items():
        target = dest / rel
        if not target.exists():
            todo[rel] = data
            continue
        current = _sha(target.read_bytes())
        if current == _sha(data):
            report.unchanged.append(rel)
        elif current == copied.get(rel) or force:
            todo[rel] = data
        else:
            conflicts.append(rel)
    if conflicts:
        raise CourseConflict(conflicts)
    for rel, data in todo.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".virtlab-tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        report.written.append(rel)
    copied.update({rel: _sha(data) for rel, data in files.items()})
    manifest_path.write_text(json.dumps(copied, indent=1, sort_keys=True) + "\n")
    return report


def course_view(root: str | os.PathLike) -> Path:
    """The folder ``root/course`` that shows students only the course (idempotent).

    It holds relative links ``notebooks`` and ``exercises`` to the checkout's
    folders, ``docs/errata.md`` linked to the checkout's (the path the notebooks
    link to; the instructor notes beside it stay out of view), and the generated
    glossary pages (:data:`GLOSSARY_PAGES`).  Returns the folder.
    """
    root = Path(root)
    view = root / "course"
    view.mkdir(exist_ok=True)
    links = {"notebooks": Path("..") / "notebooks", "exercises": Path("..") / "exercises",
             "docs/errata.md": Path("..") / ".." / "docs" / "errata.md"}
    (view / "docs").mkdir(exist_ok=True)
    for entry in view.iterdir():        # links an earlier layout left behind
        if entry.is_symlink() and entry.name not in links:
            entry.unlink()
    for name, target in links.items():
        link = view / name
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        if link.exists() and not link.is_symlink() and link.is_dir():
            raise FileExistsError(f"{link} is a folder, expected a link to {target}")
        # Make the link under a temporary name and rename it into place: atomic, so two
        # labs (or test workers) starting at once cannot trip over each other.
        tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
        tmp.symlink_to(target, target_is_directory=(name != "docs/errata.md"))
        os.replace(tmp, link)
    for name, language in GLOSSARY_PAGES.items():
        glossary = view / name
        text = glossary_markdown(language)
        if not glossary.is_file() or glossary.read_text(encoding="utf-8") != text:
            tmp = view / f".{name}.{os.getpid()}.tmp"
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, glossary)
    return view


def lab_root(root: str | os.PathLike) -> Path:
    """The folder ``virtlab lab`` serves for the course found at ``root``.

    In a developer checkout (``root`` holds the ``virtlab`` package and
    ``docs/``) that is :func:`course_view`, so students see the course and not
    the machinery; a student's copy (from :func:`copy_course`) is served as it is.
    """
    root = Path(root)
    if (root / "virtlab" / "__init__.py").is_file() and (root / "docs").is_dir():
        return course_view(root)
    return root


_HEADING = re.compile(r"(?m)^#{1,6} +(.+?)\s*$")


def heading_cell_ids(source: Path | None = None) -> dict[tuple[str, str], str]:
    """``(topic_id, heading text) -> id`` of the markdown cell that holds the heading.

    For :func:`virtlab.viz.course.slide_map_table`, whose links then name the
    cell, which JupyterLab scrolls to.  Read from the course's notebooks
    (:func:`course_source`).

    Examples
    --------
    >>> ids = heading_cell_ids()
    >>> ("12", "3. Shadow paging (*Schattentabellen*)") in ids
    True
    """
    src = course_source() if source is None else Path(source)
    found: dict[tuple[str, str], str] = {}
    for topic in TOPICS:
        path = src / "notebooks" / topic.notebook
        if not path.is_file():
            continue
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown" and cell.get("id"):
                for heading in _HEADING.findall(cell.source):
                    found.setdefault((topic.id, heading), cell.id)
    return found
