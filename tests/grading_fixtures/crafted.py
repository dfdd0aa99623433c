"""Crafted submissions for the grading tests (generated at test time, not committed).

:func:`make_crafted` writes one submission per case into ``<dir>/<student>/
ex00_selftest.ipynb`` (or a broken file) and returns the expectation for each
student: the status, and a predicate on the points per question.  The cases
are the ones issue 8 lists: correct; partly wrong; another student's answers
under a different id; infinite loop; kernel crash; memory hog; malformed JSON;
empty file; deleted, duplicated and edited test cells; monkeypatched
``check``; an ``__eq__``-always-True object; forged output; plus a different
notebook, a notebook without cells and JSON that is not a notebook.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import nbformat

from virtlab.grading.notebook import cell_role, student_version
from virtlab.grading.selftest import EXERCISE, make_problem, solve, source_notebook
from virtlab.grading.variants import variant_seed

CORRECT = {
    "q1": "p = ex.problem\nanswer = p['n'] * p['m'] + p['n'] + p['m']",
    "q2": "table = {f'{a}x{b}': a * b + a + b for a, b in ex.problem['pairs']}",
    "q3": "def refs(n, m):\n    return n * m + n + m",
}
FULL = {"q1": 2.0, "q2": 3.0, "q3": 5.0}


def _answer(nb, qid):
    for cell in nb.cells:
        meta = cell.metadata.get("virtlab", {})
        if meta.get("role") == "answer" and meta.get("id") == qid:
            return cell
    raise KeyError(qid)


def _filled(answers: dict | None = None):
    nb = student_version(source_notebook())
    for qid, src in {**CORRECT, **(answers or {})}.items():
        _answer(nb, qid).source = src
    return nb


def _writers(root: Path, cases: dict):
    """``put`` writes a submission below ``root``; ``expect`` records its expectation."""
    def put(student, nb=None, raw=None, name="ex00_selftest.ipynb"):
        path = root / student / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if raw is not None:
            path.write_bytes(raw)
        elif nb is not None:
            nbformat.write(nb, path)
        return path

    def expect(student, status, check, why):
        cases[student] = {"status": status, "check": check, "why": why}
    return put, expect


def _literal_answers(student: str, secret: bytes) -> dict:
    """Hard-coded correct answers of ``student``'s variant (what a copier pastes)."""
    ref = solve(make_problem(variant_seed(student, EXERCISE.id, secret)))
    return {"q1": f"answer = {ref['answer']!r}", "q2": f"table = {ref['table']!r}"}


