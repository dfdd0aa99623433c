#!/usr/bin/env python3
"""Re-execute notebooks in place and store their outputs (``make notebooks``).

Usage: ``scripts/execute_notebooks.py [NOTEBOOK ...]`` — with no arguments,
every notebook in ``notebooks/`` (German edition in ``notebooks/de/`` included) and
``solutions/`` (German exercise sources in ``solutions/de/`` included).  Outputs must be
deterministic (strict nbval compares them), so the kernel runs in the
notebook's folder with a fixed hash seed, and nbclient's timing metadata is
not recorded.  Widget state is stored so the static page shows the widgets.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
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
        if cell.cell_type == "code":
            cell.outputs = _coalesce_streams(cell.outputs)
    nbformat.validate(nb)
    path.write_text(_stable_widget_ids(nbformat.writes(nb), path.stem) + "\n")


def _coalesce_streams(outputs: list) -> list:
    # Under load the kernel may send one print() as several stream messages;
    # store consecutive pieces of the same stream as one output, as Jupyter shows it.
    merged: list = []
    for out in outputs:
        if (merged and out.output_type == "stream" and merged[-1].output_type == "stream"
                and merged[-1].name == out.name):
            merged[-1].text += out.text
        else:
            merged.append(out)
    return merged


def _stable_widget_ids(text: str, name: str) -> str:
    # Widget model ids are random UUIDs.  Renumber them by walking the widget
    # graph from the displayed widgets (cell outputs in order, then each
    # model's references in key order), so re-executing an unchanged notebook
    # writes the same file.
    nb = nbformat.reads(text, as_version=4)
    bundle = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    state = bundle.get("state", {})
    order: list[str] = []
    queue = [o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
             for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    leftovers = sorted(state, key=lambda k: json.dumps(state[k], sort_keys=True))
    while queue or leftovers:
        mid = queue.pop(0) if queue else leftovers.pop(0)
        if mid in order:
            continue
        order.append(mid)
        if mid in state:
            queue += re.findall(r"IPY_MODEL_([0-9a-f]{32})",
                                json.dumps(state[mid], sort_keys=True))
    ids = {old: uuid.uuid5(uuid.NAMESPACE_URL, f"virtlab:{name}:{i}").hex
           for i, old in enumerate(order)}
    text = re.sub(r"[0-9a-f]{32}", lambda m: ids.get(m.group(), m.group()), text)
    nb = nbformat.reads(text, as_version=4)
    if state:
        new_bundle = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
        new_bundle["state"] = dict(sorted(new_bundle["state"].items()))
    return nbformat.writes(nb)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(
        [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("notebooks/de/*.ipynb"),
         *ROOT.glob("solutions/*.ipynb"), *ROOT.glob("solutions/de/*.ipynb")])
    for path in paths:
        print(f"executing {path}", flush=True)
        execute(path.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
