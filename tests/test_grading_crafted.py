"""The crafted-submission suite: every hostile or broken submission, one run, every row.

Graded with ``-j 2`` through :func:`virtlab.grading.batch.grade_many` (the code
behind ``virtlab grade``), in the bubblewrap sandbox, short timeouts and a
512 MiB kernel memory limit.  Besides issue 8's broken and cheating
notebooks it holds one attack per finding of issue 14 (``crafted.make_attacks``)
and honest submissions graded after them.
"""

import csv
import hashlib
import json
import os
import secrets
import sys
import time
from pathlib import Path

import nbformat
import pytest

from virtlab.grading.batch import grade_many
from virtlab.grading.report import load_results
from virtlab.grading.runner import GradeOptions
from virtlab.grading.sandbox import package_dir
from virtlab.grading.selftest import source_notebook

sys.path.insert(0, str(Path(__file__).parent / "grading_fixtures"))
from crafted import MARK, make_attacks, make_crafted, require_bwrap  # noqa: E402

# every test reads the one batch the module grades (~40 s)
pytestmark = pytest.mark.slow

SECRET = b"crafted-suite-secret"
ENV_SECRET = "crafted-env-secret-4711"


def tree_digest(folder: Path) -> str:
    """Names and bytes of every file below ``folder`` (to prove it unchanged)."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def site_listing() -> list:
    import site
    return sorted(name for d in site.getsitepackages() if os.path.isdir(d)
                  for name in os.listdir(d))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_bwrap()
    root = tmp_path_factory.mktemp("crafted")
    sol = root / "solutions"
    sol.mkdir()
    nbformat.write(source_notebook(), sol / "ex00_selftest.ipynb")
    token = secrets.token_hex(4)
    out = root / "out"
    cases = make_crafted(root / "subs", SECRET)
    cases.update(make_attacks(root / "subs", out, sol, SECRET, token))
    opts = GradeOptions(solutions_dir=sol, cell_timeout=2, notebook_timeout=25,
                        memory_mb=512, call_timeout=1, secret=SECRET)
    before = (tree_digest(package_dir()), site_listing())
    log = root / "progress.txt"
    old = os.environ.get("VIRTLAB_GRADING_SECRET")
    os.environ["VIRTLAB_GRADING_SECRET"] = ENV_SECRET  # where finding 4 looked for it
    try:
        with open(log, "w") as fh:
            summary = grade_many([root / "subs"], out, jobs=2, options=opts, progress=fh)
    finally:
        if old is None:
            del os.environ["VIRTLAB_GRADING_SECRET"]
        else:
            os.environ["VIRTLAB_GRADING_SECRET"] = old
    after = (tree_digest(package_dir()), site_listing())
    return {"cases": cases, "out": out, "summary": summary, "log": log.read_text(),
            "token": token, "before": before, "after": after}


def test_every_row_present_and_as_expected(graded):
    cases, out, summary = graded["cases"], graded["out"], graded["summary"]
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
    out = graded["out"]
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
    cases, out, progress = graded["cases"], graded["out"], graded["log"]
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
    out = graded["out"]
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


def _rows(graded):
    return {r["student"]: r for r in load_results(graded["out"])}


def test_finding_1_package_and_site_packages_unchanged(graded):
    assert graded["before"] == graded["after"]
    assert _rows(graded)["a01_tamper"]["questions"]["q1"] == 2.0  # every write failed


def test_finding_2_no_forged_or_overwritten_result(graded):
    rows = _rows(graded)
    assert "ghost" not in rows
    assert rows["alice"]["points"] == 10.0 and rows["alice"]["status"] == "ok"
    assert not (graded["out"] / "results" / "ghost__ex00_selftest.json").exists()


def test_finding_3_nothing_alive_or_left_after_the_run(graded):
    time.sleep(1.5)  # a surviving daemon writes every 0.5 s
    alive = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == MARK:  # only the attack's own processes
                alive.append(comm.parent.name)
        except OSError:
            continue
    assert not alive, f"attack processes still alive: {alive}"
    token = graded["token"]
    left = [str(p) for d in ("/tmp", "/dev/shm", str(graded["out"]))
            for p in Path(d).glob(f"{MARK}_{token}*")]
    assert not left, left


def test_finding_4_and_5_no_secret_no_hidden_input_in_any_report(graded):
    out = graded["out"]
    for path in list(out.rglob("*.json")) + list(out.rglob("*.csv")) + list(out.rglob("*.txt")):
        text = path.read_text()
        assert ENV_SECRET not in text and SECRET.decode() not in text, path
        assert "LEAK_" not in text, path
    for r in load_results(out):
        for t in r.get("tests", []):
            if t["visibility"] == "hidden":
                assert "HIDDEN_" not in t["message"], t
    hidden = [t for t in _rows(graded)["a05_hidden"]["tests"] if t["visibility"] == "hidden"]
    assert hidden and all(t["message"].endswith("raised an error") for t in hidden
                          if t["points"] < t["max_points"])


def test_finding_6_and_7_identity_and_references(graded):
    rows = _rows(graded)
    assert sum(rows["a06_reference"]["questions"].values()) == 0
    assert rows["a06_symlink"]["status"] == "unsafe_file"
    assert rows["a07_mallory"]["submission"].endswith("alice__ex00_selftest.ipynb")
    twice = [r for r in load_results(graded["out"]) if r["student"] == "a07_twice"]
    assert len(twice) == 1 and twice[0]["status"] == "duplicate"
    assert "ex00_selftest_v2.ipynb" in twice[0]["reason"]


def test_finding_9_and_10_inputs_outputs_and_reports(graded):
    rows = _rows(graded)
    assert "output" in rows["a09_output"]["reason"]
    assert rows["a10_deep"]["status"] == "invalid_json"
    with open(graded["out"] / "grades.csv", newline="") as fh:
        table = {r["student"]: r for r in csv.DictReader(fh)}
    assert table["a10_formula"]["exercise"].startswith("'=")
    assert all(not v.startswith(("=", "+", "-", "@")) for r in table.values()
               for v in r.values() if v)
    assert "zz_fake" in rows["a10_stderr"]["kernel_log"]
    assert "zz_fake" not in graded["log"]


def test_every_result_was_graded_in_the_sandbox(graded):
    for r in load_results(graded["out"]):
        if r.get("gradable"):
            assert r["sandboxed"] is True


def test_finding_9_retries_bounded_by_one_and_a_half_timeouts(tmp_path):
    """Every answer hangs the kernel (SIGINT ignored): each run is a retry."""
    require_bwrap()
    from crafted import _filled
    from virtlab.grading.runner import grade_submission
    sol = tmp_path / "solutions"
    sol.mkdir()
    nbformat.write(source_notebook(), sol / "ex00_selftest.ipynb")
    hang = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"
    path = tmp_path / "subs" / "hung" / "ex00_selftest.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(_filled({"q1": hang, "q2": hang, "q3": hang}), path)
    opts = GradeOptions(solutions_dir=sol, cell_timeout=2, notebook_timeout=8,
                        memory_mb=512, call_timeout=1, secret=SECRET)
    t0 = time.monotonic()
    r = grade_submission(path, options=opts, root=tmp_path / "subs")
    took = time.monotonic() - t0
    assert r.status == "timeout"
    assert took <= 1.5 * 8 + 6, took  # + one kernel start-up and the hang probe
