"""The bilingual glossary: lecture terms present, search in both languages."""

from hypothesis import given, strategies as st
import pytest

from virtlab import glossary

# The lecture's terminology slide, term by term (German as on the slides).
REQUIRED_DE = ["Reale Maschine", "Virtuelle Maschine (VM)", "Wirt", "Gast",
               "Hypervisor / Virtual Machine Monitor (VMM)", "Sensitiver Befehl",
               "Privilegierter Befehl", "Kritischer Befehl", "Binärübersetzung",
               "Paravirtualisierung", "Schattentabelle", "Ballooning"]


@pytest.mark.parametrize("de", REQUIRED_DE)
def test_required_terms_present(de):
    assert glossary.lookup(de).de == de


def test_synonyms_from_the_slides_resolve():
    assert glossary.lookup("Gastgeberbetriebssystem").de == "Wirt"
    assert glossary.lookup("Gastsystem").de == "Gast"
    assert glossary.lookup("VMM").de.startswith("Hypervisor")


def test_search_both_languages_and_umlauts():
    assert glossary.lookup("Binärübersetzung") in glossary.search("ubersetzung")
    assert glossary.lookup("Binärübersetzung") in glossary.search("binary translation")
    assert glossary.search("GAST")[0].de == "Gast"


def test_name_matches_rank_before_definition_matches():
    hits = glossary.search("trap")
    assert hits[0].de == "Trap (Unterbrechung)"
    assert len(hits) > 1  # "trap" also appears in other definitions


def test_terms_point_to_existing_topics():
    from virtlab.course import TOPICS
    ids = {t.id for t in TOPICS}
    assert all(t.notebook in ids for t in glossary.TERMS)
    des = [t.de for t in glossary.TERMS]
    assert len(des) == len(set(des))


@given(st.text(max_size=30))
def test_search_never_fails_and_returns_terms(query):
    result = glossary.search(query)
    assert all(isinstance(t, glossary.Term) for t in result)
    assert len(result) == len(set(result))


@pytest.mark.parametrize("bad", [None, 3, b"gast", ["gast"]])
def test_search_rejects_non_strings(bad):
    with pytest.raises(TypeError, match="query"):
        glossary.search(bad)


# -- issue 19: one vocabulary -------------------------------------------------------

import os
import re
import unicodedata
from difflib import SequenceMatcher
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
LECTURE = ROOT.parent / "shared" / "lecture"


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss").casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _lecture_text() -> str:
    files = sorted(LECTURE.glob("*.txt"))
    if not files:
        if os.environ.get("CI"):
            pytest.fail(f"lecture text missing at {LECTURE}")
        pytest.skip(f"no lecture text at {LECTURE}")
    return _ascii(" ".join(f.read_text(encoding="utf-8") for f in files))


def _in_lecture(wording: str, text: str) -> bool:
    # The slide text lost its umlauts and has OCR slips ("fiir", "liber",
    # "Binariibersetzung"): accept a window of the text that matches closely.
    t = _ascii(wording)
    if not t:
        return False
    if re.search(r"\b" + re.escape(t) + r"\b", text):
        return True
    best = 0.0
    for m in re.finditer(re.escape(t[:3]), text):
        for length in (len(t) - 1, len(t), len(t) + 1):
            best = max(best, SequenceMatcher(None, t, text[m.start():m.start() + length]).ratio())
    return best >= 0.86


def test_fuzzy_lecture_match_is_not_too_loose():
    text = _ascii("Binariibersetzung (Binary Translation) und Unterstiitzung")
    assert _in_lecture("Binärübersetzung", text)
    assert _in_lecture("Unterstützung", text)
    assert not _in_lecture("Schattentabelle", text)
    assert not _in_lecture("Seitenfehler", text)


