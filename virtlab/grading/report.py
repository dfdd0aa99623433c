"""Grading reports: one JSON per submission, ``grades.csv`` and a summary.

All files are written atomically (a temporary file in the same folder, then
``os.replace``), so an interrupted run never leaves a half-written report
and several shards (``--shard i/n``) can share one output folder.

Layout of ``--out DIR``::

    DIR/results/<student>__<exercise>.json   one per (student, exercise) (PrairieLearn-
                                             style ``score``/``tests`` plus status, reason)
    DIR/grades.csv                           one row per (student, exercise)
    DIR/summary.json, DIR/summary.txt        per-question pass rates, status counts
    DIR/manual/<exercise>.csv                manually graded answers (pending points)
    DIR/feedback/<student>__<exercise>.txt   the student's feedback, in their language

The stored results and the CSV are the same in every language (status codes,
English test names and messages, stable column names, for the instructor);
only the feedback files are rendered -- from the tests' status codes, at
writing time -- in a language: the one given, else the edition each student
handed in (a German notebook gets German feedback).

Text a student controls never reaches a CSV cell unescaped: a cell that
starts with ``= + - @`` (or a tab / carriage return) is prefixed with ``'``
so that a spreadsheet shows it as text instead of running it as a formula.

Examples
--------
>>> rows = [{"student": "a", "exercise": "ex00_selftest", "variant": "01", "status": "ok",
...          "reason": "graded", "points": 2.0, "max_points": 4.0, "runtime_s": 1.0,
...          "questions": {"q1": 2.0, "q2": 0.0}, "question_max": {"q1": 2.0, "q2": 2.0}}]
>>> summary(rows)["questions"]["ex00_selftest"]["q1"]["pass_rate"]
1.0
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from ..errors import check_choice
from ..i18n import LANGUAGES, N_, translations
from .verdict import CODES, QuestionVerdict, TestResult, question_status

__all__ = ["atomic_write", "result_path", "write_result", "load_results", "grades_csv",
           "summary", "summary_text", "write_reports", "CSV_FIELDS", "csv_cell", "manual_csvs",
           "feedback_path", "feedback_text"]

CSV_FIELDS = ["student", "exercise", "variant", "status", "points", "max_points",
              "manual_pending", "runtime_s", "submission", "reason"]
_SAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def atomic_write(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + ``os.replace``).

    Examples
    --------
    >>> d = Path(tempfile.mkdtemp())
    >>> atomic_write(d / "a" / "x.txt", "hello")
    >>> (d / "a" / "x.txt").read_text(), [p.name for p in (d / "a").iterdir()]
    ('hello', ['x.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def result_path(out: str | os.PathLike, student: str, exercise: str) -> Path:
    """Where the result of ``student``'s ``exercise`` is stored (one file per pair).

    Examples
    --------
    >>> result_path("out", "alice", "ex01_popek_goldberg").as_posix()
    'out/results/alice__ex01_popek_goldberg.json'
    """
    name = f"{_SAFE.sub('_', student)[:128]}__{_SAFE.sub('_', exercise)[:80]}.json"
    return Path(out) / "results" / name


def feedback_path(out: str | os.PathLike, student: str, exercise: str) -> Path:
    """Where the feedback file of ``student``'s ``exercise`` is written (beside its result).

    Examples
    --------
    >>> feedback_path("out", "alice", "ex01_popek_goldberg").as_posix()
    'out/feedback/alice__ex01_popek_goldberg.txt'
    """
    return Path(out) / "feedback" / result_path(out, student, exercise).with_suffix(".txt").name


#: What a status means for the student (the instructor's ``reason`` has the details).
_STATUS = {
    "timeout": N_("the time limit was exceeded during grading: an answer that did not finish "
                  "in time scores no points"),
    "kernel_died": N_("the Python kernel stopped during grading"),
    "memory_limit": N_("the memory limit was exceeded"),
    "export_failed": N_("the answers could not be read from the notebook"),
    "empty": N_("the file is empty"),
    "invalid_json": N_("the file is not a readable notebook"),
    "not_a_notebook": N_("the file is not a readable notebook"),
    "not_an_exercise": N_("the notebook is not one of the course's exercises"),
    "wrong_exercise": N_("the notebook belongs to another exercise"),
    "unreadable": N_("the file could not be read"),
    "unsafe_file": N_("the file could not be read safely (a link or a special file)"),
    "too_large": N_("the file is too large"),
    "bad_student_id": N_("the submission's folder is not a valid student id"),
    "duplicate": N_("more than one file was handed in for this exercise; none was graded"),
    "no_sandbox": N_("the grader could not run it; the reason is in your instructor's report"),
    "grader_error": N_("the grader could not run it; the reason is in your instructor's "
                       "report"),
}

#: At most this many failed tests are listed per question.
_MAX_LISTED = 8


def _stored_tests(r: dict, qid: str) -> list[TestResult] | None:
    """The stored tests of one question as TestResults.

    None for results stored without status codes (or with codes that do not
    render): their feedback shows the stored English messages instead.
    """
    out = []
    for t in r.get("tests", []) or []:
        if not isinstance(t, dict) or t.get("question") != qid:
            continue
        params = t.get("params") or {}
        if t.get("code") not in CODES or not isinstance(params, dict):
            return None
        result = TestResult(qid, str(t.get("name", "")), t["code"] == "passed",
                            float(t.get("max_points", 0) or 0) > 0,
                            str(t.get("visibility", "")), t["code"], dict(params))
        try:
            result.text("en")
        except (ValueError, TypeError):
            return None
        out.append(result)
    return out


def feedback_text(r: dict, lang: str | None = None) -> str:
    """A student's feedback on one graded submission, rendered in ``lang``.

    Messages are rendered from the stored status codes; a result stored
    without codes shows its stored (English) messages.

    Parameters
    ----------
    r : dict
        A stored result (:func:`load_results`).
    lang : str, optional
        ``"en"`` or ``"de"``; default: the current language.

    Examples
    --------
    >>> r = {"student": "ann", "exercise": "ex00_selftest", "variant": "0a", "status": "ok",
    ...      "gradable": True, "points": 2.0, "max_points": 4.0,
    ...      "questions": {"q1": 2.0, "q2": 0.0}, "question_max": {"q1": 2.0, "q2": 2.0},
    ...      "tests": [{"question": "q2", "name": "q2: answered", "code": "unanswered",
    ...                 "params": {"name": "table"}, "max_points": 0.0,
    ...                 "visibility": "visible"}]}
    >>> print(feedback_text(r, "en"), end="")
    ex00_selftest -- ann, variant 0a
    points: 2/4
    q1: 2/2 points
    q2: 0/2 points -- not answered: `table` is still `...`
    >>> print(feedback_text(r, "de").splitlines()[3])
    q2: 0/2 Punkte -- nicht beantwortet: `table` ist noch `...`
    """
    if lang is not None:
        check_choice("lang", lang, LANGUAGES)
    gettext = translations(lang).gettext
    status = r.get("status", "")
    head = gettext(N_("{exercise} -- {student}, variant {variant}")).format(
        exercise=r.get("exercise") or Path(str(r.get("submission", ""))).stem,
        student=r.get("student", ""),
        variant=r.get("variant", "") or "-")
    lines = [head]
    if not r.get("gradable"):
        why = gettext(_STATUS[status]) if status in _STATUS else status
        lines.append(gettext(N_("not graded: {why}")).format(why=why))
        return "\n".join(lines) + "\n"
    lines.append(gettext(N_("points: {points}/{max_points}")).format(
        points=f"{float(r.get('points', 0)):g}", max_points=f"{float(r.get('max_points', 0)):g}"))
    if status != "ok":
        why = gettext(_STATUS[status]) if status in _STATUS else status
        lines.append(gettext(N_("note: {why}")).format(why=why))
    maxima = r.get("question_max", {})
    for qid, pts in sorted(r.get("questions", {}).items(), key=lambda kv: (len(kv[0]), kv[0])):
        top = float(maxima.get(qid, pts))
        line = gettext(N_("{qid}: {points}/{max_points} points")).format(
            qid=qid, points=f"{float(pts):g}", max_points=f"{top:g}")
        tests = _stored_tests(r, qid)
        if tests is None:  # stored before status codes existed: its English messages
            failed = [str(t.get("message", "")) for t in r.get("tests", [])
                      if t.get("question") == qid and t.get("message")]
            lines += [line] + [f"  - {m}" for m in failed[:_MAX_LISTED]]
            continue
        qv = QuestionVerdict(qid, float(pts), top, tuple(tests))
        failed = [t for t in tests if not t.passed]
        if question_status(qv) == "todo":
            first = next(t for t in qv.public if not t.passed)
            lines.append(line + " -- " + gettext(N_("not answered: {message}")).format(
                message=first.text(lang)))
            continue
        lines.append(line)
        lines += [f"  - {t.text(lang)}" for t in failed[:_MAX_LISTED]]
        if len(failed) > _MAX_LISTED:
            lines.append("  - " + gettext(N_("... and {n} more")).format(
                n=len(failed) - _MAX_LISTED))
        hint = (r.get("hints") or {}).get(qid)
        if failed and isinstance(hint, str) and hint:
            lines.append("  " + gettext(N_("hint: {hint}")).format(hint=gettext(hint)))
    pending = _pending(r)
    if pending:
        lines.append(gettext(N_("{points} point(s) of answers graded by hand are still "
                                "pending")).format(points=f"{pending:g}"))
    return "\n".join(lines) + "\n"


def write_result(out: str | os.PathLike, result, key: tuple[str, str] | None = None) -> Path:
    """Store one result (a :class:`~.runner.GradeResult` or dict) atomically; returns its path.

    ``key`` is (student, exercise); default: the result's own fields.

    Examples
    --------
    >>> out = tempfile.mkdtemp()
    >>> r = {"student": "ann", "exercise": "ex01", "points": 1.0}
    >>> write_result(out, r).name, load_results(out) == [r]
    ('ann__ex01.json', True)
    """
    data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    student, exercise = key or (data.get("student") or "unknown",
                                data.get("exercise") or "unknown")
    path = result_path(out, student, exercise)
    atomic_write(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


def _stored_results(out: str | os.PathLike) -> list[tuple[Path, dict]]:
    rows = []
    for path in sorted((Path(out) / "results").glob("*.json")):
        try:
            rows.append((path, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue
    return rows


def load_results(out: str | os.PathLike) -> list[dict]:
    """All stored results in ``out/results`` (unreadable files are skipped).

    Examples
    --------
    >>> load_results(tempfile.mkdtemp())
    []
    """
    return [r for _path, r in _stored_results(out)]


def _question_ids(rows: list[dict]) -> list[str]:
    ids: list[str] = []
    for r in rows:
        for q in r.get("questions", {}):
            if q not in ids:
                ids.append(q)
    return sorted(ids, key=lambda q: (len(q), q))


def csv_cell(value):
    """A CSV cell that a spreadsheet cannot run as a formula.

    Examples
    --------
    >>> csv_cell("=1+2"), csv_cell("-1"), csv_cell(-1.5), csv_cell("ok")
    ("'=1+2", "'-1", -1.5, 'ok')
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _pending(r: dict) -> float:
    return round(sum(float(m.get("points", 0) or 0) for m in r.get("manual", []) or []), 4)


