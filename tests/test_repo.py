"""The course as shipped: layout, notebooks' conventions, README in sync."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from virtlab.course import TOPICS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_CODE_LINES = 12


def test_layout():
    """Each top-level entry is what it claims to be, not merely present."""
    import os
    assert (ROOT / "virtlab" / "__init__.py").is_file()
    assert os.access(ROOT / ".ci" / "run", os.X_OK), ".ci/run must be executable"
    assert (ROOT / "README.md").read_text().startswith("# ")
    assert (ROOT / "ARCHITECTURE.md").read_text().startswith("# ")
    assert list((ROOT / "tests").glob("test_*.py")) and list((ROOT / "benchmarks").glob("bench_*.py"))
    # every exercise exists as instructor source and as the generated student notebook
    solutions = sorted(p.name for p in (ROOT / "solutions").glob("ex*.ipynb"))
    assert solutions and solutions == sorted(p.name for p in (ROOT / "exercises").glob("ex*.ipynb"))
    assert NOTEBOOKS


def test_pyproject_dependencies_and_extras():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=!~ ]", d)[0] for d in meta["dependencies"]}
    assert names == {"ipywidgets", "matplotlib", "networkx", "nbformat", "nbclient", "pyyaml"}
    assert "ipywidgets>=8" in meta["dependencies"]
    assert meta["requires-python"] == ">=3.10"
    extras = meta["optional-dependencies"]
    assert any(d.startswith("jupyterlab") for d in extras["lab"])
    test_names = {re.split(r"[<>=!~ \[]", d)[0] for d in extras["test"]}
    assert {"pytest", "nbval", "hypothesis", "pytest-xdist"} <= test_names
    assert meta["scripts"]["virtlab"] == "virtlab.cli:main"


def test_make_targets_and_ci():
    makefile = (ROOT / "Makefile").read_text()
    for target in ["lab", "test", "notebooks", "bench"]:
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "python3 -m venv" in makefile.replace("$(PYTHON)", "python3")
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_every_topic_has_its_notebook_and_nothing_else_is_there():
    assert [p.name for p in NOTEBOOKS] == [t.notebook for t in TOPICS]


def test_readme_lists_every_notebook_in_order():
    readme = (ROOT / "README.md").read_text()
    listed = re.findall(r"`notebooks/(\d\d_[a-z_]+\.ipynb)`", readme)
    assert listed == [t.notebook for t in TOPICS]
    first_code = readme.index("```")
    assert "make lab" in readme[first_code:first_code + 200]
    assert "make test" in readme[first_code:first_code + 200]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook(request):
    return nbformat.read(request.param, as_version=4)


def test_notebook_opens_with_goals_and_german_terms(notebook):
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "Learning goals" in first.source
    assert "German terms" in first.source


def test_notebook_ends_with_summary_and_next_step(notebook):
    last = notebook.cells[-1]
    assert last.cell_type == "markdown" and "## Summary" in last.source


def test_notebook_has_a_widget_and_short_cells(notebook):
    widget_outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                      if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget_outputs, "no widget displayed"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert len(cell.source.splitlines()) <= MAX_CODE_LINES, cell.source[:80]


def test_notebook_outputs_stored_and_portable(notebook):
    text = nbformat.writes(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.strip():
            assert cell.execution_count is not None, "outputs not stored"
            for out in cell.outputs:
                assert out.output_type != "error"
    for pattern in [r"/work/", r"/home/\w", r"/root/", r"[A-Z]:\\\\Users", r"\bat 0x[0-9a-f]{8,}"]:
        assert not re.search(pattern, text), pattern


def test_no_merge_conflict_markers_are_committed():
    """A merge left half-done must not land: no tracked text file holds conflict markers."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    marker = re.compile(r"^(<{7} |>{7} |={7}$)", re.M)
    bad = [f for f in files if f.endswith((".py", ".md", ".toml", ".yaml", ".cfg", ".txt",
                                           "Makefile", ".ipynb", ".po", ".sh", "run"))
           and (ROOT / f).is_file() and marker.search((ROOT / f).read_text(errors="ignore"))]
    assert bad == []


def test_the_project_venv_has_no_slow_iri_checker():
    # make setup removes rfc3987-syntax: with it, importing jsonschema (every Jupyter
    # server, nbformat, grader process) builds ~35 Earley parsers, ~0.9 s each time
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("not the project's .venv (made by `make setup`)")
    out = subprocess.run([sys.executable, "-c", "import sys, nbformat; "
                          "print('rfc3987_syntax' in sys.modules)"],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