def make_crafted(root: str | Path, secret: bytes) -> dict:
    """Write the crafted submissions below ``root``; return expectations by student."""
    root = Path(root)
    cases: dict = {}
    put, expect = _writers(root, cases)

    put("alice", _filled())
    expect("alice", "ok", lambda q: q == FULL, "correct")

    put("bob", _filled({
        "q2": "table = {f'{a}x{b}': a * b + a + b for a, b in ex.problem['pairs']}\n"
              "first = sorted(table)[0]\ntable[first] += 1",
        "q3": "def refs(n, m):\n    return n * m + n + m if n != m else n * m"}))
    expect("bob", "ok", lambda q: q["q1"] == 2 and 0 < q["q2"] < 3 and 0 < q["q3"] < 5,
           "partly wrong: one table row and the n == m cases")

    # carol pastes a friend's literal answers (a friend whose variant differs in
    # q1); only the general function still fits her variant
    own = solve(make_problem(variant_seed("carol", EXERCISE.id, secret)))["answer"]
    friend = next(f"dave{k}" for k in range(100) if solve(make_problem(
        variant_seed(f"dave{k}", EXERCISE.id, secret)))["answer"] != own)
    put("carol", _filled(_literal_answers(friend, secret)))
    expect("carol", "ok", lambda q: q["q1"] == 0 and q["q2"] < 3 and q["q3"] == 5,
           "another student's answers under a different id")

    put("erin", _filled({"q1": "while True:\n    pass"}))
    expect("erin", "timeout", lambda q: q["q1"] == 0 and q["q2"] == 3 and q["q3"] == 5,
           "infinite loop in q1; the rest still graded")

    put("frank", _filled({"q2": "import os\nos._exit(3)"}))
    expect("frank", "kernel_died", lambda q: q == {"q1": 2.0, "q2": 0.0, "q3": 5.0},
           "kernel crash in q2: graded again without that cell, other answers kept")

    put("fred", _filled({"q1": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                               "while True:\n    pass"}))
    expect("fred", "timeout", lambda q: q == {"q1": 0.0, "q2": 3.0, "q3": 5.0},
           "endless loop that ignores the interrupt: hung kernel, graded without q1")

    put("gina", _filled({"q1": "blocks = []\nwhile True:\n"
                               "    blocks.append(bytearray(2**30))"}))
    expect("gina", "memory_limit", lambda q: q["q1"] == 0 and q["q3"] == 5,
           "memory hog in q1 under the kernel's memory limit")

    put("hank", raw=b'{"cells": [ {"cell_type": "code", "source": "x = 1"')
    expect("hank", "invalid_json", lambda q: q == {}, "malformed JSON")

    put("ivy", raw=b"")
    expect("ivy", "empty", lambda q: q == {}, "empty file")

    nb = _filled()
    nb.cells = [c for c in nb.cells if cell_role(c) != "check"]
    put("jack", nb)
    expect("jack", "ok", lambda q: q == FULL, "deleted test cells are restored")

    nb = _filled()
    extra = copy.deepcopy(_answer(nb, "q1"))
    extra.source = "answer = -1"
    extra["id"] = "dup-answer"
    checks = [copy.deepcopy(c) for c in nb.cells if cell_role(c) == "check"]
    for k, c in enumerate(checks):
        c["id"] = f"dup-check-{k}"
    nb.cells = nb.cells + [extra] + checks
    put("kate", nb)
    expect("kate", "ok", lambda q: q == FULL,
           "duplicated answer and test cells: the first answer copy counts")

    nb = _filled({"q1": "answer = 0", "q2": "table = {}"})
    for c in nb.cells:
        if cell_role(c) == "check":
            c.source = "print('all tests passed: 10/10')"
        if cell_role(c) == "setup":
            c.source = ("from virtlab.grading import start\n"
                        "ex = start('ex00_selftest', variant='1')")
    put("liam", nb)
    expect("liam", "ok", lambda q: q["q1"] == 0 and q["q2"] == 0 and q["q3"] == 5,
           "edited test and setup cells are restored")

    nb = _filled({"q1": "answer = 0\nex.check = lambda q: 'all public tests passed'\n"
                        "import virtlab.grading.verdict as _v\n"
                        "_v.evaluate = lambda *a, **k: None\n"
                        "import virtlab.grading._kernel as _k\n"
                        "_k.to_plain = lambda x: 999",
                  "q3": "def refs(n, m):\n    return 0"})
    put("mia", nb)
    expect("mia", "ok", lambda q: q["q1"] == 0 and q["q3"] == 0 and q["q2"] == 3,
           "monkeypatched check/verdict/export code changes nothing")

    nb = _filled({"q1": "class Yes(int):\n    def __eq__(self, other):\n        return True\n"
                        "    __hash__ = int.__hash__\nanswer = Yes(0)",
                  "q2": "class Any:\n    def __eq__(self, other):\n        return True\n"
                        "table = Any()",
                  "q3": "def refs(n, m):\n    return Any()"})
    put("noah", nb)
    expect("noah", "ok", lambda q: sum(q.values()) == 0, "__eq__ always True")

    nb = _filled({"q1": "answer = -5\nprint('{\"points\": 10, \"max_points\": 10}')",
                  "q2": "table = {}", "q3": "def refs(n, m):\n    return -1"})
    for c in nb.cells:
        if cell_role(c) == "check":
            c.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                text="all public tests passed\n")]
    nb.metadata["virtlab"]["score"] = 10
    try:  # also try to claim the answer export file the grader would write
        nb.cells.append(nbformat.v4.new_code_cell(
            "import glob, json\nfor f in glob.glob('export-*.json'):\n"
            "    open(f, 'w').write(json.dumps({'values': {}}))"))
    except Exception:  # pragma: no cover
        pass
    put("olivia", nb)
    expect("olivia", "ok", lambda q: sum(q.values()) == 0, "forged outputs and metadata")

    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")])
    put("paul", other)
    expect("paul", "not_an_exercise", lambda q: q == {}, "a different notebook")

    empty_nb = nbformat.v4.new_notebook()
    empty_nb.metadata["virtlab"] = {"exercise": EXERCISE.id}
    put("quinn", empty_nb)
    expect("quinn", "ok", lambda q: sum(q.values()) == 0, "a notebook without cells")

    put("rosa", raw=json.dumps([1, 2, 3]).encode())
    expect("rosa", "not_a_notebook", lambda q: q == {}, "JSON that is not a notebook")
    return cases


