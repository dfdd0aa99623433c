#!/usr/bin/env python3
"""Re-execute notebooks in place and store their outputs (``make notebooks``).

Usage: ``scripts/execute_notebooks.py [NOTEBOOK ...]`` — with no arguments,
every notebook in ``notebooks/`` and ``solutions/``.  Outputs must be
deterministic (strict nbval compares them), so the kernel runs in the
notebook's folder with a fixed hash seed, and nbclient's timing metadata is
not recorded.  Widget state is stored so the static page shows the widgets.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    os.environ["PYTHONHASHSEED"] = "0"
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            record_timing=False, store_widget_state=True)
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(
        [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("solutions/*.ipynb")])
    for path in paths:
        print(f"executing {path}", flush=True)
        execute(path.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