def test_lecture_terms_really_are_in_the_lecture():
    text = _lecture_text()
    for term in glossary.TERMS:
        found = [n for n in (term.de,) + term.synonyms if _in_lecture(n, text)]
        if term.origin == "lecture":
            assert found, f"{term.de!r} is labelled 'from the lecture' but is not in its text"
        else:
            assert term.origin == "course", term
            assert not found, f"{term.de!r} is labelled a course term but the lecture says {found}"


def test_one_spelling_per_term():
    seen = {}
    for term in glossary.TERMS:
        for name in (term.de,) + term.synonyms:
            key = _ascii(name)
            assert key not in seen or seen[key] is term, (
                f"{name!r} names both {seen[key].de!r} and {term.de!r}")
            seen[key] = term


def _box_terms(nb) -> list[str]:
    src = next(c.source for c in nb.cells if c.cell_type == "markdown")
    m = re.search(r"\*\*(German terms[^*]*|Begriffe)\*\*:?", src)
    if not m:
        return []
    rest = src[m.end():]
    if "*" not in rest.split("\n", 1)[0]:
        rest = rest.split("\n", 1)[1] if "\n" in rest else ""    # header line, then the box
    box = rest.lstrip("\n").split("\n\n")[0]
    if "|" in box:
        return [" ".join(r.split("|")[1].split()) for r in box.strip().splitlines()
                if r.startswith("|") and not r.startswith("|-")
                and not re.match(r"\|\s*(German|Deutsch)", r)]
    return [" ".join(t.split()) for t in re.findall(r"\*([^*]+)\*", box)]


def _unresolved(entry: str) -> list[str]:
    if glossary.find(entry):
        return []
    entry = re.sub(r"\s*\([^)]*\)", "", entry)        # "(Nested Paging, EPT)", "(Folien: …)"
    if glossary.find(entry):
        return []
    last = entry.split()[-1]
    bad = []
    for part in (p.strip() for p in re.split(r"\s+/\s*|\s*/\s+|,\s+", entry)):
        plain = re.sub(r"\s*\(.*?\)", "", part)
        if part and not (glossary.find(part) or glossary.find(plain)
                         or glossary.find(f"{part} {last}")):
            bad.append(part)
    return bad


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
                         + sorted((ROOT / "notebooks" / "de").glob("[0-9][0-9]_*.ipynb")),
                         ids=lambda p: ("de-" if p.parent.name == "de" else "") + p.stem[:2])
def test_every_term_box_term_is_in_the_glossary(notebook):
    nb = nbformat.read(notebook, as_version=4)
    entries = _box_terms(nb)
    missing = {e: _unresolved(e) for e in entries if _unresolved(e)}
    assert not missing, f"{notebook.name}: German terms not in the glossary: {missing}"


def test_term_box_check_can_fail():
    assert _unresolved("Kaffeemaschine / Schattentabelle") == ["Kaffeemaschine"]


@pytest.mark.parametrize("wording, headword", [
    ("kritische Befehle", "Kritischer Befehl"),
    ("sensitiven Befehlen", "Sensitiver Befehl"),
    ("Schattentabellen", "Schattentabelle"),
    ("Gast-BS", "Gast"),
    ("Balloon-Treiber", "Ballon-Treiber"),
    ("Hypercalls", "Hypercall"),
    ("Seitenersetzungsstrategien", "Seitenersetzungsstrategie"),
])
def test_search_finds_the_slides_wording(wording, headword):
    assert glossary.search(wording)[0].de == headword
    assert glossary.find(wording).de == headword


def test_compounds_are_found():
    names = [t.de for t in glossary.search("Befehl")]
    assert "Befehlssatz" in names and "Kritischer Befehl" in names


@pytest.mark.parametrize("topic", ["Credit", "SEDF", "KVM", "VMI", "TLB", "Seitenfehler",
                                   "EPT", "VMCS", "Co-Scheduling", "Live-Migration"])
def test_topics_without_an_entry_before_have_one(topic):
    assert glossary.lookup(topic)