def grades_csv(rows: list[dict]) -> str:
    """``grades.csv`` text: one row per submission, points per question.

    Examples
    --------
    >>> print(grades_csv([{"student": "a", "exercise": "e", "variant": "v",
    ...     "status": "empty", "points": 0, "max_points": 0, "runtime_s": 0.1,
    ...     "submission": "a.ipynb", "reason": "the file is empty", "questions": {}}]).strip())
    student,exercise,variant,status,points,max_points,manual_pending,runtime_s,submission,reason
    a,e,v,empty,0,0,,0.1,a.ipynb,the file is empty
    """
    qids = _question_ids(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS[:4] + qids + CSV_FIELDS[4:])
    for r in sorted(rows, key=lambda r: (r.get("exercise", ""), r.get("student", ""),
                                         r.get("submission", ""))):
        qs = r.get("questions", {})
        r = {**r, "manual_pending": _pending(r) or ""}
        writer.writerow([csv_cell(x) for x in
                         [r.get(f, "") for f in CSV_FIELDS[:4]]
                         + [qs.get(q, "") for q in qids]
                         + [r.get(f, "") for f in CSV_FIELDS[4:]]])
    return buf.getvalue()


def manual_csvs(rows: list[dict]) -> dict[str, str]:
    """Manually graded answers per exercise: ``student, grade_id, points, answer`` CSV text.

    Examples
    --------
    >>> rows = [{"student": "a", "exercise": "ex09_x", "manual": [
    ...     {"grade_id": "why", "points": 2.0, "cell_type": "markdown", "answer": "=1+1"}]}]
    >>> print(manual_csvs(rows)["ex09_x"].strip())
    student,grade_id,points_available,cell_type,answer,points_awarded
    a,why,2.0,markdown,'=1+1,
    """
    by_ex: dict = defaultdict(list)
    for r in rows:
        for m in r.get("manual", []) or []:
            by_ex[r.get("exercise", "")].append((r.get("student", ""), m))
    out = {}
    for ex, items in sorted(by_ex.items()):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["student", "grade_id", "points_available", "cell_type", "answer",
                         "points_awarded"])
        for student, m in sorted(items, key=lambda sm: (sm[0], sm[1].get("grade_id", ""))):
            writer.writerow([csv_cell(x) for x in (student, m.get("grade_id", ""),
                                                   m.get("points", ""),
                                                   m.get("cell_type", ""),
                                                   m.get("answer", ""))] + [""])
        out[ex] = buf.getvalue()
    return out


