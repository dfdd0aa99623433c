"""Grading on a cluster: shards from the array job's environment, and their merge.

Four shards graded as separate ``virtlab grade`` processes and merged give the
same ``grades.csv`` as one unsharded run, row for row; the merge refuses a
shard given twice or a submission graded twice and reports what is missing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from virtlab.grading.batch import merge_outputs, shard_from_env
from virtlab.grading.selftest import source_notebook

sys.path.insert(0, str(Path(__file__).resolve().parent / "grading_fixtures"))
from crafted import _filled, require_bwrap  # noqa: E402

SECRET = "shard-suite-secret"
VIRTLAB = Path(sys.executable).with_name("virtlab")
STUDENTS = {"ann": {}, "ben": {"q3": "def refs(n, m):\n    return 0"}, "cem": {},
            "dia": {"q2": "table = {}"}, "eva": {}}


def _grade(args: list, tmp: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, VIRTLAB_GRADING_SECRET=SECRET)
    env.pop("JOB_COMPLETION_INDEX", None)
    env.pop("SLURM_ARRAY_TASK_ID", None)
    return subprocess.run([str(VIRTLAB), "grade", *args, "--solutions", str(tmp / "solutions"),
                           "--cell-timeout", "10", "--timeout", "60"],
                          capture_output=True, text=True, timeout=600, env=env)


def _rows(out: Path) -> list[dict]:
    # every column but the measured run time
    return [{k: v for k, v in row.items() if k != "runtime_s"}
            for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    require_bwrap()
    tmp = tmp_path_factory.mktemp("shards")
    (tmp / "solutions").mkdir()
    nbformat.write(source_notebook(), tmp / "solutions" / "ex00_selftest.ipynb")
    for student, answers in STUDENTS.items():
        (tmp / "subs" / student).mkdir(parents=True)
        nbformat.write(_filled(answers), tmp / "subs" / student / "ex00_selftest.ipynb")
    whole = _grade([str(tmp / "subs"), "--out", str(tmp / "all")], tmp)
    assert whole.returncode == 0, whole.stderr
    for i in range(1, 5):
        r = _grade([str(tmp / "subs"), "--shard", f"{i}/4", "--out", str(tmp / f"s{i}")], tmp)
        assert r.returncode == 0, r.stderr
    return tmp


@pytest.mark.slow
def test_four_shards_merged_equal_one_run(course):
    merged = _grade(["--merge", *(str(course / f"s{i}") for i in range(1, 5)),
                     "--out", str(course / "merged")], course)
    assert merged.returncode == 0, merged.stderr
    want, got = _rows(course / "all"), _rows(course / "merged")
    assert [r["student"] for r in want] == sorted(STUDENTS)
    assert got == want
    # the partly wrong students really lost points: the comparison is not of empty rows
    points = {r["student"]: float(r["points"]) for r in got}
    assert points["ben"] < points["ann"] and points["dia"] < points["ann"]


@pytest.mark.slow
def test_merge_refuses_overlaps_and_reports_missing(course, tmp_path):
    with pytest.raises(ValueError, match="given twice"):
        merge_outputs([course / "s1", course / "s1"], tmp_path / "twice")
    dup = tmp_path / "s2dup"
    shutil.copytree(course / "s2", dup)
    plan = json.loads((dup / "shard.json").read_text())
    plan["shard"] = [3, 4]
    (dup / "shard.json").write_text(json.dumps(plan))
    with pytest.raises(ValueError, match="graded in both"):
        merge_outputs([course / "s2", dup], tmp_path / "overlap")
    s = merge_outputs([course / "s1", course / "s2"], tmp_path / "half")
    assert s["missing_shards"] == [3, 4]
    gone = tmp_path / "s1gone"
    shutil.copytree(course / "s1", gone)
    lost = sorted((gone / "results").glob("*.json"))[0]
    lost.unlink()
    s = merge_outputs([gone, course / "s2", course / "s3", course / "s4"], tmp_path / "lost")
    assert s["missing_shards"] == [] and len(s["missing"]) == 1
    assert s["missing"][0][0] == lost.name.split("__")[0]


def test_merge_needs_grader_outputs(tmp_path):
    with pytest.raises(ValueError, match="no shard.json"):
        merge_outputs([tmp_path], tmp_path / "out")
    with pytest.raises(ValueError, match="at least one"):
        merge_outputs([], tmp_path / "out")


@pytest.mark.parametrize("env, total, want", [
    ({"JOB_COMPLETION_INDEX": "0"}, 4, (1, 4)),
    ({"JOB_COMPLETION_INDEX": "3", "VIRTLAB_SHARDS": "4"}, None, (4, 4)),
    ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "8"}, None, (1, 8)),
    ({"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1",
      "SLURM_ARRAY_TASK_COUNT": "8"}, None, (5, 8)),
    ({"SLURM_ARRAY_TASK_ID": "5"}, 8, (6, 8)),
    ({}, 4, None),
])
def test_shard_from_the_array_job(env, total, want):
    assert shard_from_env(env, total) == want


@pytest.mark.parametrize("env, total", [
    ({"JOB_COMPLETION_INDEX": "4"}, 4), ({"JOB_COMPLETION_INDEX": "x"}, 4),
    ({"JOB_COMPLETION_INDEX": "1"}, None), ({"SLURM_ARRAY_TASK_ID": "1"}, None),
])
def test_bad_array_environment(env, total):
    with pytest.raises(ValueError):
        shard_from_env(env, total)


def test_cli_reads_the_index_from_the_environment(tmp_path):
    # no submissions: the run only decides its shard and writes an empty report
    (tmp_path / "subs").mkdir()
    (tmp_path / "solutions").mkdir()
    env = dict(os.environ, JOB_COMPLETION_INDEX="1", VIRTLAB_GRADING_SECRET=SECRET)
    r = subprocess.run([str(VIRTLAB), "grade", str(tmp_path / "subs"), "--shards", "3",
                        "--out", str(tmp_path / "out")], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "out" / "shard.json").read_text())["shard"] == [2, 3]
