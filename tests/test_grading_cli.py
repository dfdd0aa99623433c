"""The virtlab assign / grade / check-solutions commands."""

import json
import shutil

import nbformat
import pytest

from virtlab import cli
from virtlab.grading.notebook import student_version
from virtlab.grading.selftest import source_notebook


@pytest.fixture
def course(tmp_path):
    sol = tmp_path / "solutions"
    sol.mkdir()
    nbformat.write(source_notebook(), sol / "ex00_selftest.ipynb")
    return tmp_path


def test_assign_then_check(course, capsys):
    sol, exe = str(course / "solutions"), str(course / "exercises")
    assert cli.main(["assign", "--solutions", sol, "--exercises", exe, "--check"]) == 1
    assert cli.main(["assign", "--solutions", sol, "--exercises", exe]) == 0
    assert cli.main(["assign", "--solutions", sol, "--exercises", exe, "--check"]) == 0
    (course / "exercises" / "ex00_selftest.ipynb").write_text("{}")
    assert cli.main(["assign", "--solutions", sol, "--exercises", exe, "--check"]) == 1


def test_assign_roster_release(course, tmp_path):
    roster = tmp_path / "roster.txt"
    roster.write_text("alice\nbob\n")
    rel = tmp_path / "release"
    assert cli.main(["assign", "--solutions", str(course / "solutions"), "--exercises",
                     str(course / "exercises"), "--roster", str(roster),
                     "--release", str(rel)]) == 0
    text = (rel / "alice" / "ex00_selftest.ipynb").read_text()
    codes = (rel / "variants.csv").read_text().splitlines()
    assert codes[0] == "student,exercise,variant" and len(codes) == 3
    alice_code = codes[1].split(",")[2]
    assert f'VARIANT = \\"{alice_code}\\"' in text
    assert alice_code not in (rel / "bob" / "ex00_selftest.ipynb").read_text()


def test_check_solutions_command(course, capsys):
    sol, exe = str(course / "solutions"), str(course / "exercises")
    cli.main(["assign", "--solutions", sol, "--exercises", exe])
    assert cli.main(["check-solutions", "--seeds", "3", "--solutions", sol,
                     "--exercises", exe]) == 0
    assert "check-solutions: OK" in capsys.readouterr().out
    # a source whose "test" cannot fail: the stub would already be the answer
    nb = source_notebook()
    for c in nb.cells:
        if c.metadata["virtlab"].get("id") == "q1" and c.metadata["virtlab"]["role"] == "answer":
            c.source = ("p = ex.problem\nanswer = p['n'] * p['m'] + p['n'] + p['m']\n"
                        "### BEGIN SOLUTION\ndummy = 0\n### END SOLUTION")
    nbformat.write(nb, course / "solutions" / "ex00_selftest.ipynb")
    cli.main(["assign", "--solutions", sol, "--exercises", exe])
    assert cli.main(["check-solutions", "--seeds", "2", "--solutions", sol,
                     "--exercises", exe]) == 1
    assert "a test that cannot fail" in capsys.readouterr().err


@pytest.mark.slow
def test_grade_shards_skips_and_force(course, capsys):
    subs = course / "subs"
    for student in ("ann", "ben", "cy"):
        (subs / student).mkdir(parents=True)
        nbformat.write(student_version(source_notebook()), subs / student / "ex00_selftest.ipynb")
    out = course / "out"
    base = ["grade", str(subs), "--out", str(out), "--solutions", str(course / "solutions"),
            "--cell-timeout", "20"]
    assert cli.main(base + ["--shard", "1/2"]) == 0
    assert sorted(p.name for p in (out / "results").iterdir()) == [
        "ann__ex00_selftest.json", "cy__ex00_selftest.json"]
    assert cli.main(base + ["--shard", "2/2"]) == 0
    err = capsys.readouterr().err
    assert "1/1 ben" in err
    assert len((out / "grades.csv").read_text().splitlines()) == 4
    before = (out / "results" / "ann__ex00_selftest.json").stat().st_mtime_ns
    assert cli.main(base) == 0
    assert "3 already graded" in capsys.readouterr().err
    assert (out / "results" / "ann__ex00_selftest.json").stat().st_mtime_ns == before
    assert cli.main(base + ["--force", "--shard", "1/3"]) == 0
    assert (out / "results" / "ann__ex00_selftest.json").stat().st_mtime_ns != before
    assert cli.main(base + ["--shard", "3/2"]) == 2
    r = json.loads((out / "results" / "ben__ex00_selftest.json").read_text())
    assert r["points"] == 0 and r["status"] == "ok"
    assert not list(out.glob(".*"))              # no temporary files left behind
    shutil.rmtree(out)


