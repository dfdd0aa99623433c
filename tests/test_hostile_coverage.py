"""Meta test: every public entry point in ARCHITECTURE.md has hostile-input tests.

The lead keeps a "Public entry points" section in ARCHITECTURE.md with a
markdown table whose first column holds ``module.function`` names in
backticks.  Each name must be referenced in at least one
``tests/test_*_hostile.py`` file: the file mentions the function's own name as
a word *and* its module (``virtlab.rng`` in an import or a dotted use, or
``from virtlab import rng``).  A text check, deliberately simple: it proves a
hostile test was written, the hostile test proves the behaviour.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "ARCHITECTURE.md"
HOSTILE_FILES = sorted((ROOT / "tests").glob("test_*_hostile.py"))


def entry_points(text: str) -> list[str]:
    """Names in the first column of the table under '## Public entry points'.

    Examples
    --------
    >>> entry_points("## Public entry points\\n\\n| entry | what |\\n|---|---|\\n"
    ...              "| `virtlab.rng.make_rng` | x |\\n| `a.b`, `c.d` | y |\\n\\n## Next\\n")
    ['virtlab.rng.make_rng', 'a.b', 'c.d']
    """
    match = re.search(r"^#+\s*Public entry points\s*$(.*?)(?=^#|\Z)", text,
                      flags=re.MULTILINE | re.DOTALL | re.IGNORECASE)
    if not match:
        return []
    names = []
    for line in match.group(1).splitlines():
        line = line.strip()
        if not line.startswith("|") or re.fullmatch(r"\|[\s:|-]+\|?", line):
            continue
        first = line.strip("|").split("|")[0]
        names += re.findall(r"`([A-Za-z_][\w.]*\.[A-Za-z_]\w*)`", first)
    return names


def references(text: str, dotted: str) -> bool:
    """Does a test file's ``text`` reference ``module.attr``?

    Examples
    --------
    >>> references("from virtlab.rng import make_rng\\nmake_rng(-1)", "virtlab.rng.make_rng")
    True
    >>> references("from virtlab import rng\\nrng.make_rng(-1)", "virtlab.rng.make_rng")
    True
    >>> references("make_rng(-1)", "virtlab.rng.make_rng")
    False
    >>> references("from virtlab.rng import make_rng_x", "virtlab.rng.make_rng")
    False
    """
    module, _, attr = dotted.rpartition(".")
    if dotted in text:
        return True
    if not re.search(rf"(?<!\w){re.escape(attr)}\b", text):
        return False
    parent, _, last = module.rpartition(".")
    return (re.search(rf"\b{re.escape(module)}\b", text) is not None
            or (parent != "" and re.search(
                rf"from\s+{re.escape(parent)}\s+import\s+[^\n]*\b{re.escape(last)}\b",
                text) is not None))


NAMES = entry_points(ARCHITECTURE.read_text(encoding="utf-8")) if ARCHITECTURE.exists() else []


def test_the_table_exists_and_parses():
    if not NAMES:
        pytest.skip("ARCHITECTURE.md has no 'Public entry points' table yet")
    assert len(NAMES) == len(set(NAMES)), "an entry point is listed twice"
    assert HOSTILE_FILES, "no tests/test_*_hostile.py files"


@pytest.mark.skipif(not NAMES, reason="ARCHITECTURE.md has no 'Public entry points' table yet")
@pytest.mark.parametrize("name", NAMES)
def test_entry_point_has_hostile_tests(name):
    texts = {p.name: p.read_text(encoding="utf-8") for p in HOSTILE_FILES}
    hits = [f for f, t in texts.items() if references(t, name)]
    assert hits, (f"{name} is listed in ARCHITECTURE.md 'Public entry points' but no "
                  f"tests/test_*_hostile.py file references it")

