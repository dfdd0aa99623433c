#!/usr/bin/env python3
"""Build the German edition of the notebooks from the English ones and their translations.

Usage::

    scripts/german_edition.py build [NN ...]     # write notebooks/de/NN_*.ipynb (unexecuted)
    scripts/german_edition.py skeleton NN        # print a translation file to fill in
    scripts/german_edition.py status             # which cells are missing or stale
    scripts/german_edition.py --solutions build|skeleton|status [exNN ...]
                                                 # the same for the exercises' sources

A German notebook is *generated*: its code cells are the English notebook's,
cell for cell (so the editions cannot drift), preceded by one cell that
switches the library to German; its markdown cells come from
``translations/de/NN_name.yaml``, which maps each English markdown cell's id to
``{sha: <first 12 hex digits of the English source's SHA-256>, de: <German>}``.
A changed English cell makes its translation stale (the sha no longer
matches): ``status`` lists it and the tests fail until it is retranslated.
Links to other notebooks stay as they are (the German notebooks have the
English names); links that leave the notebooks folder get one more ``../``.
Cell metadata is copied as it is (tags, sections, and the RISE slide types
that scripts/slide_metadata.py puts on the English notebooks).
After ``build``, run ``make notebooks`` (or scripts/execute_notebooks.py on
the files) to store the outputs.

With ``--solutions`` the same machinery builds the German exercise sources
``solutions/de/exNN_name.ipynb`` from ``solutions/exNN_name.ipynb`` and
``translations/de/solutions/exNN_name.yaml`` (then ``virtlab assign`` generates
``exercises/de/``).  Every cell keeps its metadata exactly (nbgrader's grade
ids, points and locks; the markdown ``reason`` cells carry the translated model
answer); the language cell is a locked nbgrader cell (grade id ``language``),
and the notebook's ``virtlab`` metadata records ``language: de`` so the grader
rebuilds a German submission on the German source (same exercise id).
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
EN = ROOT / "notebooks"
DE = EN / "de"
TRANSLATIONS = ROOT / "translations" / "de"
LANGUAGE_CELL = 'import virtlab\n_ = virtlab.set_language("de")'  # an assignment: no output (a ";" is honoured by nbconvert but not under nbval)
LANGUAGE_ID = "set-language-de"
SOLUTIONS = ROOT / "solutions"
SOLUTIONS_DE = SOLUTIONS / "de"
#: nbgrader metadata of the language cell of a German exercise source (locked, not graded)
LANGUAGE_NBGRADER = {"grade": False, "grade_id": "language", "locked": True,
                     "schema_version": 3, "solution": False, "task": False}


def is_solution(path: Path) -> bool:
    """Whether ``path`` is an English exercise source (``solutions/exNN_*.ipynb``)."""
    return path.resolve().parent == SOLUTIONS.resolve()


def translations_of(path: Path) -> Path:
    """The translation file of an English notebook or exercise source."""
    folder = TRANSLATIONS / "solutions" if is_solution(path) else TRANSLATIONS
    return folder / f"{path.stem}.yaml"


def german_of(path: Path) -> Path:
    """Where the German edition of an English notebook or exercise source is written."""
    return (SOLUTIONS_DE if is_solution(path) else DE) / path.name


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def english(stem_or_id: str, solutions: bool = False) -> Path:
    matches = sorted((SOLUTIONS if solutions else EN).glob(f"{stem_or_id}*.ipynb"))
    if len(matches) != 1:
        raise SystemExit(f"no single English notebook for {stem_or_id!r}: {matches}")
    return matches[0]


def load(path: Path) -> dict:
    file = translations_of(path)
    if not file.is_file():
        return {}
    cells = (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("cells", {})
    return {str(k): v for k, v in cells.items()}


def problems(path: Path) -> list[str]:
    """Missing and stale translations of one English notebook."""
    nb = nbformat.read(path, as_version=4)
    cells = load(path)
    out = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        entry = cells.get(cell.id)
        if entry is None:
            out.append(f"{path.name}: cell {cell.id} is not translated")
        elif entry.get("sha") != sha(cell.source):
            out.append(f"{path.name}: cell {cell.id} changed since it was translated")
    known = {c.id for c in nb.cells if c.cell_type == "markdown"}
    out += [f"{path.name}: translation of a cell that no longer exists: {cid}"
            for cid in cells if cid not in known]
    return out


def _relink(text: str) -> str:
    # ](../docs/errata.md) -> ](../../docs/errata.md); sibling notebooks keep their names
    return re.sub(r"\]\(\.\./", "](../../", text)


def build(path: Path) -> Path:
    nb = nbformat.read(path, as_version=4)
    cells = load(path)
    out = []
    lang = nbformat.v4.new_code_cell(LANGUAGE_CELL)
    lang.id = LANGUAGE_ID
    lang.metadata["virtlab_section"] = "language"
    if is_solution(path):
        lang.metadata["nbgrader"] = dict(LANGUAGE_NBGRADER)
        nb.metadata["virtlab"] = {**nb.metadata.get("virtlab", {}), "language": "de"}
    # The deck's first slide (RISE): a skipped cell never runs, and without it the
    # widgets speak English; the lecturer's first Shift+Enter runs it.
    lang.metadata["slideshow"] = {"slide_type": "slide"}
    out.append(lang)
    for cell in nb.cells:
        cell = nbformat.from_dict(dict(cell))
        if cell.cell_type == "markdown":
            entry = cells.get(cell.id)
            if entry is None or entry.get("sha") != sha(cell.source):
                raise SystemExit(f"{path.name}: cell {cell.id} has no current translation "
                                 "(run `scripts/german_edition.py status`)")
            cell.source = _relink(entry["de"].rstrip("\n"))
        else:
            cell.outputs = []
            cell.execution_count = None
        out.append(cell)
    nb.cells = out
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = nb.metadata.get("language_info", {})
    target = german_of(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def skeleton(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    done = load(path)
    folder = "solutions" if is_solution(path) else "notebooks"
    lines = [f"# German translation of {folder}/{path.name} (scripts/german_edition.py)",
             f"notebook: {path.name}", "cells:"]
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        entry = done.get(cell.id)
        text = entry["de"] if entry and entry.get("sha") == sha(cell.source) else (
            "TODO: " + cell.source)
        lines.append(f"  '{cell.id}':")     # quoted: an all-digit id must stay a string
        lines.append(f"    sha: '{sha(cell.source)}'")
        lines.append("    de: |-")
        lines += ["      " + ln if ln else "" for ln in text.splitlines()]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    solutions = "--solutions" in argv
    argv = [a for a in argv if a != "--solutions"]
    if not argv or argv[0] not in ("build", "skeleton", "status"):
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "skeleton":
        print(skeleton(english(rest[0], solutions)), end="")
        return 0
    pattern = (SOLUTIONS, "ex[0-9][0-9]_*.ipynb") if solutions else (EN, "[0-9][0-9]_*.ipynb")
    paths = [english(r, solutions) for r in rest] if rest else sorted(
        p for p in pattern[0].glob(pattern[1]) if translations_of(p).is_file())
    if cmd == "status":
        issues = [msg for p in paths for msg in problems(p)]
        print("\n".join(issues) or ("every translated exercise source is complete and current"
                                     if solutions else
                                     "every translated notebook is complete and current"))
        return 1 if issues else 0
    for p in paths:
        print("wrote", build(p).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