def summary(rows: list[dict]) -> dict:
    """Status counts, mean score and per-question pass rates (full points) by exercise.

    Examples
    --------
    >>> summary([{"status": "empty"}, {"status": "ok", "runtime_s": 2}])["status"]
    {'empty': 1, 'ok': 1}
    """
    by_q: dict = defaultdict(lambda: defaultdict(list))
    full: dict = {}
    for r in rows:
        ex = r.get("exercise", "")
        for qid, pts in r.get("questions", {}).items():
            by_q[ex][qid].append(float(pts))
            if qid in r.get("question_max", {}):
                full[(ex, qid)] = float(r["question_max"][qid])
    questions: dict = {}
    for ex, qs in sorted(by_q.items()):
        questions[ex] = {}
        for qid, pts in sorted(qs.items(), key=lambda kv: (len(kv[0]), kv[0])):
            top = full.get((ex, qid), max(pts))
            passed = sum(top > 0 and p >= top - 1e-9 for p in pts)
            questions[ex][qid] = {"submissions": len(pts),
                                  "mean_points": round(sum(pts) / len(pts), 3),
                                  "pass_rate": round(passed / len(pts), 3)}
    runtimes = [float(r.get("runtime_s", 0) or 0) for r in rows]
    pending: dict = defaultdict(lambda: {"answers": 0, "points": 0.0})
    for r in rows:
        if r.get("manual"):
            p = pending[r.get("exercise", "")]
            p["answers"] += len(r["manual"])
            p["points"] = round(p["points"] + _pending(r), 4)
    return {"submissions": len(rows), "manual_pending": dict(sorted(pending.items())),
            "status": dict(sorted(Counter(r.get("status", "") for r in rows).items())),
            "mean_runtime_s": round(sum(runtimes) / len(runtimes), 2) if runtimes else 0.0,
            "questions": questions}


