"""Copy detection (issue 14): winnowing flags pasted reference code and shared code,
never independent solutions written differently."""

import inspect

import nbformat

from virtlab.grading.exercises import ex03_page_walks
from virtlab.grading.similarity import (MIN_SHARED, REFERENCE, compare, fingerprint,
                                        similarity_report, tokens)

REFERENCE_CODE = inspect.getsource(ex03_page_walks)

# the reference solver pasted, with names changed and comments added
PASTED = (inspect.getsource(ex03_page_walks._run) + "\n\n"
          + inspect.getsource(ex03_page_walks.solve)).replace("problem", "p") \
    .replace("unit", "mmu_unit").replace("native", "nat") + "\n# my own work\n"

SHARED = '''
def lru_misses(pages, size):
    cache = []
    misses = 0
    for page in pages:
        if page in cache:
            cache.remove(page)
            cache.append(page)
        else:
            misses += 1
            cache.append(page)
            if len(cache) > size:
                cache.pop(0)
    return misses

misses = lru_misses(ex.problem.pages, ex.problem.tlb_entries)
refs = {"native": misses * ex.problem.guest_levels,
        "nested": misses * (ex.problem.guest_levels * ex.problem.host_levels
                            + ex.problem.guest_levels + ex.problem.host_levels)}
'''

# the same code, renamed and re-commented: what two students sharing a file hand in
SHARED_RENAMED = (SHARED.replace("lru_misses", "count_misses").replace("cache", "tlb")
                  .replace("page", "p").replace("size", "capacity")
                  + "# computed by hand\n")

INDEPENDENT_A = '''
from collections import OrderedDict
tlb = OrderedDict()
misses = 0
for vpn in ex.problem.pages:
    if vpn in tlb:
        tlb.move_to_end(vpn)
        continue
    misses += 1
    tlb[vpn] = True
    while len(tlb) > ex.problem.tlb_entries:
        tlb.popitem(last=False)
n, m = ex.problem.guest_levels, ex.problem.host_levels
refs = dict(native=misses * n, nested=misses * (n * m + n + m))
'''

INDEPENDENT_B = '''
def simulate(seq, k):
    last_use = {}
    resident = set()
    count = 0
    for t, x in enumerate(seq):
        if x not in resident:
            count = count + 1
            if len(resident) == k:
                victim = min(resident, key=lambda y: last_use[y])
                resident.discard(victim)
            resident.add(x)
        last_use[x] = t
    return count
misses = simulate(list(ex.problem.pages), ex.problem.tlb_entries)
g, h = ex.problem.guest_levels, ex.problem.host_levels
refs = {}
refs["native"] = g * misses
refs["nested"] = (g * h + g + h) * misses
'''


def test_tokens_ignore_names_numbers_strings_and_comments():
    a = [t for t, _ in tokens("total = count + 3  # x\nname = 'a'")]
    b = [t for t, _ in tokens("acc = n + 99\nother = \"zz\"")]
    assert a == b


def test_pasted_reference_solver_is_flagged():
    r = similarity_report("ex03_page_walks", {"paster": PASTED, "honest": INDEPENDENT_A},
                          REFERENCE_CODE)
    by = {m.a: m for m in r.against_reference}
    assert by["paster"].flagged and by["paster"].b == REFERENCE
    assert by["paster"].passages  # where it matches
    assert not by["honest"].flagged


def test_two_students_sharing_code_are_flagged():
    r = similarity_report("ex03_page_walks", {"ann": SHARED, "bob": SHARED_RENAMED,
                                              "cy": INDEPENDENT_B}, REFERENCE_CODE)
    flagged = {(m.a, m.b) for m in r.pairs if m.flagged}
    assert flagged == {("ann", "bob")}
    m = next(m for m in r.pairs if (m.a, m.b) == ("ann", "bob"))
    assert m.score > 0.8 and m.shared >= MIN_SHARED


def test_independent_correct_solutions_are_not_flagged():
    r = similarity_report("ex03_page_walks", {"a": INDEPENDENT_A, "b": INDEPENDENT_B,
                                              "c": SHARED}, REFERENCE_CODE)
    assert r.flagged == []


def test_scaffolding_is_ignored():
    scaffold = SHARED  # code every student was given does not make them copies
    fa, fb = fingerprint(SHARED), fingerprint(SHARED_RENAMED)
    assert compare("a", fa, "b", fb).flagged
    assert not compare("a", fa, "b", fb, frozenset(fingerprint(scaffold))).flagged


def test_a_flag_changes_no_score(tmp_path):
    """grade_many writes the report next to the grades; points stay as graded."""
    import pytest

    from virtlab.grading.batch import write_similarity
    from virtlab.grading.runner import GradeOptions
    from virtlab.grading.selftest import source_notebook
    from virtlab.grading.notebook import student_version
    sol = tmp_path / "sol"
    sol.mkdir()
    nbformat.write(source_notebook(), sol / "ex00_selftest.ipynb")
    subs = {}
    for student, code in (("ann", SHARED), ("bob", SHARED_RENAMED), ("cy", INDEPENDENT_B)):
        nb = student_version(source_notebook())
        for cell in nb.cells:
            if cell.metadata.get("virtlab", {}).get("role") == "answer" and \
                    cell.metadata["virtlab"]["id"] == "q1":
                cell.source = code.replace("ex.problem.", "P_") + "\nanswer = 0"
        path = tmp_path / "subs" / student / "ex00_selftest.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
        subs[(student, "ex00_selftest")] = (tmp_path / "subs", path)
    counts = write_similarity(tmp_path / "out", subs, GradeOptions(solutions_dir=sol))
    assert counts == {"ex00_selftest": 1}
    text = (tmp_path / "out" / "similarity" / "ex00_selftest.md").read_text()
    assert "## ann vs bob" in text and "never a penalty" in text
    assert not (tmp_path / "out" / "results").exists()
    pytest.importorskip("json")
