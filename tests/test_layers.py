"""The layer rules of ARCHITECTURE.md, checked on the source.

The import graph (tests/import_graph.py) counts every import, also the
function-local ones; each rule below is also run on a small synthetic package
that breaks it, to show the check can fail.
"""

import ast
import textwrap
from pathlib import Path

import pytest

import import_graph

PKG = Path(__file__).resolve().parent.parent / "virtlab"
UPPER = ("virtlab.viz", "virtlab.widgets", "virtlab.grading", "virtlab.cli",
         "virtlab.coursecli", "virtlab.coursefiles")
GUI = ("ipywidgets", "matplotlib", "IPython")


def _modules(sub=""):
    return sorted(p for p in (PKG / sub).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    pkg = ".".join(path.relative_to(PKG.parent).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                names.add(mod)
                names.update(f"{mod}.{a.name}" for a in node.names)
            else:
                names.add(node.module or "")
    return names


def _is_model(path: Path) -> bool:
    rel = path.relative_to(PKG).parts
    # The command layer (cli and the course's commands and files) may print and touch files.
    return rel[0] not in ("viz", "widgets", "grading", "cli.py", "__main__.py", "coursecli.py",
                          "coursefiles.py", "__init__.py")


MODELS = [p for p in _modules() if _is_model(p)]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(PKG)))
def test_models_import_no_gui_and_no_upper_layer(path):
    for name in _imports(path):
        assert not name.startswith(GUI), f"{path.name} imports {name}"
        assert not name.startswith(UPPER), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(PKG)))
def test_models_do_not_print(path):
    tree = ast.parse(path.read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name) and n.func.id == "print"]
    assert not calls, f"{path.name} prints"


@pytest.mark.parametrize("path", _modules("viz"), ids=lambda p: p.name)
def test_viz_uses_no_pyplot_and_no_widgets(path):
    for name in _imports(path):
        assert name != "matplotlib.pyplot", f"{path.name} uses pyplot"
        assert not name.startswith(("ipywidgets", "virtlab.widgets")), f"{path.name}: {name}"


# -- the import graph --------------------------------------------------------------------

CORE = {"virtlab.sim", "virtlab.rng", "virtlab.errors", "virtlab.i18n"}
#: Which layers a layer may import (ARCHITECTURE.md "Layers"). ``tooling`` is the
#: paths helper that grading and the CLI share; ``root`` is the lazy ``virtlab`` package.
ALLOWED = {
    "core": {"core"},
    "model": {"core", "model"},
    "viz": {"core", "model", "viz"},
    # widgets present exercises too (practice mode: widgets.quiz -> grading.practice)
    "widgets": {"core", "model", "viz", "widgets", "grading"},
    # the sandbox binds the grader's own package: it reads virtlab.__file__ (root)
    "grading": {"core", "model", "grading", "tooling", "root"},
    "tooling": {"core", "tooling"},
    "cli": {"core", "model", "viz", "widgets", "grading", "tooling", "cli", "root"},
    "root": {"core"},               # virtlab/__init__ re-exports set_language (i18n)
}


def layer(module: str) -> str:
    parts = module.split(".")
    if module in CORE:
        return "core"
    if module == "virtlab":
        return "root"
    if module in ("virtlab.cli", "virtlab.__main__", "virtlab.coursecli",
                  "virtlab.coursefiles", "virtlab.labserver"):
        return "cli"
    if module == "virtlab.paths":
        return "tooling"
    if parts[1] in ("viz", "widgets", "grading"):
        return parts[1]
    return "model"


def layer_violations(graph) -> set[str]:
    return {f"{m} -> {t}" for m, targets in graph.edges.items() for t in targets
            if layer(t) not in ALLOWED[layer(m)]}


@pytest.fixture(scope="module")
def graph():
    return import_graph.build(PKG)


def test_the_import_graph_has_no_cycles(graph):
    found = import_graph.cycles(graph.edges)
    assert found == [], (
        "import cycles (function-local imports count too): " + repr(found))



