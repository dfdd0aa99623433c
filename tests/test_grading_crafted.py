"""The crafted-submission suite: every hostile or broken submission, one run, every row.

Graded with ``-j 2`` through :func:`virtlab.grading.batch.grade_many` (the code
behind ``virtlab grade``), short timeouts and a 512 MiB kernel memory limit.
"""

import csv
import json
import sys
from pathlib import Path

import nbformat
import pytest

from virtlab.grading.batch import grade_many
from virtlab.grading.report import load_results
from virtlab.grading.runner import GradeOptions
from virtlab.grading.selftest import source_notebook

sys.path.insert(0, str(Path(__file__).parent / "grading_fixtures"))
from crafted import make_crafted  # noqa: E402

SECRET = b"crafted-suite-secret"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("crafted")
    sol = root / "solutions"
    sol.mkdir()
    nbformat.write(source_notebook(), sol / "ex00_selftest.ipynb")
    cases = make_crafted(root / "subs", SECRET)
    opts = GradeOptions(solutions_dir=sol, cell_timeout=2, notebook_timeout=25,
                        memory_mb=512, call_timeout=1, secret=SECRET)
    log = root / "progress.txt"
    with open(log, "w") as fh:
        summary = grade_many([root / "subs"], root / "out", jobs=2, options=opts, progress=fh)
    return cases, root / "out", summary, log.read_text()


def test_every_row_present_and_as_expected(graded):
    cases, out, summary, _ = graded
    rows = {r["student"]: r for r in load_results(out)}
    assert set(rows) == set(cases)
    wrong = []
    for student, case in cases.items():
        r = rows[student]
        ok = r["status"] == case["status"] and case["check"](r.get("questions", {}))
        if not ok:
            wrong.append(f"{student} ({case['why']}): {r['status']} {r.get('questions')} "
                         f"{r.get('reason')}")
    assert not wrong, "\n".join(wrong)
    assert summary["submissions"] == len(cases)


def test_reasons_are_clear(graded):
    _, out, _, _ = graded
    rows = {r["student"]: r for r in load_results(out)}
    assert "q1_answer" in rows["erin"]["reason"]
    assert "q2_answer" in rows["frank"]["reason"]
    assert "memory" in rows["gina"]["reason"]
    assert "deleted" in rows["jack"]["reason"]
    assert "duplicated" in rows["kate"]["reason"]
    assert "edited" in rows["liam"]["reason"]
    for r in rows.values():
        assert r["reason"]


def test_grades_csv_and_progress(graded):
    cases, out, _, progress = graded
    with open(out / "grades.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == len(cases)
    assert {"student", "variant", "q1", "q2", "q3", "points", "max_points", "status",
            "runtime_s"} <= set(table[0])
    alice = next(r for r in table if r["student"] == "alice")
    assert float(alice["points"]) == float(alice["max_points"]) == 10
    assert f"{len(cases)}/{len(cases)}" in progress and "#" in progress
    s = json.loads((out / "summary.json").read_text())
    assert 0 < s["questions"]["ex00_selftest"]["q1"]["pass_rate"] < 1


def test_results_json_is_prairielearn_shaped_and_leaks_no_hidden_input(graded):
    _, out, _, _ = graded
    for path in (out / "results").glob("*.json"):
        r = json.loads(path.read_text())
        assert {"score", "tests", "gradable", "message"} <= set(r)
        for t in r["tests"]:
            assert {"name", "points", "max_points", "message", "visibility"} <= set(t)
            if t["visibility"] == "hidden":
                # hidden cases are reported by number only, never by input or value
                assert "(" not in t["message"] and "expected" not in t["message"]
    bob = json.loads((out / "results" / "bob__ex00_selftest.json").read_text())
    assert any(t["visibility"] == "hidden" and t["points"] < t["max_points"]
               for t in bob["tests"])
