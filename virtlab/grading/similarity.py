"""Copy detection: winnowing fingerprints of answer code, as MOSS does.

The course is open, so a student can paste the reference solver (the
exercise module or the solution notebook) into an answer cell, or two
students can share code.  :func:`similarity_report` compares each
submission's answer code with the reference implementation and with every
other submission of the same exercise and lists pairs above a threshold
with the matching passages -- **a flag for a person to look at, never a
penalty**; no score changes.

How (Schleimer, Wilkerson & Aiken, "Winnowing: local algorithms for document
fingerprinting", SIGMOD 2003 -- the algorithm behind MOSS):

1. the code is tokenized with Python's own :mod:`tokenize`; names become
   ``N``, numbers ``0``, strings ``S``; comments and blank lines vanish, so
   renaming variables or re-commenting changes nothing;
2. every run of :data:`K` tokens is hashed;
3. in every window of :data:`W` consecutive hashes the smallest is kept
   (winnowing): any shared run of ``K + W - 1`` tokens is guaranteed to
   share a fingerprint, and the fingerprints are few;
4. fingerprints of the exercise's own scaffolding (the student version's
   code) are ignored, as MOSS ignores a base file;
5. a pair is flagged when it shares at least :data:`MIN_SHARED`
   fingerprints and they cover at least :data:`THRESHOLD` of the smaller
   side.

Why not the ``copydetect`` package (PyPI, the same algorithm): it
fingerprints *files* through pygments lexers and brings numpy, pygments
and jinja2 with it; here the code comes from notebook cells, only Python is
needed, and the standard library's tokenizer does the normalisation in a
few lines that the tests pin down.

Examples
--------
>>> a = "def f(x):\\n    total = 0\\n    for i in range(x):\\n        total += i * i\\n    return total\\n"
>>> b = a.replace("total", "acc").replace("x", "n")  # renamed only
>>> fa, fb = fingerprint(a), fingerprint(b)
>>> set(fa) == set(fb)
True
"""

from __future__ import annotations

import hashlib
import io
import keyword
import tokenize
from dataclasses import dataclass, field

from ..errors import check_int, check_mapping, check_number, check_str

__all__ = ["K", "W", "THRESHOLD", "MIN_SHARED", "tokens", "fingerprint", "Match",
           "compare", "similarity_report"]

#: Tokens per hashed k-gram (noise threshold: shorter shared runs are never seen).
K = 10
#: Winnowing window (any shared run of K + W - 1 tokens is always detected).
W = 6
#: Share of the smaller side's fingerprints that flags a pair.
THRESHOLD = 0.5
#: Fewest shared fingerprints that flag a pair (tiny answers are alike by nature).
MIN_SHARED = 5


_MARKS = {tokenize.INDENT: "{", tokenize.DEDENT: "}", tokenize.NEWLINE: ";"}


