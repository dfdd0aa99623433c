"""Every sentence true: the notebooks' numeric and comparative prose is recomputed.

See ``tests/claims/__init__.py`` for the design.  Three checks per notebook:
every registered fragment is still quoted verbatim in the notebook, every
claim's recomputation holds, and no number in the markdown is unguarded (in
no output of the notebook and in no claim or citation).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import nbformat
import pytest

import claims as claims_pkg
from claims import CLAIMS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = {p.name[:2]: p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}

for _info in pkgutil.iter_modules(claims_pkg.__path__):
    importlib.import_module(f"claims.{_info.name}")

# A number token: hex, or digits with inner separators ("190,000", "1.5"),
# not glued to a letter, digit or underscore before it (x86, ex04, X86_32).
NUMBER = re.compile(r"(?<![\w.])(?:0x[0-9A-Fa-f]+|\d+(?:[.,]\d+)*)(?![\w])")


def fold(text: str) -> str:
    return " ".join(text.split())


def markdown(nb) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def outputs(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            data = out.get("data", {})
            for kind in ("text/plain", "text/html", "text/markdown"):
                value = data.get(kind, "")
                parts.append("".join(value) if isinstance(value, list) else value)
    return "\n".join(parts)


def _strip(md: str) -> str:
    """Markdown without what is not prose: link targets, HTML tags, list markers."""
    md = re.sub(r"\]\([^)]*\)", "]", md)                 # link targets
    md = re.sub(r"<[^>]+>", " ", md)                      # HTML tags and attributes
    md = re.sub(r"(?m)^(\s*(?:#+\s*)?)\d+[.)](?=\s)", r"\1", md)   # list / heading numbers
    md = re.sub(r"(?m)^(#+\s*)\d+(?=\s)", r"\1", md)
    # references to other notebooks: "[07]", "notebook 07", "notebooks 06 and 09"
    md = re.sub(r"\[\s*\d\d\b", "[", md)
    md = re.sub(r"\b(?:0\d|1[0-4])\s*·", "·", md)                # "**05 · Containers**"
    md = re.sub(r"\((?:0\d|1[0-4])\)", "()", md)                 # "paravirtualization (09)"
    md = re.sub(r"'\d\d\b", "'", md)                             # venue years: OSDI'02
    md = re.sub(r"(?i)(notebooks?|Notebooks?)\s+\d\d(\s*(,|and|und|–|-)\s*\d\d)*", r"\1", md)
    return md


def unguarded_numbers(nb, notebook: str) -> list[str]:
    text = fold(_strip(markdown(nb)))
    for c in CLAIMS:
        if c.notebook == notebook:
            text = text.replace(fold(_strip(c.text)), " ")
    out = outputs(nb)
    missing = []
    for token in NUMBER.findall(text):
        if not re.search(r"(?<![\w.])" + re.escape(token) + r"(?![\w])", out):
            missing.append(token)
    return missing


def _ids(c):
    return f"{c.notebook}:{fold(c.text)[:50]}"


@pytest.mark.parametrize("c", CLAIMS, ids=_ids)
def test_fragment_is_quoted(c):
    assert c.notebook in NOTEBOOKS, f"no notebook {c.notebook}"
    nb = nbformat.read(NOTEBOOKS[c.notebook], as_version=4)
    assert fold(c.text) in fold(markdown(nb)), (
        f"notebook {c.notebook} no longer says {c.text!r}: update the claim with the prose")


@pytest.mark.parametrize("c", [c for c in CLAIMS if c.check is not None], ids=_ids)
def test_claim_holds(c):
    c.check()


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS))
def test_no_unguarded_numbers(notebook):
    nb = nbformat.read(NOTEBOOKS[notebook], as_version=4)
    missing = unguarded_numbers(nb, notebook)
    assert not missing, (
        f"notebook {notebook}: numbers in the prose that are in no output and in no claim "
        f"or citation (tests/claims/nb{notebook}.py): {missing}")


def test_scanner_catches_an_unguarded_number():
    # The check itself can fail: a sentence with a made-up number is flagged,
    # a number printed by an output or quoted in a claim is not.
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Shadow paging costs 37 references; see "
                                              "[07](07_x.ipynb) and notebook 08.\n1. first"),
                nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
                    "stream", text="nested: 24\n")])]
    assert unguarded_numbers(nb, "99") == ["37"]
    nb.cells[0].source = "Nested walks cost 24 references."
    assert unguarded_numbers(nb, "99") == []
