#!/usr/bin/env python3
"""Write the notebooks' activity cells from the data (idempotent): predict, Try it, practice, self-check.

Usage: ``scripts/activity_cells.py`` (then ``make notebooks`` to store outputs).
The cells come from ``virtlab/data/selfcheck/NN.yaml`` and carry the cell
metadata ``virtlab_section`` (``predict``, ``try-it``, ``practice``,
``selfcheck``); re-running removes and re-inserts them, so the notebooks
follow the data.
"""
import hashlib
import re
from pathlib import Path

import nbformat

import virtlab.widgets as widgets
from virtlab import course, selfcheck

repo = Path(__file__).resolve().parent.parent

SECTIONS = {"try-it", "predict", "selfcheck", "practice"}
APPS = set(widgets.apps())


_USED: set = set()


def _cell_id(section, text):
    # Stable ids (the German edition's translations are keyed by cell id);
    # a repeated text (two predict cells) gets its occurrence number.
    digest = hashlib.sha256(f"{section}:{text}".encode()).hexdigest()[:12]
    cid, n = f"{section}-{digest}", 1
    while cid in _USED:
        n += 1
        cid = f"{section}-{digest}-{n}"
    _USED.add(cid)
    return cid


def md(text, section):
    c = nbformat.v4.new_markdown_cell(text)
    c.metadata["virtlab_section"] = section
    c.id = _cell_id(section, text)
    return c


def code(text, section):
    c = nbformat.v4.new_code_cell(text)
    c.metadata["virtlab_section"] = section
    c.id = _cell_id(section, text)
    return c


def shown_app(cell):
    if cell.cell_type != "code":
        return None
    names = [n for n in re.findall(r"virtlab\.widgets\.(\w+)\(", cell.source) if n in APPS]
    return names[-1] if names else None


for topic in course.TOPICS:
    path = repo / "notebooks" / topic.notebook
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("virtlab_section") not in SECTIONS]
    _USED.clear()
    tasks = {}
    for t in selfcheck.try_it_tasks(topic.id):
        tasks.setdefault(t.app, []).append(t)
    preds = [q for q in selfcheck.bank(topic.id) if q.predict]
    out = []
    placed_preds = set()
    for cell in cells:
        app = shown_app(cell)
        if app:
            for q in preds:
                if q.id not in placed_preds and q.reveal and q.reveal.get("app") == app:
                    out.append(md("**Predict first** (*erst schätzen, dann sehen*): answer before "
                                  "you use the widget below — the reveal shows the model's answer "
                                  "and why yours differs.", "predict"))
                    out.append(code(f'virtlab.widgets.predict("{q.id}")', "predict"))
                    placed_preds.add(q.id)
        out.append(cell)
        if app and tasks.get(app):
            t = tasks[app].pop(0)
            out.append(md(f"**Try it.** {t.task}\n\n<details><summary>What you should see"
                          f"</summary>\n\n{t.expected}\n\n</details>", "try-it"))
    # self-check block (and unplaced predictions) before the summary
    idx = next((i for i, c in enumerate(out) if c.cell_type == "markdown"
                and re.match(r"#+\s*(Summary|Zusammenfassung)", c.source.strip())), None)
    if idx is None:   # no summary heading: the closing markdown cell is the summary
        idx = len(out) - 1 if out and out[-1].cell_type == "markdown" else len(out)
    block = []
    for q in preds:
        if q.id not in placed_preds:
            block.append(md("**Predict first** (*erst schätzen, dann sehen*): commit to an answer, "
                            "then reveal the model's.", "predict"))
            block.append(code(f'virtlab.widgets.predict("{q.id}")', "predict"))
    if topic.exercise:
        eid = topic.exercise.removesuffix(".ipynb")
        block.append(md(f"## Practice (*Übung*)\n\nFresh problems of the kind exercise "
                        f"`{eid}` asks, one per number you pick, with a worked solution step by "
                        "step. Practice problems are never anybody's graded variant; the same "
                        f"works on the command line: `virtlab practice {eid.split('_')[0]} "
                        "--solve` (add `--seed N` for problem N).", "practice"))
        block.append(code(f'virtlab.widgets.practice("{eid}")', "practice"))
    block.append(md("## Self-check (*Selbsttest*)\n\nA few questions on the slides this notebook "
                    "covers. Each answer comes with an explanation — also of why a wrong answer "
                    "is tempting.", "selfcheck"))
    block.append(code(f'virtlab.widgets.selfcheck("{topic.id}")', "selfcheck"))
    out[idx:idx] = block
    nb.cells = out
    nbformat.write(nb, path)
    print(topic.notebook, "predict", len(preds), "try-it", sum(1 for c in out if
                                                                 c.metadata.get("virtlab_section") == "try-it"))
