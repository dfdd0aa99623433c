"""The deployment folder without a hub running: the hub configuration's hooks,
the load test's statistics and wire format, the Zero to JupyterHub sizing and
its trace to the load test results, the repo2docker image definition, and the
cluster grading job specifications.

The image definition's install steps need PyPI and take minutes: that test
runs only with ``VIRTLAB_TEST_IMAGE=1`` (README "Past one machine").
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
HUB_CONFIG = ROOT / "deploy" / "hub" / "jupyterhub_config.py"
Z2JH = ROOT / "deploy" / "z2jh"
CLUSTER = ROOT / "deploy" / "cluster"
BINDER = ROOT / "binder"
RESULTS = ROOT / "benchmarks" / "hub_results.json"

from benchmarks.hub import decode_frame, new_message
from benchmarks.hub_load import capacity, percentile

_spec = importlib.util.spec_from_file_location("virtlab_z2jh_size", Z2JH / "size.py")
size = importlib.util.module_from_spec(_spec)  # deploy/z2jh/size.py is a script
_spec.loader.exec_module(size)


# -- deploy/hub/jupyterhub_config.py ------------------------------------------------------

@pytest.fixture
def hub_config(tmp_path, monkeypatch):
    """The configuration file evaluated as JupyterHub would, state in tmp_path."""
    monkeypatch.setenv("VIRTLAB_HUB_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("VIRTLAB_HUB_PORT", "18123")
    monkeypatch.delenv("VIRTLAB_HUB_SERVICE_TOKEN", raising=False)
    monkeypatch.delenv("VIRTLAB_HUB_LEAN", raising=False)
    c = Config()
    namespace = {"get_config": lambda: c, "__file__": str(HUB_CONFIG)}
    exec(compile(HUB_CONFIG.read_text(), str(HUB_CONFIG), "exec"), namespace)  # noqa: S102
    return c, namespace


class FakeSpawner:
    def __init__(self, home: Path):
        self.home_dir = str(home)
        self.environment = {"PYTHONHASHSEED": "0"}
        self.user_options = {}

        class Log:
            def info(self, *args):
                pass

        self.log = Log()


def test_hub_binds_to_localhost_only(hub_config):
    c, _ = hub_config
    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.hub_ip == "127.0.0.1"
    assert c.JupyterHub.port == 18123
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert "services" not in c.JupyterHub  # no service token, no service


def test_first_login_copies_the_course_and_later_logins_keep_edits(hub_config, tmp_path):
    c, _ = hub_config
    home = tmp_path / "homes" / "ada"
    spawner = FakeSpawner(home)
    c.Spawner.pre_spawn_hook(spawner)
    for folder in ("notebooks", "exercises"):
        expected = sorted(p.name for p in (ROOT / folder).glob("*.ipynb"))
        assert sorted(p.name for p in (home / folder).glob("*.ipynb")) == expected
    edited = home / "notebooks" / "00_start_here.ipynb"
    edited.write_text("the student's own edit")
    (home / "exercises" / "ex01_popek_goldberg.ipynb").unlink()
    c.Spawner.pre_spawn_hook(spawner)  # second login
    assert edited.read_text() == "the student's own edit"
    assert not (home / "exercises" / "ex01_popek_goldberg.ipynb").exists()


def test_language_choice_reaches_the_server_environment(hub_config, tmp_path):
    c, _ = hub_config
    spawner = FakeSpawner(tmp_path)
    c.Spawner.apply_user_options(spawner, {"lang": "de"})
    assert spawner.environment["VIRTLAB_LANG"] == "de"
    assert spawner.environment["PYTHONHASHSEED"] == "0"  # kept
    c.Spawner.apply_user_options(spawner, {})
    assert spawner.environment["VIRTLAB_LANG"] == "en"
    with pytest.raises(ValueError, match="lang"):
        c.Spawner.apply_user_options(spawner, {"lang": "fr"})
    assert c.Spawner.options_from_form({"lang": ["de"]}) == {"lang": "de"}
    with pytest.raises(ValueError, match="lang"):
        c.Spawner.options_from_form({"lang": ["<script>"]})
    assert 'name="lang"' in c.Spawner.options_form


def test_every_students_server_gets_nodelay_websockets(hub_config, monkeypatch):
    from virtlab.coursecli import server_args

    c, _ = hub_config
    assert set(server_args()) <= set(c.Spawner.args)
    monkeypatch.setenv("VIRTLAB_HUB_LEAN", "0")   # not one of the switchable savings
    c2 = Config()
    exec(compile(HUB_CONFIG.read_text(), str(HUB_CONFIG), "exec"),  # noqa: S102
         {"get_config": lambda: c2, "__file__": str(HUB_CONFIG)})
    assert set(server_args()) <= set(c2.Spawner.args)


def test_lean_settings_switch(hub_config, monkeypatch, tmp_path):
    c, _ = hub_config
    assert c.Spawner.environment["JUPYTER_CONFIG_PATH"].endswith("singleuser")
    settings = json.loads((Path(c.Spawner.environment["JUPYTER_CONFIG_PATH"])
                           / "jupyter_server_config.json").read_text())
    assert settings["ServerApp"]["terminals_enabled"] is False
    monkeypatch.setenv("VIRTLAB_HUB_LEAN", "0")
    c2 = Config()
    exec(compile(HUB_CONFIG.read_text(), str(HUB_CONFIG), "exec"),  # noqa: S102
         {"get_config": lambda: c2, "__file__": str(HUB_CONFIG)})
    assert "JUPYTER_CONFIG_PATH" not in c2.Spawner.environment


# -- the load test's helpers ------------------------------------------------------------

def test_percentile_and_capacity():
    values = list(range(1, 101))
    assert percentile(values, 95) == 95 and percentile(values, 50) == 50
    assert percentile([7], 95) == 7
    runs = [{"users": 5, "failures": 0, "widget_p95_ms": 250.0},
            {"users": 10, "failures": 0, "widget_p95_ms": 250.1},
            {"users": 20, "failures": 0, "widget_p95_ms": None}]
    assert capacity(runs) == 5  # the target is inclusive; no samples is no capacity
    assert capacity([{"users": 40, "failures": 1, "widget_p95_ms": 10}]) == 0


def test_binary_frame_with_buffers():
    body = json.dumps(new_message("comm_msg", {"comm_id": "x"}, "s")).encode()
    image = b"\x89PNG" + bytes(100)
    offsets = [4 * 3, 4 * 3 + len(body)]
    frame = (2).to_bytes(4, "big") + b"".join(o.to_bytes(4, "big") for o in offsets) \
        + body + image
    assert decode_frame(frame)["content"] == {"comm_id": "x"}


# -- deploy/z2jh ------------------------------------------------------------------------

def _results(*runs):
    return {"date_utc": "2026-12-01T00:00:00Z", "capacity": 5, "runs": list(runs)}


def _run(users, failures=0, rss=200.0, kernel=120.0, cpu=0.1, p95=100.0):
    return {"users": users, "failures": failures, "rss_per_student_mib": rss,
            "kernel_rss_per_student_mib": kernel, "cpu_per_student_cores": cpu,
            "widget_p95_ms": p95, "load_avg_1min_before": 1.0}


def test_sizing_rules_by_hand():
    s = size.sizing(_results(_run(5), _run(10, rss=200.0), _run(20, failures=1, rss=999),
                             _run(40, rss=999, p95=251.0)),
                    students=300, node_cpu=8, node_mem_gib=32, course_mib=3.4)
    assert s["reference_run_users"] == 10  # not 20 (failed) nor 40 (p95 over 250 ms)
    assert s["mem_guarantee_mib"] == 256   # 200 * 1.25 = 250 -> 256
    assert s["mem_limit_mib"] == 512       # 256 + 2 * 120 = 496 -> 512
    assert s["cpu_guarantee"] == 0.2       # 0.1 * 2
    # 8 * 0.9 = 7.2 cores / 0.2 = 36; 32 GiB * 0.9 = 29491 MiB / 256 = 115
    assert s["students_per_node"] == 36 and s["binding_resource"] == "cpu"
    assert s["nodes"] == 9                 # ceil(300 / 36)
    assert s["storage_gib"] == 1           # 3.4 MiB * 50 < 1 GiB


def test_sizing_refuses_results_without_a_clean_run():
    with pytest.raises(ValueError, match="no run without failures"):
        size.sizing(_results(_run(5, failures=2)), 300, 8, 32, 3.4)
    with pytest.raises(ValueError, match="p95 target"):
        size.sizing(_results(_run(5, p95=300.0)), 300, 8, 32, 3.4)
    with pytest.raises(ValueError, match="students"):
        size.sizing(_results(_run(5)), 0, 8, 32, 3.4)


def test_committed_values_are_computed_from_the_committed_results(tmp_path):
    out = tmp_path / "values.yaml"
    assert size.main(["--results", str(RESULTS), "--out", str(out)]) == 0
    assert out.read_text() == (Z2JH / "values.yaml").read_text(), (
        "deploy/z2jh/values.yaml is stale: run python deploy/z2jh/size.py")
    assert (tmp_path / "sizing.json").read_text() == (Z2JH / "sizing.json").read_text()


def test_values_are_zero_to_jupyterhub_values_sized_from_the_load_test():
    values = yaml.safe_load((Z2JH / "values.yaml").read_text())
    sizing = json.loads((Z2JH / "sizing.json").read_text())
    results = json.loads(RESULTS.read_text())
    run = next(r for r in results["runs"] if r["users"] == sizing["reference_run_users"])
    assert run["failures"] == 0 and run["widget_p95_ms"] <= results["p95_target_ms"]
    assert run["users"] == results["capacity"]
    user = values["singleuser"]
    guarantee = int(user["memory"]["guarantee"].rstrip("M"))
    limit = int(user["memory"]["limit"].rstrip("M"))
    assert run["rss_per_student_mib"] <= guarantee <= limit
    assert user["cpu"]["guarantee"] >= run["cpu_per_student_cores"]
    assert user["cpu"]["guarantee"] <= user["cpu"]["limit"]
    assert sizing["students"] == 300
    assert sizing["nodes"] * sizing["students_per_node"] >= 300
    assert values["cull"]["enabled"] and values["cull"]["timeout"] > 0
    assert user["storage"]["type"] == "dynamic"
    langs = {p["kubespawner_override"]["environment"]["VIRTLAB_LANG"]
             for p in user["profileList"]}
    assert langs == {"en", "de"}


# -- binder/ (repo2docker) --------------------------------------------------------------

def test_image_pins_satisfy_virtlabs_dependencies():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = [Requirement(r) for r in project["dependencies"] + extras["lab"]]
    # an extra that pulls in another extra of virtlab itself (virtlab[host]) means its packages
    for req in [r for r in declared if r.name == "virtlab"]:
        declared.remove(req)
        declared += [Requirement(r) for extra in req.extras for r in extras[extra]]
    pins = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{line}: pin exact versions"
            pins[req.name.lower()] = spec.version
    for req in declared:
        assert req.name.lower() in pins, f"{req.name} missing from binder/requirements.txt"
        assert req.specifier.contains(pins[req.name.lower()]), (req, pins[req.name.lower()])


def test_image_scripts_are_executable_shell():
    for name in ("postBuild", "start"):
        path = BINDER / name
        assert path.stat().st_mode & stat.S_IXUSR, f"binder/{name} must be executable"
        subprocess.run(["bash", "-n", str(path)], check=True)
    assert (BINDER / "runtime.txt").read_text().strip().startswith("python-3.")


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("VIRTLAB_TEST_IMAGE") != "1",
                    reason="needs PyPI and minutes: VIRTLAB_TEST_IMAGE=1 (README)")
def test_image_install_steps_in_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(NB_PYTHON_PREFIX=str(venv), PATH=f"{venv / 'bin'}:{env['PATH']}")
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet",
                    "-r", str(BINDER / "requirements.txt")], check=True, env=env)
    subprocess.run(["bash", str(BINDER / "postBuild")], check=True, env=env, cwd=ROOT)
    share = venv / "share" / "virtlab"
    assert list((share / "mplconfig").glob("fontlist-*.json"))
    assert (share / "course" / "notebooks" / "00_start_here.ipynb").is_file()


# -- deploy/cluster ---------------------------------------------------------------------

def test_kubernetes_indexed_job_grades_every_shard_then_merges():
    docs = list(yaml.safe_load_all((CLUSTER / "k8s-grade-job.yaml").read_text()))
    shards, merge = docs
    spec = shards["spec"]
    assert spec["completionMode"] == "Indexed"
    n = spec["completions"]
    assert spec["parallelism"] == n
    container = spec["template"]["spec"]["containers"][0]
    assert {"name": "SHARDS", "value": str(n)} in container["env"]
    script = container["args"][0]
    assert "$((JOB_COMPLETION_INDEX + 1))" in script  # virtlab's shards are 1-based
    assert '--shard "$i/$SHARDS"' in script and "shard-$JOB_COMPLETION_INDEX" in script
    merge_spec = merge["spec"]["template"]["spec"]
    for c in merge_spec["initContainers"] + merge_spec["containers"]:
        assert {"name": "SHARDS", "value": str(n)} in c["env"]
    assert "virtlab grade --merge" in merge_spec["containers"][0]["args"][0]


def test_slurm_array_grades_every_shard_then_merges(tmp_path):
    grade = (CLUSTER / "slurm-grade.sbatch").read_text()
    merge = (CLUSTER / "slurm-merge.sbatch").read_text()
    for path in (CLUSTER / "slurm-grade.sbatch", CLUSTER / "slurm-merge.sbatch"):
        subprocess.run(["bash", "-n", str(path)], check=True)
    assert "#SBATCH --array=0-3" in grade
    assert "$((SLURM_ARRAY_TASK_ID + 1))" in grade and '--shard "$i/$n"' in grade
    assert "virtlab grade --merge" in merge
    # the array script, run as array task 2 of 4, grades shard 3/4 into shard-2
    env = dict(os.environ, SLURM_ARRAY_TASK_ID="2", SLURM_ARRAY_TASK_COUNT="4",
               PATH=f"{_fake_virtlab(tmp_path)}:{os.environ['PATH']}")
    env.pop("SLURM_CPUS_PER_TASK", None)
    out = subprocess.run(["bash", str(CLUSTER / "slurm-grade.sbatch"), "subs", "out"],
                         env=env, check=True, capture_output=True, text=True).stdout
    assert out.split() == ["grade", "subs", "--shard", "3/4", "--out", "out/shard-2",
                           "-j", "1"]


def _fake_virtlab(tmp: Path) -> Path:
    """A ``virtlab`` that prints its arguments (for the job scripts' command lines)."""
    folder = tmp / "bin"
    folder.mkdir()
    script = folder / "virtlab"
    script.write_text('#!/bin/sh\necho "$@"\n')
    script.chmod(0o755)
    return folder


def test_cull_and_sizing_numbers_are_finite():
    sizing = json.loads((Z2JH / "sizing.json").read_text())
    for key in ("mem_guarantee_mib", "mem_limit_mib", "cpu_guarantee", "nodes"):
        assert math.isfinite(sizing[key]) and sizing[key] > 0