def tokens(code: str) -> list[tuple[str, int]]:
    """Normalised tokens with their line numbers.

    Examples
    --------
    >>> [t for t, _ in tokens("x = y + 1  # hi")]
    ['N', '=', 'N', '+', '0', ';']
    """
    out: list[tuple[str, int]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.NAME:
                text = tok.string if keyword.iskeyword(tok.string) else "N"
            elif tok.type == tokenize.NUMBER:
                text = "0"
            elif tok.type == tokenize.STRING:
                text = "S"
            elif tok.type == tokenize.OP:
                text = tok.string
            elif tok.type in _MARKS:
                text = _MARKS[tok.type]
            else:
                continue
            out.append((text, tok.start[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # keep what was tokenized: a broken cell still has fingerprints
    return out


def fingerprint(code: str) -> dict[int, list[int]]:
    """Winnowed fingerprints: hash → first lines of the k-grams that chose it."""
    toks = tokens(code)
    grams = []
    for i in range(len(toks) - K + 1):
        text = " ".join(t for t, _ in toks[i:i + K])
        h = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
        grams.append((h, toks[i][1], toks[i + K - 1][1]))
    chosen: dict[int, list[int]] = {}
    last = None
    for start in range(max(len(grams) - W + 1, 1 if grams else 0)):
        window = grams[start:start + W]
        # the minimum, rightmost on ties (the paper's robust winnowing)
        j = min(range(len(window)), key=lambda k: (window[k][0], -k))
        pick = start + j
        if pick != last:
            h, first, end = grams[pick]
            chosen.setdefault(h, []).append(first)
            chosen[h].append(end)
            last = pick
    return chosen


@dataclass(frozen=True)
class Match:
    """One compared pair: who, how much is shared, and where.

    ``share_a`` / ``share_b`` are the fractions of each side's fingerprints
    found in the other; ``passages`` are (lines in a, lines in b) ranges.
    """

    a: str
    b: str
    shared: int
    share_a: float
    share_b: float
    passages: tuple = ()
    flagged: bool = False

    @property
    def score(self) -> float:
        return max(self.share_a, self.share_b)


def _ranges(lines: list[int]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for ln in sorted(set(lines)):
        if out and ln <= out[-1][1] + 1:
            out[-1][1] = ln
        else:
            out.append([ln, ln])
    return [tuple(r) for r in out]


def compare(a: str, fa: dict, b: str, fb: dict, ignore: frozenset = frozenset(),
            threshold: float = THRESHOLD, min_shared: int = MIN_SHARED) -> Match:
    """Compare two fingerprinted answers (``ignore``: scaffolding fingerprints).

    Examples
    --------
    >>> code = "def g(a, b):\\n    s = []\\n    for x in a:\\n        if x in b:\\n            s.append(x * 2)\\n    return sorted(s)\\n"
    >>> m = compare("ann", fingerprint(code), "bob", fingerprint(code))
    >>> m.flagged, m.score
    (True, 1.0)
    """
    ka, kb = set(fa) - ignore, set(fb) - ignore
    shared = ka & kb
    share_a = len(shared) / len(ka) if ka else 0.0
    share_b = len(shared) / len(kb) if kb else 0.0
    lines_a = [ln for h in shared for ln in fa[h]]
    lines_b = [ln for h in shared for ln in fb[h]]
    passages = tuple(zip(_ranges(lines_a), _ranges(lines_b))) if shared else ()
    flagged = len(shared) >= min_shared and max(share_a, share_b) >= threshold
    return Match(a, b, len(shared), round(share_a, 3), round(share_b, 3), passages, flagged)


@dataclass
class ExerciseSimilarity:
    """All comparisons of one exercise."""

    exercise: str
    against_reference: list = field(default_factory=list)
    pairs: list = field(default_factory=list)

    @property
    def flagged(self) -> list:
        return [m for m in self.against_reference + self.pairs if m.flagged]


REFERENCE = "(reference)"


def similarity_report(exercise: str, answers: dict[str, str], reference: str,
                      scaffold: str = "", threshold: float = THRESHOLD,
                      min_shared: int = MIN_SHARED) -> ExerciseSimilarity:
    """Compare every student's answer code with ``reference`` and with each other.

    Parameters
    ----------
    exercise : str
    answers : dict
        Student id → the code of their answer and own cells.
    reference : str
        The reference implementation (solution cells, exercise module source).
    scaffold : str
        Code every student was given (the exercise notebook's code cells):
        its fingerprints are ignored.

    Examples
    --------
    >>> ref = "def walk(n, m):\\n    refs = n * m + n + m\\n    return {'refs': refs, 'levels': (n, m)}\\n"
    >>> r = similarity_report("ex00", {"ann": ref, "bob": "def walk(a, b):\\n    return a*b + a + b\\n"}, ref)
    >>> [(m.a, m.flagged) for m in r.against_reference]
    [('ann', True), ('bob', False)]
    """
    check_str("exercise", exercise)
    check_mapping("answers", answers, str)
    check_str("reference", reference, nonempty=False)
    check_str("scaffold", scaffold, nonempty=False)
    check_number("threshold", threshold, minimum=0, maximum=1)
    check_int("min_shared", min_shared, minimum=1)
    ignore = frozenset(fingerprint(scaffold))
    fps = {sid: fingerprint(code) for sid, code in sorted(answers.items())}
    ref_fp = fingerprint(reference)
    out = ExerciseSimilarity(exercise)
    for sid, fp in fps.items():
        out.against_reference.append(compare(sid, fp, REFERENCE, ref_fp, ignore, threshold,
                                             min_shared))
    ids = list(fps)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            m = compare(a, fps[a], b, fps[b], ignore, threshold, min_shared)
            if m.shared:
                out.pairs.append(m)
    out.pairs.sort(key=lambda m: (-m.score, m.a, m.b))
    return out


def _snippet(code: str, lines: tuple[int, int], limit: int = 12) -> str:
    rows = code.splitlines()[lines[0] - 1:lines[1]]
    if len(rows) > limit:
        rows = rows[:limit] + ["..."]
    return "\n".join("    " + r for r in rows)


def report_markdown(sim: ExerciseSimilarity, answers: dict[str, str], reference: str) -> str:
    """The instructor's similarity report for one exercise (Markdown)."""
    lines = [f"# Similarity report: {sim.exercise}", "",
             "Winnowing fingerprints (MOSS) of the answer code: each submission against the "
             "reference implementation and against every other submission of this exercise.",
             f"Flagged: at least {MIN_SHARED} shared fingerprints covering at least "
             f"{THRESHOLD:.0%} of one side (k = {K} tokens, window {W}).",
             "**A flag asks a person to look; it is never a penalty.**", ""]
    flagged = sim.flagged
    lines.append(f"{len(flagged)} flagged of {len(sim.against_reference)} submission(s) "
                 f"and {len(sim.pairs)} overlapping pair(s).")
    for m in flagged:
        other = reference if m.b == REFERENCE else answers.get(m.b, "")
        lines += ["", f"## {m.a} vs {m.b}: {m.shared} shared fingerprints, "
                      f"{m.share_a:.0%} of {m.a}, {m.share_b:.0%} of {m.b}"]
        for pa, pb in m.passages[:3]:
            lines += ["", f"{m.a}, lines {pa[0]}-{pa[1]}:", "",
                      _snippet(answers.get(m.a, ""), pa), "",
                      f"{m.b}, lines {pb[0]}-{pb[1]}:", "", _snippet(other, pb)]
    lines += ["", "## All submissions against the reference", "",
              "| student | shared | of student | of reference | flagged |", "|---|---|---|---|---|"]
    for m in sorted(sim.against_reference, key=lambda m: (-m.share_a, m.a)):
        lines.append(f"| {m.a} | {m.shared} | {m.share_a:.0%} | {m.share_b:.0%} | "
                     f"{'yes' if m.flagged else ''} |")
    return "\n".join(lines) + "\n"
