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
