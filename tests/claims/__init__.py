"""Claims the notebooks' prose makes, each guarded by a test that recomputes it.

A *claim* quotes a fragment of a notebook's markdown verbatim (white space is
folded, so line breaks do not matter) and pairs it with a function that
recomputes what the fragment states from the library and asserts it::

    @claim("12", "a nested walk costs 24 page-table references")
    def _():
        assert nested_walk_refs(4, 4) == 24

If a model changes so that the sentence becomes false, the function's
assertion fails and names the notebook and the sentence.  A *citation*
(:func:`cite`) marks a fragment whose numbers come from the literature or
the lecture, not from the models (years, a paper's measurements, slide
numbers); it carries its source and is not recomputed.

``tests/test_claims.py`` checks that every quoted fragment still stands in
its notebook, runs every claim, and fails when a notebook's markdown holds a
number that is neither in one of that notebook's outputs nor inside a claim
or citation — so a new, unguarded number is caught.

The claims of notebook ``NN`` live in ``tests/claims/nbNN.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Claim:
    notebook: str          # "00" ... "14"
    text: str              # verbatim fragment of the notebook's markdown
    check: Callable[[], None] | None   # None for a citation
    source: str = ""       # for citations: where the number comes from


CLAIMS: list[Claim] = []


def claim(notebook: str, text: str):
    """Register ``fn`` as the test of the fragment ``text`` of notebook ``notebook``."""
    def register(fn):
        CLAIMS.append(Claim(notebook, text, fn))
        return fn
    return register


def cite(notebook: str, text: str, source: str) -> None:
    """Mark ``text`` (verbatim in notebook ``notebook``) as quoting ``source``."""
    if not source.strip():
        raise ValueError("cite() needs a source")
    CLAIMS.append(Claim(notebook, text, None, source))
