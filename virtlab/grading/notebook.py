"""Exercise notebooks: cell roles, nbgrader metadata, student versions, rebuilding.

A source notebook in ``solutions/`` marks each cell with a *role* in
``cell.metadata["virtlab"]`` and carries nbgrader-compatible metadata
(``cell.metadata["nbgrader"]``: grade id, points, locked, solution):

========  ====  ======================================================
role      type  meaning
========  ====  ======================================================
intro     md    title, learning goals (locked)
setup     code  ``ex = start("exNN_...", variant=VARIANT)`` (locked)
variant   code  ``VARIANT = None`` -- the only cell a student edits
                besides answers; ignored by the grader
prompt    md    the question text for ``qN`` (locked)
answer    code  ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` (solution)
check     code  ``ex.check("qN")`` (locked; nbgrader points; optional
                ``### BEGIN HIDDEN TESTS`` block for nbgrader autograde)
reason    md    a manually graded answer (predict and justify): nbgrader
                ``grade`` and ``solution`` true, not locked, points;
                the model answer between the solution markers becomes
                nbgrader's text stub ``YOUR ANSWER HERE``; never run or
                scored by ``virtlab grade``
demo      code  widgets / plots, tagged ``demo``: skipped at grading
text      md    any other locked text
========  ====  ======================================================

:func:`student_version` turns a source into the exercise (solutions
replaced by stubs, hidden-test blocks removed); :func:`rebuild` restores all
locked and check cells of a submission from the source by id, keeping only
the student's answer cells (first copy of each id), their own helper cells
and the variant cell.

Examples
--------
>>> stub_solution('x = 1\\n### BEGIN SOLUTION\\nanswer = {1, 2}\\n### END SOLUTION')
'x = 1\\nanswer = ...  # YOUR ANSWER HERE'
>>> print(stub_solution('def f(n):\\n    ### BEGIN SOLUTION\\n    return n\\n    ### END SOLUTION'))
def f(n):
    # YOUR CODE HERE
    raise NotImplementedError()
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field

import nbformat

__all__ = ["ROLES", "language_of", "exercise_id_of", "Rebuilt", "cell_role", "is_manual"]

ROLES = ("intro", "setup", "variant", "prompt", "answer", "check", "reason", "demo", "text")
TEXT_STUB = "YOUR ANSWER HERE"  # nbgrader's stub for a Markdown solution
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_START_RE = re.compile(r"""start\(\s*["'](ex\d\d_[A-Za-z0-9_]+)["']""")


def cell_role(cell) -> str | None:
    """The virtlab role of a cell, or None for a student's own cell.

    Examples
    --------
    >>> cell_role({"metadata": {"virtlab": {"role": "answer", "id": "q1"}}})
    'answer'
    >>> cell_role({"metadata": {}}) is None
    True
    """
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    meta = meta.get("virtlab") if isinstance(meta, dict) else None
    if isinstance(meta, dict) and meta.get("role") in ROLES:
        return meta["role"]
    return None


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
        return meta["grade_id"]
    return None


def is_manual(cell) -> bool:
    """A manually graded answer cell: nbgrader ``grade`` and ``solution``, points, no tests.

    Examples
    --------
    >>> is_manual({"metadata": {"nbgrader": {"grade": True, "solution": True, "points": 2,
    ...                                      "grade_id": "why"}}})
    True
    >>> is_manual({"metadata": {"nbgrader": {"grade": True, "solution": False}}})
    False
    """
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return (isinstance(meta, dict) and meta.get("grade") is True
            and meta.get("solution") is True and isinstance(meta.get("grade_id"), str))


#: Longest manually graded answer kept (characters).
MANUAL_CAP = 20_000


def manual_answers(submission, source) -> list[dict]:
    """The manually graded answers of a submission, as text (never executed here).

    One entry per manual cell of ``source`` (the exercise), in its order:
    ``grade_id``, ``points`` available, ``cell_type`` and the student's
    ``answer`` (the first cell with that grade id; empty when missing).

    Examples
    --------
    >>> cell = nbformat.v4.new_markdown_cell("Because the TLB is tagged.")
    >>> cell.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False,
    ...                              "points": 2, "grade_id": "why_tagged"}
    >>> src = nbformat.v4.new_notebook(cells=[copy.deepcopy(cell)])
    >>> manual_answers(nbformat.v4.new_notebook(cells=[cell]), src)
    [{'grade_id': 'why_tagged', 'points': 2.0, 'cell_type': 'markdown', 'answer': 'Because the TLB is tagged.'}]
    """
    wanted = [c for c in source.cells if is_manual(c)]
    given: dict = {}
    for cell in submission.get("cells", []):
        gid = _grade_id(cell)
        if gid is not None and gid not in given:
            given[gid] = cell
    out = []
    for src in wanted:
        gid = src.metadata["nbgrader"]["grade_id"]
        cell = given.get(gid)
        text = str(cell.get("source", "")) if isinstance(cell, dict) else ""
        try:
            points = float(src.metadata["nbgrader"].get("points", 0))
        except (TypeError, ValueError):
            points = 0.0
        out.append({"grade_id": gid, "points": points, "cell_type": src.cell_type,
                    "answer": text[:MANUAL_CAP]})
    return out


def annotate(nb, exercise_id: str, points: dict[str, float],
             names: dict[str, str] | None = None) -> None:
    """Fill nbgrader metadata, tags and stable cell ids from the virtlab roles (in place).

    ``points`` maps question ids to points and ``names`` to answer names
    (from the exercise definition; the stub of a top-level solution region
    then keeps only the answer name).  Used when authoring; idempotent.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("ex.check('q1')")])
    >>> nb.cells[0].metadata["virtlab"] = {"role": "check", "id": "q1"}
    >>> annotate(nb, "ex00_selftest", {"q1": 2})
    >>> nb.cells[0].metadata["nbgrader"]["points"], nb.cells[0].id
    (2, 'q1-check')
    """
    nb.metadata["virtlab"] = {"exercise": exercise_id}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata.pop("jupytext", None)
    counters: dict[str, int] = {}
    for cell in nb.cells:
        role = cell_role(cell)
        if role is None:
            raise ValueError("every source cell needs metadata virtlab.role "
                             f"(one of {', '.join(ROLES)}); got a cell without: "
                             f"{cell.source[:40]!r}")
        qid = cell.metadata["virtlab"].get("id")
        if role in ("prompt", "answer", "check", "reason"):
            if qid not in points:
                raise ValueError(f"cell role {role} needs virtlab.id in {sorted(points)}, "
                                 f"got {qid!r}")
            gid = f"{qid}_{role}"
        else:
            counters[role] = counters.get(role, 0) + 1
            gid = role if counters[role] == 1 else f"{role}{counters[role]}"
        cell["id"] = gid.replace("_", "-")
        meta = {"grade": False, "grade_id": gid, "locked": True, "schema_version": 3,
                "solution": False, "task": False}
        if role == "answer":
            meta.update(locked=False, solution=True)
            if names and qid in names:
                cell.metadata["virtlab"]["answer"] = names[qid]
            if BEGIN_SOLUTION not in cell.source:
                raise ValueError(f"answer cell {gid} has no '{BEGIN_SOLUTION}' region")
        elif role == "check":
            meta.update(grade=True, points=points[qid])
        elif role == "reason":
            if cell.cell_type != "markdown" or BEGIN_SOLUTION not in cell.source:
                raise ValueError(f"reason cell {gid} must be Markdown with a "
                                 f"'{BEGIN_SOLUTION}' region")
            meta.update(grade=True, solution=True, locked=False, points=points[qid])
        if role == "variant":
            cell.metadata.pop("nbgrader", None)  # an ordinary, editable cell
        else:
            cell.metadata["nbgrader"] = meta
        tags = [t for t in cell.metadata.get("tags", []) if t != "demo"]
        if role == "demo":
            tags.append("demo")
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
        if cell.cell_type == "code":
            cell.metadata.pop("execution", None)


def _regions(lines: list[str], begin: str, end: str):
    """Yield (start, stop) line index pairs of marked regions (inclusive)."""
    start = None
    for i, line in enumerate(lines):
        s = line.strip()
        if s == begin:
            if start is not None:
                raise ValueError(f"nested '{begin}' at line {i + 1}")
            start = i
        elif s == end:
            if start is None:
                raise ValueError(f"'{end}' without '{begin}' at line {i + 1}")
            yield start, i
            start = None
    if start is not None:
        raise ValueError(f"'{begin}' at line {start + 1} is never closed")


def _stub(region: list[str], indent: str, answer: str | None = None) -> list[str]:
    if indent:
        return [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
    try:
        tree = ast.parse("\n".join(region))
    except SyntaxError:
        tree = None
    names: list[str] = []
    for node in tree.body if tree else []:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        for t in targets:
            if isinstance(t, ast.Name) and t.id not in names:
                names.append(t.id)
    if not names:
        return ["# YOUR CODE HERE", "raise NotImplementedError()"]
    if answer in names:
        return [f"{answer} = ...  # YOUR ANSWER HERE"]
    return [f"{n} = ...  # YOUR ANSWER HERE" for n in names]


def stub_solution(source: str, answer: str | None = None) -> str:
    """Replace every solution region by a stub.

    At the top level each assigned name becomes ``name = ...`` (only
    ``answer`` if the region assigns it); inside a
    function body the region becomes ``raise NotImplementedError()``
    (nbgrader's stub).
    """
    lines = source.split("\n")
    out: list[str] = []
    pos = 0
    for a, b in _regions(lines, BEGIN_SOLUTION, END_SOLUTION):
        out += lines[pos:a]
        indent = lines[a][: len(lines[a]) - len(lines[a].lstrip())]
        out += _stub(lines[a + 1:b], indent, answer)
        pos = b + 1
    out += lines[pos:]
    return "\n".join(out)


def stub_text(source: str) -> str:
    """Replace every solution region of a Markdown answer by nbgrader's text stub.

    Examples
    --------
    >>> stub_text('Prediction:\\n### BEGIN SOLUTION\\nIt waits.\\n### END SOLUTION')
    'Prediction:\\nYOUR ANSWER HERE'
    """
    lines = source.split("\n")
    out: list[str] = []
    pos = 0
    for a, b in _regions(lines, BEGIN_SOLUTION, END_SOLUTION):
        out += lines[pos:a] + [TEXT_STUB]
        pos = b + 1
    out += lines[pos:]
    return "\n".join(out)


def strip_hidden_tests(source: str) -> str:
    """Remove ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` blocks.

    Examples
    --------
    >>> strip_hidden_tests('a\\n### BEGIN HIDDEN TESTS\\nsecret\\n### END HIDDEN TESTS\\nb')
    'a\\nb'
    """
    lines = source.split("\n")
    out: list[str] = []
    pos = 0
    for a, b in _regions(lines, BEGIN_HIDDEN, END_HIDDEN):
        out += lines[pos:a]
        pos = b + 1
    out += lines[pos:]
    return "\n".join(out)


def student_version(source_nb):
    """The exercise notebook generated from a source (a new notebook object).

    Solutions become stubs, hidden-test blocks vanish, outputs are cleared.
    Raises ValueError if anything marked hidden or solution would remain.

    Examples
    --------
    >>> from virtlab.grading.selftest import source_notebook
    >>> "BEGIN SOLUTION" in str(student_version(source_notebook()).cells)
    False
    """
    nb = copy.deepcopy(source_nb)
    for cell in nb.cells:
        src = strip_hidden_tests(cell.source)
        if cell_role(cell) == "answer":
            src = stub_solution(src, cell.metadata["virtlab"].get("answer"))
        elif cell_role(cell) == "reason":
            src = stub_text(src)
        for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
            if marker in src:
                raise ValueError(f"cell {cell.get('id')} still contains {marker!r}")
        cell.source = src
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nb


def exercise_id_of(nb) -> str | None:
    """The exercise a notebook belongs to: its metadata, else its ``start("...")`` call.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     'ex = start("ex03_page_walks")')])
    >>> exercise_id_of(nb)
    'ex03_page_walks'
    """
    meta = nb.get("metadata") if isinstance(nb, dict) else None
    meta = meta.get("virtlab") if isinstance(meta, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("exercise"), str):
        return meta["exercise"]
    cells = nb.get("cells") if isinstance(nb, dict) else None
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            m = _START_RE.search(str(cell.get("source", "")))
            if m:
                return m.group(1)
    return None


def language_of(nb) -> str | None:
    """The edition a notebook belongs to (``metadata.virtlab.language``), or None (English).

    Examples
    --------
    >>> language_of({"metadata": {"virtlab": {"exercise": "ex03_page_walks", "language": "de"}}})
    'de'
    >>> language_of(nbformat.v4.new_notebook()) is None
    True
    """
    meta = nb.get("metadata") if isinstance(nb, dict) else None
    meta = meta.get("virtlab") if isinstance(meta, dict) else None
    lang = meta.get("language") if isinstance(meta, dict) else None
    return lang if isinstance(lang, str) else None


@dataclass
class Rebuilt:
    """A submission rebuilt from the source: cells to run and what was repaired.

    Examples
    --------
    >>> Rebuilt(cells=[]).notes
    []
    """

    cells: list
    student_cells: set = field(default_factory=set)   # indices of student code
    notes: list = field(default_factory=list)
    answered_ids: set = field(default_factory=set)


def rebuild(submission, source, run_demos: bool = False) -> Rebuilt:
    """Rebuild a submission on the exercise ``source`` (the student version).

    Every locked / check / setup cell comes from ``source`` by id (deleted,
    edited or duplicated ones are repaired and noted); answer cells are the
    student's first code cell with that grade id (a missing one becomes the
    unanswered stub); the student's own code cells follow the answer cell
    they were written after (those above the first answer follow the setup
    cell); demo cells are skipped unless ``run_demos``.

    Examples
    --------
    >>> from virtlab.grading.selftest import source_notebook
    >>> src = student_version(source_notebook())
    >>> r = rebuild(nbformat.v4.new_notebook(), src)     # a submission without cells
    >>> len(r.student_cells), r.notes[0], r.notes[-1]
    (0, 'intro: deleted, restored from source', 'q3_answer: answer cell missing, graded as unanswered')
    """
    sub_cells = [c for c in submission.get("cells", []) if isinstance(c, dict)]
    answers: dict[str, object] = {}
    extras: dict[str, list] = {}
    variant = None
    seen_locked: dict[str, int] = {}
    current = None
    notes: list[str] = []
    src_by_gid = {_grade_id(c): c for c in source.cells
                  if _grade_id(c) and not is_manual(c)}
    manual_ids = {_grade_id(c) for c in source.cells if is_manual(c)}
    for cell in sub_cells:
        gid, role = _grade_id(cell), cell_role(cell)
        if gid in manual_ids:
            continue  # a manually graded answer: collected as text, never run
        src = src_by_gid.get(gid)
        if role == "variant" and cell.get("cell_type") == "code":
            variant = variant or cell
            continue
        if gid and src is not None and cell_role(src) == "reason":
            continue  # a manually graded Markdown answer: nothing to run or restore
        if gid and src is not None and cell_role(src) == "answer":
            if cell.get("cell_type") != "code":
                notes.append(f"{gid}: not a code cell, ignored")
            elif gid in answers:
                notes.append(f"{gid}: duplicated, first copy used")
            else:
                answers[gid] = cell
            current = gid
            continue
        if gid and src is not None:
            seen_locked[gid] = seen_locked.get(gid, 0) + 1
            if seen_locked[gid] == 2:
                notes.append(f"{gid}: duplicated locked cell, restored from source")
            elif cell.get("source") != src.source and cell_role(src) != "demo":
                notes.append(f"{gid}: edited locked cell, restored from source")
            continue
        if cell.get("cell_type") == "code" and str(cell.get("source", "")).strip():
            # the student's own cells run after the answer cell they follow
            # (cells above the first answer run right after the setup cell)
            extras.setdefault(current or "setup", []).append(cell)
    for gid, src in src_by_gid.items():
        if cell_role(src) not in ("answer", "reason") and gid not in seen_locked:
            notes.append(f"{gid}: deleted, restored from source")
    cells: list = []
    student: set = set()

    def add(source_text, origin: str, own: bool) -> None:
        cell = nbformat.v4.new_code_cell(str(source_text))
        cell.metadata["virtlab_origin"] = f"student {origin}" if own else origin
        cells.append(cell)
        if own:
            student.add(len(cells) - 1)

    for src in source.cells:
        role, gid = cell_role(src), _grade_id(src)
        if src.cell_type != "code" or (role == "demo" and not run_demos) or is_manual(src):
            continue  # manual answers are collected as text, not run by the grader
        if role == "variant":
            add((variant or src).get("source", ""), "variant", variant is not None)
        elif role == "answer":
            if gid in answers:
                add(answers[gid].get("source", ""), gid, True)
            else:
                notes.append(f"{gid}: answer cell missing, graded as unanswered")
                add(src.source, gid, False)
            for extra in extras.get(gid, []):
                add(extra.get("source", ""), f"own cell after {gid}", True)
        else:
            add(src.source, gid or role, False)
            if role == "setup":
                for extra in extras.get("setup", []):
                    add(extra.get("source", ""), "own cell after setup", True)
    return Rebuilt(cells, student, notes, set(answers))
