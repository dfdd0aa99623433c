"""The `virtlab` command and the `make lab` entry point."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import virtlab
from virtlab import cli

ROOT = Path(__file__).resolve().parent.parent


def test_version_flag():
    out = subprocess.run([sys.executable, "-m", "virtlab.cli", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"virtlab {virtlab.__version__}"


def test_console_script_installed():
    exe = Path(sys.executable).with_name("virtlab")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("virtlab ")


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "lab" in capsys.readouterr().out


def test_lab_refuses_missing_notebook(capsys):
    assert cli.main(["lab", "--notebook", "notebooks/nope.ipynb"]) == 2
    assert "no notebook" in capsys.readouterr().err


def test_repo_root_holds_notebooks():
    assert (cli.repo_root() / "notebooks" / "00_start_here.ipynb").is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_make_lab_serves_start_here():
    """`make lab ARGS=--no-browser` starts a JupyterLab that serves notebook 00."""
    port, token = _free_port(), secrets.token_hex(8)
    args = f"--no-browser --port={port} --ip=127.0.0.1 --ServerApp.token={token}"
    proc = subprocess.Popen(["make", "-s", "lab", f"ARGS={args}"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = (f"http://127.0.0.1:{port}/api/contents/notebooks/00_start_here.ipynb"
           f"?token={token}&content=0")
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    info = json.load(resp)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not come up (exit code {proc.poll()})")
                time.sleep(0.5)
        assert info["name"] == "00_start_here.ipynb" and info["type"] == "notebook"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}",
                                    timeout=10) as resp:
            assert resp.status == 200 and b"JupyterLab" in resp.read()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # our own process group only
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_grading_never_imports_the_cli():
    """grading depends on paths, not on cli (issue 13: no cli <-> grading cycle)."""
    import ast

    offenders = []
    for path in (ROOT / "virtlab" / "grading").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
                if (node.level == 2 and node.module == "cli") or (
                        node.level == 2 and node.module is None and "cli" in names) or (
                        node.module == "virtlab.cli"):
                    offenders.append(str(path))
            elif isinstance(node, ast.Import):
                if any(a.name == "virtlab.cli" for a in node.names):
                    offenders.append(str(path))
    assert not offenders


def test_commands_are_assembled_not_registered():
    import virtlab.grading.cli as gcli
    import virtlab.coursecli as ccli
    assert set(gcli.COMMANDS) == {"assign", "grade", "check-solutions", "practice"}
    assert set(ccli.COMMANDS) == {"slides", "course", "present"}
    assert set(cli.COMMANDS) == {"lab"}  # nobody mutated it at import time
    assert set(cli.commands()) == {"lab", "assign", "grade", "check-solutions", "practice",
                                   "slides", "course", "present"}


@pytest.mark.parametrize("module", ["virtlab", "virtlab.cli"])
def test_python_dash_m_runs_grade(module, tmp_path):
    """`python -m virtlab grade ...` and `python -m virtlab.cli grade ...` both know grade."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", module, "grade", "--help"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "--unsafe-no-sandbox" in run.stdout and "--out" in run.stdout


@pytest.mark.parametrize("number,expected", [("11", "11_cpu_scheduling"), ("3", "03_partitioning")])
def test_present_builds_a_local_rise_or_voila_command(number, expected):
    from types import SimpleNamespace

    from virtlab.coursecli import present_cmd
    from virtlab.paths import repo_root

    args = SimpleNamespace(notebook=number, dashboard=False, de=True, port=None, no_browser=True)
    cmd, _ = present_cmd(args, repo_root())
    assert f"--LabApp.default_url=/rise/notebooks/de/{expected}.ipynb" in cmd
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--no-browser" in cmd
    args.dashboard = True
    cmd, _ = present_cmd(args, repo_root())
    assert cmd[1:4] == ["-m", "voila", f"notebooks/de/{expected}.ipynb"]
    assert "--Voila.ip=127.0.0.1" in cmd


def test_present_refuses_an_unknown_notebook(capsys):
    assert cli.main(["present", "99"]) == 2
    assert "notebook" in capsys.readouterr().err

