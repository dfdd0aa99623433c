#!/usr/bin/env python3
"""Put RISE slide metadata (``metadata.slideshow.slide_type``) on the English notebooks.

Usage::

    scripts/slide_metadata.py            # write notebooks/NN_*.ipynb where anything changes
    scripts/slide_metadata.py --check    # exit 1 (and list them) if a notebook is out of date
    scripts/slide_metadata.py 11 12      # only these notebooks

The slide types follow from the cells, so re-running after the prose changed
keeps the deck right (the script is idempotent: a second run changes nothing):

* a markdown cell with a ``#`` or ``##`` heading (anywhere in it) starts a
  ``slide`` (the title cell, which holds the learning goals, is the first
  slide on its own);
  a ``###`` heading starts a ``subslide``;
* a "Try it" cell (``virtlab_section: try-it``) is a ``slide``, and so is
  the first markdown cell of a predict, practice or self-check section;
* a widget cell (it calls ``virtlab.widgets.…`` or displays a stored widget)
  is a ``slide`` — unless the markdown cell just before it introduces it in the
  same course section (predict, practice, self-check), then intro and widget
  share one slide and the widget is ``-``;
* a setup cell (only ``%magics``, imports, ``virtlab.set_language(...)``)
  is a ``subslide`` of its own under the title: the audience need not read
  it, but the deck must run it (a ``skip``ped cell never runs in RISE, and
  every widget cell needs its imports), so the lecturer's first Shift+Enter
  after the title runs it;
* any other code cell continues the slide (``-``): its figure belongs to the
  idea just introduced; a code cell whose output is a table (the source is a
  list comprehension of dicts) is a ``fragment``;
* any other markdown cell continues the slide (``-``) after markdown, and
  starts a ``subslide`` after a code cell (the next idea, below the figure).

Exceptions, per notebook and cell id, live in :data:`EXCEPTIONS`.  Only cell
metadata changes, so the stored outputs stay valid (no re-execution needed).
The German edition copies the metadata (scripts/german_edition.py build).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
EN = ROOT / "notebooks"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}

#: notebook stem -> {cell id: slide type}; wins over the rules above.
EXCEPTIONS: dict[str, dict[str, str]] = {
    # the setup cell also shows the version (for a student's bug report): still the setup slide
    "00_start_here": {"6b88cbf0": "subslide"},
}

INTRO_SECTIONS = {"predict", "practice", "selfcheck"}


def _section(cell) -> str | None:
    return cell.metadata.get("virtlab_section")


def is_setup(cell) -> bool:
    """Only ``%magics``, imports and ``virtlab.set_language(...)``."""
    if cell.cell_type != "code" or not cell.source.strip():
        return False
    code = "\n".join(line for line in cell.source.splitlines()
                     if not line.lstrip().startswith("%"))
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return False
    return all(isinstance(stmt, (ast.Import, ast.ImportFrom)) or (
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
        and ast.unparse(stmt.value.func) == "virtlab.set_language") for stmt in body)


def is_widget(cell) -> bool:
    if cell.cell_type != "code":
        return False
    if re.search(r"^\s*virtlab\.widgets\.\w+\(", cell.source, re.M):
        return True
    return any(WIDGET_MIME in out.get("data", {}) for out in cell.get("outputs", []))


def heading_level(cell) -> int:
    """The highest heading level in a markdown cell (1 = ``#``), 0 without a heading.

    A heading anywhere in the cell counts: a section that begins below a
    closing paragraph still begins a slide.
    """
    if cell.cell_type != "markdown":
        return 0
    levels = [len(m.group(1)) for m in re.finditer(r"(?m)^(#{1,6})\s", cell.source)]
    return min(levels, default=0)


def slide_types(nb, stem: str) -> list[str]:
    """The slide type of every cell of ``nb`` (the notebook ``stem``), by the rules above."""
    types: list[str] = []
    previous = None  # the last cell shown in the deck
    for cell in nb.cells:
        level = heading_level(cell)
        if cell.cell_type == "code" and is_setup(cell):
            kind = "subslide"
        elif cell.cell_type == "markdown" and level in (1, 2):
            kind = "slide"
        elif cell.cell_type == "markdown" and level:
            kind = "subslide"
        elif cell.cell_type == "markdown" and _section(cell) == "try-it":
            kind = "slide"
        elif (cell.cell_type == "markdown" and _section(cell) in INTRO_SECTIONS
              and (previous is None or _section(previous) != _section(cell))):
            kind = "slide"  # the intro of a predict / practice / self-check widget
        elif is_widget(cell):
            intro = (previous is not None and previous.cell_type == "markdown"
                     and _section(previous) in INTRO_SECTIONS
                     and _section(previous) == _section(cell))
            kind = "-" if intro else "slide"
        elif cell.cell_type == "code":
            kind = "fragment" if re.match(r"\s*\[\s*\{", cell.source) else "-"
        elif previous is None or previous.cell_type == "markdown":
            kind = "-"
        else:
            kind = "subslide"
        if previous is None and kind != "skip":
            kind = "slide"  # a deck starts with a slide
        types.append(kind)
        if kind != "skip":
            previous = cell
    for cell_id, kind in EXCEPTIONS.get(stem, {}).items():
        if kind not in SLIDE_TYPES:
            raise ValueError(f"EXCEPTIONS[{stem!r}][{cell_id!r}]: unknown slide type {kind!r}")
        ids = [c.id for c in nb.cells]
        if cell_id not in ids:
            raise ValueError(f"EXCEPTIONS[{stem!r}]: no cell {cell_id!r} in the notebook")
        types[ids.index(cell_id)] = kind
    return types


def apply(path: Path, write: bool = True) -> bool:
    """Set the slide metadata of one notebook; return whether anything changed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell, kind in zip(nb.cells, slide_types(nb, path.stem)):
        if cell.metadata.get("slideshow", {}).get("slide_type") != kind:
            cell.metadata["slideshow"] = {"slide_type": kind}
            changed = True
    if changed and write:
        nbformat.write(nb, path)
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stems = [a for a in argv if a != "--check"]
    paths = sorted(EN.glob("[0-9][0-9]_*.ipynb"))
    if stems:
        paths = [p for p in paths if any(p.name.startswith(s) for s in stems)]
    stale = [p for p in paths if apply(p, write=not check)]
    for p in stale:
        print(("out of date: " if check else "wrote ") + str(p.relative_to(ROOT)))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