def test_every_module_keeps_to_its_layer(graph):
    """Core imports only core, models no viz/widgets/grading/cli, grading never the CLI, ..."""
    assert layer_violations(graph) == set()


def test_imports_stand_at_module_level():
    """A virtlab module imports other virtlab modules at module level, where a reader
    sees them (function-local imports are for heavy optional third-party libraries)."""
    assert import_graph.local_imports(PKG) == []


def test_no_module_imports_another_modules_private_name(graph):
    assert import_graph.private_imports(graph) == []


# -- each check fails on a package that breaks it ------------------------------------------

def _package(tmp_path, files: dict[str, str]):
    root = tmp_path / "virtlab"
    for name, src in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(src))
    return import_graph.build(root)


def test_a_cycle_through_a_function_local_import_is_found(tmp_path):
    g = _package(tmp_path, {
        "migration.py": "from .errors import check_int\nfrom . import availability\n",
        "availability.py": "def f():\n    from .migration import Maintenance\n",
        "errors.py": "",
    })
    assert import_graph.cycles(g.edges) == [["virtlab.availability", "virtlab.migration"]]
    g = _package(tmp_path, {"availability.py": "def f():\n    pass\n"})
    assert import_graph.cycles(g.edges) == []


def test_a_cycle_through_a_package_init_and_a_literal_dynamic_import_is_found(tmp_path):
    g = _package(tmp_path, {
        "cli.py": "import importlib\ndef main():\n    importlib.import_module('virtlab.grading.cli')\n",
        "grading/__init__.py": "from .runner import grade\n",
        "grading/runner.py": "from ..cli import repo_root\n",
        "grading/cli.py": "",
    })
    # cli imports grading.cli, so Python first runs grading/__init__, which imports runner
    assert import_graph.cycles(g.edges) == [["virtlab.cli", "virtlab.grading",
                                             "virtlab.grading.runner"]]


def test_upward_imports_are_found(tmp_path):
    g = _package(tmp_path, {
        "sim.py": "from .scheduler import simulate\n",           # core -> model
        "scheduler.py": "def f():\n    from .viz import trace\n",  # model -> viz, hidden
        "viz/__init__.py": "", "viz/trace.py": "",
        "grading/runner.py": "from virtlab.cli import repo_root\n",  # grading -> cli
        "cli.py": "",
    })
    assert layer_violations(g) == {"virtlab.sim -> virtlab.scheduler",
                                   "virtlab.scheduler -> virtlab.viz",
                                   "virtlab.scheduler -> virtlab.viz.trace",
                                   "virtlab.grading.runner -> virtlab.cli"}


def test_function_local_imports_are_found(tmp_path):
    root = tmp_path / "virtlab"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("import json\n\ndef f():\n    import math\n    from . import b\n")
    (root / "b.py").write_text("")
    assert import_graph.local_imports(root) == ["virtlab.a:5 imports ."]


def test_private_names_across_modules_are_found(tmp_path):
    g = _package(tmp_path, {
        "cpu.py": "def _maybe_irq():\n    pass\ndef _own():\n    pass\n",
        "vm.py": "def f():\n    from .cpu import _maybe_irq, execute\n",
    })
    assert import_graph.private_imports(g) == ["virtlab.vm imports virtlab.cpu._maybe_irq"]


def test_every_widget_app_is_registered_under_its_factorys_name():
    import virtlab.widgets as widgets
    apps = widgets.apps()
    assert apps and {k: f.__name__ for k, f in apps.items()} == {k: k for k in apps}


def test_widget_modules_share_their_topic_names_with_viz():
    """A widget module drawing with one viz module carries its name (viz.mmu <->
    widgets.mmu); the others are labs of a topic viz draws as a whole (viz.cpu,
    viz.hypervisor)."""
    viz = {p.stem for p in (PKG / "viz").glob("*.py")}
    widgets_ = {p.stem for p in (PKG / "widgets").glob("*.py")}
    labs = {"binary_translation", "debugger", "emulation", "hardware", "hypervisor_types",
            "sensitive", "summary", "quiz"}
    assert widgets_ - {"__init__", "base"} - labs <= viz
