"""What a student sees first: `virtlab lab` serves the course, not the developer tree, and
the URL it prints opens notebook 00."""

from __future__ import annotations

import json
import os
import re
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
from virtlab.coursefiles import lab_root

ROOT = Path(__file__).resolve().parent.parent


def test_checkout_is_served_through_the_course_view():
    root = lab_root(ROOT)
    assert root == ROOT / "course"
    assert sorted(p.name for p in root.iterdir()) == ["docs", "exercises", "glossary.de.md",
                                                      "glossary.md", "notebooks"]
    assert (root / "notebooks" / "00_start_here.ipynb").samefile(
        ROOT / "notebooks" / "00_start_here.ipynb")


def test_student_copy_is_served_as_it_is(tmp_path):
    assert cli.main(["course", "copy", str(tmp_path)]) == 0
    assert lab_root(tmp_path) == tmp_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_lab_prints_a_url_that_opens_start_here_on_the_course_only(tmp_path):
    port, token = _free_port(), secrets.token_hex(8)
    log = tmp_path / "lab.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "virtlab.cli", "lab", "--no-browser", f"--port={port}",
             "--ip=127.0.0.1", f"--ServerApp.token={token}"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api/contents/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{api}?token={token}", timeout=5) as resp:
                    listing = json.load(resp)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not come up:\n{log.read_text()[-2000:]}")
                time.sleep(0.5)
        # The file browser's root: the course, nothing of the developer tree.
        assert sorted(c["name"] for c in listing["content"]) == \
            ["docs", "exercises", "glossary.de.md", "glossary.md", "notebooks"]
        with urllib.request.urlopen(f"{api}notebooks?token={token}", timeout=10) as resp:
            names = {c["name"] for c in json.load(resp)["content"] if c["type"] == "notebook"}
        assert names == {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        # The URL the server prints opens notebook 00 itself.
        printed = re.findall(r"http://127\.0\.0\.1:\d+/\S+", log.read_text())
        assert printed and all("/lab/tree/notebooks/00_start_here.ipynb" in u for u in printed)
        with urllib.request.urlopen(printed[0].replace("...", token), timeout=10) as resp:
            assert resp.status == 200 and b"JupyterLab" in resp.read()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)   # our own process group only
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
