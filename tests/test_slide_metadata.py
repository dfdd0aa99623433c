"""The RISE slide metadata (scripts/slide_metadata.py): rules, exceptions, committed notebooks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("slide_metadata",
                                               ROOT / "scripts" / "slide_metadata.py")
slides = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(slides)


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    for i, (kind, source, meta) in enumerate(cells):
        cell = (nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell)(source)
        cell.id = f"c{i}"
        cell.metadata.update(meta)
        nb.cells.append(cell)
    return nb


def test_rules_follow_the_cells():
    nb = _nb(("md", "# Title\n\n**Learning goals** …", {}),
             ("code", "%matplotlib inline\nimport virtlab\nfrom virtlab import (viz,\n  mmu)", {}),
             ("md", "## 1. An idea", {}),
             ("code", "viz.mmu.address_chain()", {}),
             ("md", "What the figure shows.", {}),
             ("md", "More on it.", {}),
             ("code", '[{"a": 1} for _ in range(2)]', {}),
             ("md", "Closing words.\n\n## 2. The next section", {}),
             ("md", "**Predict first** …", {"virtlab_section": "predict"}),
             ("code", 'virtlab.widgets.predict("x")', {"virtlab_section": "predict"}),
             ("code", "virtlab.widgets.page_walk()", {}),
             ("md", "**Try it.** …", {"virtlab_section": "try-it"}),
             ("md", "### A detail", {}))
    assert slides.slide_types(nb, "99_test") == [
        "slide", "subslide", "slide", "-", "subslide", "-", "fragment", "slide",
        "slide", "-", "slide", "slide", "subslide"]


def test_exceptions_win_and_are_checked(monkeypatch):
    nb = _nb(("md", "# T", {}), ("md", "text", {}))
    monkeypatch.setitem(slides.EXCEPTIONS, "99_test", {"c1": "notes"})
    assert slides.slide_types(nb, "99_test") == ["slide", "notes"]
    monkeypatch.setitem(slides.EXCEPTIONS, "99_test", {"nope": "slide"})
    with pytest.raises(ValueError, match="nope"):
        slides.slide_types(nb, "99_test")
    monkeypatch.setitem(slides.EXCEPTIONS, "99_test", {"c1": "big"})
    with pytest.raises(ValueError, match="big"):
        slides.slide_types(nb, "99_test")


def test_committed_notebooks_are_up_to_date_and_german_copies_them():
    assert slides.main(["--check"]) == 0, "run scripts/slide_metadata.py"
    for en in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        de = ROOT / "notebooks" / "de" / en.name
        if not de.is_file():
            continue
        en_types = [c.metadata["slideshow"]["slide_type"]
                    for c in nbformat.read(en, as_version=4).cells]
        de_cells = nbformat.read(de, as_version=4).cells
        assert de_cells[0].metadata["slideshow"]["slide_type"] == "slide"
        assert [c.metadata["slideshow"]["slide_type"] for c in de_cells[1:]] == en_types, de.name
