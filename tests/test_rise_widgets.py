"""virtlab-rise-widgets, the extension that makes widgets live in the RISE deck (issue 18).

The browser test (tests/test_present.py) shows the effect; these check, without
a browser, that JupyterLab finds the extension where ``virtlab present`` and
``virtlab lab`` point it, that the wheel carries it, and -- by running its
container in Node -- that it adds ``@jupyterlab/console`` to a share scope
that lacks it and leaves a real one alone.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from virtlab import cli
from virtlab.coursecli import LAB_EXTENSIONS, lab_extension_args, present_cmd
from virtlab.paths import repo_root

ROOT = Path(__file__).resolve().parent.parent
NAME = "virtlab-rise-widgets"


def test_jupyterlab_finds_the_extension_on_the_path_the_commands_give():
    from jupyterlab_server.config import get_federated_extensions

    paths = {a.split("=", 1)[1] for a in lab_extension_args()}
    assert paths == {str(LAB_EXTENSIONS)}
    found = get_federated_extensions([str(LAB_EXTENSIONS)])
    assert set(found) == {NAME}
    build = found[NAME]["jupyterlab"]["_build"]
    assert (LAB_EXTENSIONS / NAME / build["load"]).is_file()
    assert "extension" not in build     # no plugins: only the share-scope stand-in


def test_present_and_lab_load_it_into_rise():
    cmd, _ = present_cmd(SimpleNamespace(notebook="11", dashboard=False, de=False, port=None,
                                         no_browser=True), repo_root())
    for app in ("RiseApp", "LabApp"):
        assert f"--{app}.extra_labextensions_path={LAB_EXTENSIONS}" in cmd
    dashboard, _ = present_cmd(SimpleNamespace(notebook="11", dashboard=True, de=False,
                                               port=None, no_browser=True), repo_root())
    assert not any("labextensions" in a for a in dashboard)   # Voila: its own manager


def test_virtlab_lab_loads_it_too(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00_start_here.ipynb").write_text("{}")
    seen = {}
    monkeypatch.setattr(cli.os, "execv", lambda path, cmd: seen.setdefault("cmd", cmd))
    monkeypatch.setattr(cli.os, "chdir", lambda path: None)
    monkeypatch.setattr(cli, "repo_root", lambda: tmp_path)
    monkeypatch.setenv("JUPYTERLAB_DIR", str(tmp_path / "_lab_app"))
    monkeypatch.setenv("VIRTLAB_LANG", "")
    assert cli.main(["lab", "--no-browser"]) == 0
    assert f"--RiseApp.extra_labextensions_path={LAB_EXTENSIONS}" in seen["cmd"]


def test_the_wheel_carries_it():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["virtlab"]
    files = {p.relative_to(ROOT / "virtlab").as_posix()
             for p in (LAB_EXTENSIONS / NAME).rglob("*") if p.is_file()}
    missing = {f for f in files if not any(fnmatch.fnmatch(f, p) for p in patterns)}
    assert not missing, f"package-data misses {missing}"


NODE_CHECK = """
const fs = require('fs');
global.window = {};
eval(fs.readFileSync(process.argv[1], 'utf8'));
const c = window._JUPYTERLAB['virtlab-rise-widgets'];
(async () => {
  const empty = {};
  await c.init(empty);
  const entry = empty['@jupyterlab/console'];
  const versions = Object.keys(entry);
  const mod = (await entry[versions[0]].get())();
  const real = {'@jupyterlab/console': {'4.6.6': {get: null, from: 'core'}}};
  await c.init(real);
  let rejected = false;
  try { await c.get('./extension'); } catch (e) { rejected = true; }
  console.log(JSON.stringify({versions, token: mod.IConsoleTracker.name,
                              realKept: Object.keys(real['@jupyterlab/console']),
                              rejected}));
})();
"""


def test_container_adds_console_only_where_missing():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    out = subprocess.run([node, "-e", NODE_CHECK, str(LAB_EXTENSIONS / NAME / "static"
                                                        / "remoteEntry.js")],
                         capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(out.stdout)
    assert result == {"versions": ["0.0.0"], "token": "@jupyterlab/console:IConsoleTracker",
                      "realKept": ["4.6.6"], "rejected": True}