def test_private_solutions_folder_outside_the_course(tmp_path, capsys):
    """Issue 14: graded sources and solvers kept private, passed with --solutions."""
    import sys as _sys
    from pathlib import Path as _Path
    _sys.path.insert(0, str(_Path(__file__).parent / "grading_fixtures"))
    from crafted import _filled, require_bwrap
    require_bwrap()
    private = tmp_path / "private"
    private.mkdir()
    (private / "ex90_private.py").write_text(
        "from virtlab.grading.exercise import Exercise\n"
        "from virtlab.grading.selftest import EXERCISE as _S, make_problem, solve\n"
        "EXERCISE = Exercise(id='ex90_private', title='Private', make_problem=make_problem,\n"
        "                    solve=solve, questions=_S.questions)\n")
    src = source_notebook()
    src.metadata["virtlab"]["exercise"] = "ex90_private"
    for cell in src.cells:
        cell.source = cell.source.replace("ex00_selftest", "ex90_private")
    nbformat.write(src, private / "ex90_private.ipynb")
    exe = tmp_path / "public" / "exercises"
    assert cli.main(["assign", "--solutions", str(private), "--exercises", str(exe)]) == 0
    assert "BEGIN SOLUTION" not in (exe / "ex90_private.ipynb").read_text()
    nb = _filled()
    nb.metadata["virtlab"]["exercise"] = "ex90_private"
    for cell in nb.cells:
        cell.source = cell.source.replace("ex00_selftest", "ex90_private")
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "subs" / "ann" / "ex90_private.ipynb")
    out = tmp_path / "out"
    assert cli.main(["grade", str(tmp_path / "subs"), "--out", str(out), "--solutions",
                     str(private), "--cell-timeout", "20"]) == 0
    r = json.loads((out / "results" / "ann__ex90_private.json").read_text())
    assert r["status"] == "ok" and r["points"] == r["max_points"] == 10, r
    assert r["sandboxed"] is True
    from virtlab.grading import exercise
    exercise._EXTRA.pop("ex90_private", None)  # keep the private exercise out of other tests


def test_grade_refuses_without_bwrap(course, tmp_path, monkeypatch, capsys):
    """No sandbox, no grading -- unless the instructor opts out, loudly."""
    import virtlab.grading.sandbox as sandbox
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    subs = course / "subs"
    (subs / "ann").mkdir(parents=True)
    nbformat.write(student_version(source_notebook()), subs / "ann" / "ex00_selftest.ipynb")
    base = ["grade", str(subs), "--out", str(tmp_path / "out"), "--solutions",
            str(course / "solutions"), "--cell-timeout", "20"]
    assert cli.main(base) == 2
    err = capsys.readouterr().err
    assert "refusing to grade" in err and "bubblewrap" in err
    assert not (tmp_path / "out" / "results").exists()
    assert cli.main(base + ["--unsafe-no-sandbox"]) == 0
    err = capsys.readouterr().err
    assert "WARNING" in err and "WITHOUT A SANDBOX" in err
    r = json.loads((tmp_path / "out" / "results" / "ann__ex00_selftest.json").read_text())
    assert r["status"] == "ok" and r["sandboxed"] is False


def test_a_file_named_directly_belongs_to_its_folder(course, capsys):
    subs = course / "subs"
    (subs / "dora").mkdir(parents=True)
    nbformat.write(student_version(source_notebook()), subs / "dora" / "ex00_selftest.ipynb")
    out = course / "out"
    assert cli.main(["grade", str(subs / "dora" / "ex00_selftest.ipynb"), "--out", str(out),
                     "--solutions", str(course / "solutions"), "--cell-timeout", "20"]) == 0
    r = json.loads((out / "results" / "dora__ex00_selftest.json").read_text())
    assert r["student"] == "dora" and r["status"] == "ok"
