"""The grading sandbox's file system, run for real with bubblewrap.

A course cloned under ``/tmp`` (its ``.venv`` too) must stay visible inside the
sandbox although the sandbox gets a private, empty ``/tmp``: the interpreter's
folders are bound on top of the private ``/tmp``, never hidden by it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "grading_fixtures"))
from crafted import require_bwrap  # noqa: E402

from virtlab.grading import sandbox  # noqa: E402


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_a_python_under_tmp_stays_visible_and_tmp_stays_private(monkeypatch):
    require_bwrap()
    with tempfile.TemporaryDirectory(dir="/tmp") as root, \
            tempfile.TemporaryDirectory() as conn, tempfile.TemporaryDirectory() as scratch:
        venv = Path(root) / ".venv"
        venv.mkdir()
        (venv / "marker").write_text("the venv\n")
        (Path(root) / "secret").write_text("not for students\n")
        monkeypatch.setattr(sandbox, "_python_roots", lambda: [str(venv)])
        argv = sandbox.bwrap_argv(conn, scratch, sandbox.SandboxLimits())
        seen = _run(argv + ["/usr/bin/cat", str(venv / "marker")])
        assert seen.returncode == 0, seen.stderr
        assert seen.stdout == "the venv\n"
        # the rest of the host's /tmp is not there, and the venv is read-only
        hidden = _run(argv + ["/usr/bin/cat", str(Path(root) / "secret")])
        assert hidden.returncode != 0 and "not for students" not in hidden.stdout
        write = _run(argv + ["/usr/bin/touch", str(venv / "new")])
        assert write.returncode != 0 and not (venv / "new").exists()
