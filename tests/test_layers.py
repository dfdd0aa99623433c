"""The layer rules of ARCHITECTURE.md, checked on the source."""

import ast
from pathlib import Path

import pytest

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
    return rel[0] not in ("viz", "widgets", "grading", "cli.py", "coursecli.py",
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