def summary_text(s: dict) -> str:
    """Readable form of :func:`summary`.

    Examples
    --------
    >>> print(summary_text(summary([])), end="")
    0 submission(s); status: 
    mean grading time per submission: 0.0 s
    """
    lines = [f"{s['submissions']} submission(s); status: "
             + ", ".join(f"{k} {v}" for k, v in s["status"].items()),
             f"mean grading time per submission: {s['mean_runtime_s']} s"]
    for ex, p in s.get("manual_pending", {}).items():
        lines.append(f"{ex}: {p['answers']} manually graded answer(s), {p['points']:g} "
                     f"point(s) pending (see manual/{ex}.csv)")
    for ex, qs in s["questions"].items():
        lines.append(f"{ex}:")
        for qid, d in qs.items():
            lines.append(f"  {qid}: pass rate {d['pass_rate']:.0%}, "
                         f"mean {d['mean_points']} points ({d['submissions']} graded)")
    return "\n".join(lines) + "\n"


def write_reports(out: str | os.PathLike, lang: str | None = None) -> dict:
    """Rebuild ``grades.csv``, the summary and the feedback files from all stored results.

    Every file is written atomically.  ``lang`` is the language of the
    students' feedback files (``"en"`` or ``"de"``); None: each in the edition
    its student handed in (English when unknown).

    Examples
    --------
    >>> out = tempfile.mkdtemp()
    >>> write_reports(out)["submissions"], sorted(p.name for p in Path(out).iterdir())
    (0, ['grades.csv', 'summary.json', 'summary.txt'])
    """
    if lang is not None:
        check_choice("lang", lang, LANGUAGES)
    stored = _stored_results(out)
    rows = [r for _path, r in stored]
    for path, r in stored:  # named as its result (the key it was stored under)
        edition = r.get("edition") if r.get("edition") in LANGUAGES else LANGUAGES[0]
        try:
            text = feedback_text(r, lang or edition)
        except (ValueError, TypeError, AttributeError):  # a damaged result: still a file
            text = f"{r.get('exercise', '')} -- {r.get('student', '')}\n{r.get('message', '')}\n"
        atomic_write(Path(out) / "feedback" / path.with_suffix(".txt").name, text)
    s = summary(rows)
    atomic_write(Path(out) / "grades.csv", grades_csv(rows))
    for exercise, text in manual_csvs(rows).items():
        atomic_write(Path(out) / "manual" / f"{_SAFE.sub('_', exercise)}.csv", text)
    atomic_write(Path(out) / "summary.json", json.dumps(s, indent=1, sort_keys=True) + "\n")
    atomic_write(Path(out) / "summary.txt", summary_text(s))
    return s
