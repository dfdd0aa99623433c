"""`virtlab lab --lang de` / `make lab LANG=de`: the German edition in a German JupyterLab."""

from __future__ import annotations

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

from virtlab import cli

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "@jupyterlab/translation-extension:plugin"


def test_each_edition_starts_at_its_own_first_notebook():
    assert cli.start_notebook("en") == "notebooks/00_start_here.ipynb"
    assert cli.start_notebook("de") == "notebooks/de/00_start_here.ipynb"
    with pytest.raises(ValueError, match="lang"):
        cli.start_notebook("fr")


def test_overrides_set_only_the_locale_and_keep_the_rest():
    base = {PLUGIN: {"displayStringsProvider": True}, "a:b": {"x": 1}}
    out = cli.lab_overrides("de", base)
    assert out == {PLUGIN: {"displayStringsProvider": True, "locale": "de_DE"}, "a:b": {"x": 1}}
    assert base[PLUGIN] == {"displayStringsProvider": True}   # the caller's dict is unchanged
    # the English edition pins English, so a German system locale does not turn the menus German
    assert cli.lab_overrides("en")[PLUGIN]["locale"] == "en"
    with pytest.raises(ValueError, match="lang"):
        cli.lab_overrides("fr")


def test_settings_dir_keeps_the_installed_and_course_overrides(tmp_path, monkeypatch):
    app = tmp_path / "app"
    (app / "settings").mkdir(parents=True)
    (app / "settings" / "overrides.json").write_text(json.dumps({"x:y": {"a": 1}}))
    monkeypatch.setenv("JUPYTERLAB_DIR", str(app))
    folder = cli.lab_settings_dir("de", ROOT)
    assert folder.parent == app   # beside settings/, so JupyterLab's app dir stays the same
    written = json.loads((folder / "overrides.json").read_text())
    course = json.loads((ROOT / "etc" / "jupyterlab-overrides.json").read_text())
    assert written[PLUGIN] == {"locale": "de_DE"}
    assert written["x:y"] == {"a": 1}
    for plugin, values in course.items():
        assert written[plugin].items() >= values.items()
    # the installed overrides (every other launch's defaults) are untouched
    assert json.loads((app / "settings" / "overrides.json").read_text()) == {"x:y": {"a": 1}}


def _exec_args(monkeypatch, argv, root=ROOT):
    """Run `virtlab lab ARGV` up to the exec; return (command, environment)."""
    seen = {}

    def fake_exec(path, cmd):
        seen["cmd"], seen["env"] = cmd, dict(os.environ)

    monkeypatch.setattr(cli.os, "execv", fake_exec)
    monkeypatch.setattr(cli.os, "chdir", lambda path: None)
    monkeypatch.setattr(cli, "repo_root", lambda: root)
    monkeypatch.setenv("JUPYTERLAB_DIR", str(root / "_lab_app"))
    # setenv, not delenv: an absent variable would not be removed again afterwards
    monkeypatch.setenv("VIRTLAB_LANG", "")
    assert cli.main(["lab", *argv]) == 0
    return seen["cmd"], seen["env"]


def test_lab_de_opens_the_german_edition_in_german(tmp_path, monkeypatch):
    (tmp_path / "notebooks" / "de").mkdir(parents=True)
    (tmp_path / "notebooks" / "de" / "00_start_here.ipynb").write_text("{}")
    cmd, env = _exec_args(monkeypatch, ["--lang", "de", "--no-browser"], tmp_path)
    assert "--LabApp.default_url=/lab/tree/notebooks/de/00_start_here.ipynb" in cmd
    assert cmd[-1] == "--no-browser"
    assert env["VIRTLAB_LANG"] == "de"       # kernels started by this lab speak German
    settings = next(a for a in cmd if a.startswith("--LabApp.app_settings_dir="))
    written = Path(settings.split("=", 1)[1]) / "overrides.json"
    assert json.loads(written.read_text())[PLUGIN]["locale"] == "de_DE"


def test_lab_without_lang_stays_english(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00_start_here.ipynb").write_text("{}")
    cmd, env = _exec_args(monkeypatch, [], tmp_path)
    assert "--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb" in cmd
    assert env["VIRTLAB_LANG"] == "en"
    settings = next(a for a in cmd if a.startswith("--LabApp.app_settings_dir="))
    written = Path(settings.split("=", 1)[1]) / "overrides.json"
    assert json.loads(written.read_text())[PLUGIN]["locale"] == "en"


def test_lab_refuses_an_unknown_language(capsys):
    with pytest.raises(SystemExit):
        cli.main(["lab", "--lang", "fr"])
    assert "invalid choice" in capsys.readouterr().err


def _make(tmp_path, *args, env_lang=None):
    # The real Makefile plus one target that shows what `make lab` would pass on.
    probe = tmp_path / "probe.mk"
    probe.write_text("probe:\n\t@echo \"$$LANG|$(COURSE_LANG)\"\n")
    env = dict(os.environ)
    env.pop("LANG", None)
    env.pop("COURSE_LANG", None)
    if env_lang:
        env["LANG"] = env_lang
    out = subprocess.run(["make", "-s", "-f", "Makefile", "-f", str(probe), "probe", *args],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_make_lang_selects_the_edition_not_the_locale(tmp_path):
    # make lab LANG=de: the German edition, and "de" is not handed on as a locale
    assert _make(tmp_path, "LANG=de") == "|de"
    assert _make(tmp_path, "COURSE_LANG=de", env_lang="de_DE.UTF-8") == "de_DE.UTF-8|de"
    # a German desktop locale alone keeps the English default
    assert _make(tmp_path, env_lang="de_DE.UTF-8") == "de_DE.UTF-8|en"
    assert _make(tmp_path) == "|en"
    dry = subprocess.run(["make", "-n", "lab", "LANG=de"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "virtlab lab --lang de" in dry


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_virtlab_lab_de_serves_a_german_jupyterlab(tmp_path):
    """The server `virtlab lab --lang de` starts answers in German; user settings untouched."""
    german = sorted((ROOT / "notebooks" / "de").glob("*.ipynb"))
    if not german:
        pytest.skip("no German notebooks yet")
    rel = german[0].relative_to(ROOT).as_posix()
    port, token = _free_port(), secrets.token_hex(8)
    user_settings = tmp_path / "user-settings"
    user_settings.mkdir()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(user_settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    exe = Path(sys.executable).with_name("virtlab")
    proc = subprocess.Popen([str(exe), "lab", "--lang", "de", "--notebook", rel, "--no-browser",
                             f"--port={port}", "--ip=127.0.0.1", f"--ServerApp.token={token}"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)

    def get(path):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)

    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                settings = get(f"/lab/api/settings/{PLUGIN}")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not come up (exit code {proc.poll()})")
                time.sleep(0.5)
        # an override is the setting's default: the composite the front end uses
        assert settings["schema"]["properties"]["locale"]["default"] == "de_DE"
        assert "locale" not in settings["settings"]     # no choice of the student's overruled
        packs = get("/lab/api/translations/de_DE")
        assert packs["data"]["jupyterlab"]["Run"] == ["Ausführen"]
        assert get(f"/api/contents/{rel}?content=0")["type"] == "notebook"
        assert list(user_settings.iterdir()) == []   # the student's settings: not written
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # our own process group only
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