def require_bwrap():
    """The sandbox is required: missing bwrap skips locally and fails under CI=true."""
    import pytest

    from virtlab.grading.sandbox import find_bwrap
    if find_bwrap() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("bwrap (Debian package bubblewrap) is missing: .ci/run installs it")
        pytest.skip("bwrap (bubblewrap) is not installed")


#: A marker attack processes give themselves (prctl name) and put in file names,
#: so the tests find exactly what the attacks left behind.
MARK = "vl14atk"

_FULL_Q1 = "p = ex.problem\nanswer = p['n'] * p['m'] + p['n'] + p['m']"


def make_attacks(root: str | Path, out: str | Path, solutions: str | Path, secret: bytes,
                 token: str) -> dict:
    """Issue 14's findings as submissions below ``root``; expectations by student.

    ``out`` and ``solutions`` are the grader's folders the attacks aim at;
    ``token`` is unique per test run (names of files the attacks try to leave).
    """
    root, out, solutions = Path(root), str(out), str(solutions)
    cases: dict = {}
    put, expect = _writers(root, cases)

    # 1. package tampering: the grading code and a .pth in site-packages
    put("a01_tamper", _filled({"q1": (
        "import site, virtlab.grading._kernel as _k, virtlab.grading.session as _s\n"
        "hurt = 0\n"
        "for f in (_k.__file__, _s.__file__):\n"
        "    try:\n"
        "        open(f, 'a').write('\\nraise SystemExit(0)\\n'); hurt += 1\n"
        "    except OSError:\n"
        "        pass\n"
        "for d in site.getsitepackages():\n"
        "    try:\n"
        f"        open(d + '/{MARK}_{token}.pth', 'w').write('import os\\n'); hurt += 1\n"
        "    except OSError:\n"
        "        pass\n"
        + _FULL_Q1 + "\nanswer = answer if hurt == 0 else -1")}))
    expect("a01_tamper", "ok", lambda q: q == FULL,
           "finding 1: package and site-packages are read-only in the sandbox")

    # 2. result tampering: a ghost student and zeroing alice, straight into --out
    put("a02_results", _filled({"q1": (
        "import json, os\nwrote = 0\n"
        "for name in ('ghost__ex00_selftest.json', 'alice__ex00_selftest.json'):\n"
        "    try:\n"
        f"        os.makedirs({out!r} + '/results', exist_ok=True)\n"
        f"        open({out!r} + '/results/' + name, 'w').write(json.dumps(\n"
        "            {'student': name.split('__')[0], 'exercise': 'ex00_selftest',\n"
        "             'status': 'ok', 'points': 10.0 if 'ghost' in name else 0.0,\n"
        "             'max_points': 10.0, 'questions': {}}))\n"
        "        wrote += 1\n"
        "    except OSError:\n"
        "        pass\n" + _FULL_Q1)}))
    expect("a02_results", "ok", lambda q: q == FULL,
           "finding 2: the kernel cannot see the output folder")

    # 3. processes left behind: a daemon that outlives the kernel and writes later
    put("a03_daemon", _filled({"q1": (
        "import os, time, ctypes\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        try:\n"
        f"            ctypes.CDLL(None).prctl(15, b'{MARK}', 0, 0, 0)\n"
        "        except Exception:\n"
        "            pass\n"
        "        for _ in range(600):\n"
        "            for d in ('/tmp', '/dev/shm', " + repr(out) + "):\n"
        "                try:\n"
        f"                    open(d + '/{MARK}_{token}_daemon', 'w').write('alive')\n"
        "                except OSError:\n"
        "                    pass\n"
        "            time.sleep(0.5)\n"
        "    os._exit(0)\n"
        + _FULL_Q1)}))
    expect("a03_daemon", "ok", lambda q: q == FULL,
           "finding 3: a fork()+setsid() daemon dies with the sandbox")

    # 4. the secret: environment, the parent's environ and cmdline, leaked as a type name
    put("a04_secret", _filled({"q3": (
        "import os, glob\nfound = ''\n"
        "for f in glob.glob('/proc/*/environ') + glob.glob('/proc/*/cmdline'):\n"
        "    try:\n"
        "        data = open(f, 'rb').read().decode('latin-1')\n"
        "    except OSError:\n"
        "        continue\n"
        "    for part in data.split('\\0'):\n"
        "        if part.startswith('VIRTLAB_GRADING_SECRET='):\n"
        "            found = part.split('=', 1)[1]\n"
        "found = found or os.environ.get('VIRTLAB_GRADING_SECRET', '')\n"
        "def refs(n, m):\n"
        "    if found:\n"
        "        raise type('LEAK_' + found.replace('-', '_'), (Exception,), {})\n"
        "    return n * m + n + m")}))
    expect("a04_secret", "ok", lambda q: q == FULL,
           "finding 4: no secret in the sandbox (so nothing to leak)")

    # 5. hidden inputs leaked through an exception type name
    put("a05_hidden", _filled({"q3": (
        "def refs(n, m):\n"
        "    raise type('HIDDEN_%d_%d' % (n, m), (Exception,), {})")}))
    expect("a05_hidden", "ok", lambda q: q["q3"] == 0 and q["q1"] == 2,
           "finding 5: hidden cases say only 'raised an error'")

    # 6. reference answers: reload the solver module, import its helper, read solutions/
    put("a06_reference", _filled({
        "q1": ("import importlib, virtlab.grading.selftest as _s\n"
               "answer = importlib.reload(_s).solve(ex.problem)['answer']"),
        "q2": ("import os\n"
               "table = {f'{a}x{b}': a * b + a + b for a, b in ex.problem['pairs']}\n"
               f"table = table if os.path.exists({solutions!r} + '/ex00_selftest.ipynb') "
               "else {}"),
        "q3": "from virtlab.grading.selftest import walk_refs as refs"}))
    expect("a06_reference", "ok", lambda q: sum(q.values()) == 0,
           "finding 6: no solver, no solutions/ in the sandbox")
    link = root / "a06_symlink" / "ex00_selftest.ipynb"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(Path(solutions) / "ex00_selftest.ipynb")
    expect("a06_symlink", "unsafe_file", lambda q: q == {},
           "finding 6: a symlink to the solution is not read")

    # 7. identity from the folder, never the file name; duplicates reported
    put("a07_mallory", _filled({"q1": "answer = -1"}), name="alice__ex00_selftest.ipynb")
    expect("a07_mallory", "ok", lambda q: q["q1"] == 0,
           "finding 7: mallory's file named alice__* is mallory's")
    put("a07_twice", _filled())
    put("a07_twice", _filled({"q1": "answer = -1"}), name="ex00_selftest_v2.ipynb")
    expect("a07_twice", "duplicate", lambda q: q == {},
           "finding 7: two files of one exercise: one row, reported")

    # 8. export forgery: names the export cell used to resolve, a patched json.dumps
    put("a08_export", _filled({"q3": (
        "import json\n_dumps = json.dumps\n"
        "json.dumps = lambda o, *a, **k: _dumps({'values': {}, 'nonce': o['nonce']}) "
        "if isinstance(o, dict) and 'nonce' in o else _dumps(o, *a, **k)\n"
        "exec = open = globals = None\n"
        "def refs(n, m):\n    return n * m + n + m")}))
    expect("a08_export", "ok", lambda q: q == FULL,
           "finding 8: the export resolves no student-replaceable name")

    # 9. denial of service: FIFO, /dev/zero, endless output, /dev/shm
    fifo = root / "a09_fifo" / "ex00_selftest.ipynb"
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    expect("a09_fifo", "unsafe_file", lambda q: q == {}, "finding 9: a FIFO is not opened")
    zero = root / "a09_zero" / "ex00_selftest.ipynb"
    zero.parent.mkdir(parents=True, exist_ok=True)
    zero.symlink_to("/dev/zero")
    expect("a09_zero", "unsafe_file", lambda q: q == {}, "finding 9: /dev/zero is not read")
    put("a09_output", _filled({"q1": "for _ in range(30):\n    print('x' * 100_000)\n"
                                      + _FULL_Q1}))
    expect("a09_output", "ok", lambda q: q == FULL,
           "finding 9: 3 MB of printed output is capped, the answer still counts")
    put("a09_shm", _filled({"q1": (
        "full = False\n"
        "try:\n"
        f"    with open('/dev/shm/{MARK}_{token}_shm', 'wb') as fh:\n"
        "        for _ in range(40):\n"
        "            fh.write(b'x' * 2**22)\n"
        "except OSError:\n"
        "    full = True\n" + _FULL_Q1 + "\nanswer = answer if full else -1")}))
    expect("a09_shm", "ok", lambda q: q == FULL,
           "finding 9: /dev/shm is private and size-capped")

    # 10. minor: deep JSON, KeyboardInterrupt in the export, formula, fake progress line
    put("a10_deep", raw=b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    expect("a10_deep", "invalid_json", lambda q: q == {}, "finding 10: deep nesting")
    put("a10_interrupt", _filled({"q3": "def refs(n, m):\n    raise KeyboardInterrupt"}))
    expect("a10_interrupt", "ok", lambda q: q == {"q1": 2.0, "q2": 3.0, "q3": 0.0},
           "finding 10: KeyboardInterrupt loses only its own answer")
    formula = _filled()
    formula.metadata["virtlab"]["exercise"] = '=HYPERLINK("http://evil/")'
    for c in formula.cells:
        if cell_role(c) == "setup":
            c.source = "x = 1"
    put("a10_formula", formula)
    expect("a10_formula", "not_an_exercise", lambda q: q == {},
           "finding 10: formula in a CSV cell is escaped")
    put("a10_stderr", _filled({"q1": (
        "import os\nos.write(2, b'[####################] 99/99 zz_fake ex00_selftest: ok "
        "10/10 (1 s)\\n')\n" + _FULL_Q1)}))
    expect("a10_stderr", "ok", lambda q: q == FULL,
           "finding 10: kernel stderr goes into the report")

    # honest submissions graded after all the attacks (sorted last)
    for k in range(3):
        put(f"zz_honest{k}", _filled())
        expect(f"zz_honest{k}", "ok", lambda q: q == FULL, "honest, after the attacks")
    return cases
