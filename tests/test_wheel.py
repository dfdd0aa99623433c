"""The installable course: build the wheel, install it into a fresh venv, copy the course, run a notebook.

The wheel is built from a copy of the files git would put in a fresh clone
(tracked and new, not ignored), so leftovers of the working tree (``build/``)
cannot leak into it.  ``pip wheel`` builds in pip's isolated build
environment (setuptools and wheel come from PyPI or pip's cache).

The fresh venv (made without pip; the project's pip installs into it with
``--python``) gets only the wheel (``--no-deps``); to avoid downloading the
dependencies again, a ``.pth`` line appends the project venv's
site-packages to its path — the same effect as ``--system-site-packages``
would have on a venv made from an interpreter that had them.  Only directories
are added that way (nested ``.pth`` files are not run), so the project's
editable virtlab stays invisible: the test asserts that the installed copy
is the one imported, in the venv and in the notebook's kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _run(cmd, cwd, **kw):
    # cwd outside the checkout: `python -c` puts the current folder first on sys.path.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                         timeout=240, cwd=cwd, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def _fresh_clone_files(dest: Path) -> None:
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src = ROOT / name
        if src.is_file() and not src.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def test_wheel_installs_the_course_and_a_notebook_runs(tmp_path):
    src, dist, venv, student = (tmp_path / n for n in ("src", "dist", "venv", "student"))
    _fresh_clone_files(src)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
          "-q", "-w", dist, src], tmp_path)
    (wheel,) = dist.glob("virtlab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("notebooks", "notebooks/de", "exercises"):
        for f in (ROOT / folder).glob("*.ipynb"):
            assert f"virtlab/_course/{folder}/{f.name}" in names
    assert "virtlab/_course/docs/errata.md" in names
    assert "virtlab/_course/docs/instructor/running-the-course.md" in names
    assert not [n for n in names if "solutions/" in n], "instructor solutions must not ship"
    # virtlab-rise-widgets (live widgets in RISE decks), in the package and as an installed
    # JupyterLab extension
    rise = "labextensions/virtlab-rise-widgets/static/remoteEntry.js"
    assert f"virtlab/{rise}" in names
    assert any(n.endswith(f".data/data/share/jupyter/{rise}") for n in names), \
        "the wheel does not install virtlab-rise-widgets into share/jupyter"

    # no pip inside the fresh venv (ensurepip alone took ~10 s): the project's pip
    # installs into it with --python, as `pip --python` is meant to be used
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path)
    py = venv / "bin" / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     tmp_path).strip())
    (site / "zz_project_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps",
          "--disable-pip-version-check", "-q", wheel], tmp_path)
    where = _run([py, "-c", "import virtlab, virtlab.coursefiles as c; "
                            "print(virtlab.__file__); print(c.course_source())"], tmp_path).split()
    assert all(Path(p).is_relative_to(venv) for p in where), where
    assert (venv / "share" / "jupyter" / rise).is_file()

    out = _run([venv / "bin" / "virtlab", "course", "copy", student], tmp_path)
    assert "file(s) written" in out
    assert (student / "notebooks" / "00_start_here.ipynb").is_file()
    assert {p.name for p in (student / "exercises").glob("*.ipynb")} == \
        {p.name for p in (ROOT / "exercises").glob("*.ipynb")}
    assert (student / "glossary.md").is_file() and (student / "docs" / "errata.md").is_file()
    assert (student / "glossary.de.md").read_text(encoding="utf-8").startswith("# Glossar ")

    # Run notebook 00 in the student's folder with the venv's own kernel, and ask the
    # kernel which virtlab it imported.
    script = """
import json, sys, nbformat
from nbclient import NotebookClient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
nb.cells.append(nbformat.v4.new_code_cell("import virtlab; print(virtlab.__file__)"))
NotebookClient(nb, timeout=120, kernel_name="python3",
               resources={"metadata": {"path": str(__import__('pathlib').Path(path).parent)}}).execute()
errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
          if o.output_type == "error"]
print(json.dumps({"errors": len(errors), "virtlab": nb.cells[-1].outputs[0]["text"].strip()}))
"""
    env_out = _run([py, "-c", script, student / "notebooks" / "00_start_here.ipynb"], tmp_path)
    result = json.loads(env_out.strip().splitlines()[-1])
    assert result["errors"] == 0
    assert Path(result["virtlab"]).is_relative_to(venv), result
