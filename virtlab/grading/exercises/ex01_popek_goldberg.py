"""Exercise 1: Popek & Goldberg -- classify an ISA and decide virtualizability.

Per variant: a small hypothetical instruction set built from ``X86_32``
entries (privileged, sensitive-but-unprivileged and innocuous ones), where
the designers have made some of x86's critical instructions trap in user
mode and made some of them harmless in user mode.  The student sees each
instruction only as a *description of its behaviour* (what it does to or
reveals about the machine, whether it traps in user mode, what it does in
user mode) and classifies it from that -- the definitions, not a table of
flags -- then applies Theorems 1 and 3 (facts.md §1: sufficient
conditions).  Reference answers come from :func:`virtlab.popek_goldberg.classify`,
:func:`~virtlab.popek_goldberg.is_virtualizable` and
:func:`~virtlab.popek_goldberg.hybrid_vmm_possible` applied to the variant's
:class:`~virtlab.isa.ISA`; :func:`crosscheck` recomputes them from the table.

Examples
--------
>>> offending({"A": [True, True, False], "B": [False, False, True], "C": [False, False, False]})
['B']
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ...errors import check_type
from ...i18n import N_, _, translations
from ...isa import CLASS_LABELS, ISA, X86_32
from ...popek_goldberg import classify, hybrid_vmm_possible, is_virtualizable
from ...rng import make_rng
from ..practice import Step
from ..exercise import Exercise, Function, Value

__all__ = ["EXERCISE", "Problem", "make_problem", "behaviour", "shown_descriptions"]


#: What an instruction does, where the catalogue's ``reason`` would give the answer
#: away (it names the class or says whether it traps).
_EFFECT = {
    "IN": N_("reads a device register (an I/O port)"),
    "POPF": N_("pops EFLAGS, including the interrupt flag; whether IF changes depends on "
               "the current privilege level"),
    "SMSW": N_("reads the machine status word (the mode bits of CR0)"),
}


def behaviour(mnemonic: str, privileged: bool, sensitive: bool, user_sensitive: bool,
              lang: str | None = None) -> str:
    """A description of one instruction's behaviour on the variant CPU (no class names).

    In ``lang`` (default: the current language).  :meth:`Problem.descriptions`
    asks for English: solutions search that text for its phrases.

    Examples
    --------
    >>> print(behaviour("CLI", True, True, True).replace("; ", chr(10)))
    masks interrupts for the whole machine
    in user mode it traps to the supervisor (general-protection fault)
    its effect is the same whichever mode executes it
    >>> behaviour("CLI", True, False, False, lang="de")
    'maskiert Interrupts für die ganze Maschine; im Usermodus löst er einen Trap zum Supervisor aus (General-Protection-Fault)'
    """
    # the clauses are joined like list items; each is a catalogue entry (X86_32's
    # reasons are plain msgids, so the catalogue translates them directly)
    tr = translations(lang).gettext
    clauses = [tr(_EFFECT.get(mnemonic, X86_32[mnemonic].reason)),
               tr(N_("in user mode it traps to the supervisor (general-protection fault)"))
               if privileged else tr(N_("in user mode it runs without a trap"))]
    if sensitive:
        clauses.append(tr(N_("its effect is the same whichever mode executes it"))
                       if user_sensitive else
                       tr(N_("the designers made it harmless in user mode: executed there, "
                             "it neither changes nor reveals any system state")))
    return "; ".join(clauses)


@dataclass(frozen=True)
class Problem:
    """One variant: ``table`` holds (mnemonic, privileged, control-sensitive,
    behaviour-sensitive, sensitive in user mode) -- the model's truth; the
    student works from :meth:`descriptions`.

    Examples
    --------
    >>> make_problem(5) == make_problem(5)
    True
    """

    table: tuple = field(repr=False)

    def descriptions(self) -> dict:
        """Mnemonic → a description of its behaviour on this CPU, in English.

        English in every edition: the text is data that solutions search for
        phrases ("runs without a trap"), and the German solution runs the same
        code.  ``ex.show()`` shows the descriptions in the student's language.
        (No parameters: the grader hands zero-argument methods' results to the
        grading kernel, see :mod:`..problem_data`.)

        Examples
        --------
        >>> "ADD" in make_problem(0).descriptions() or len(make_problem(0).descriptions()) > 8
        True
        """
        return {m: behaviour(m, p, c or b, u, "en") for m, p, c, b, u in self.table}


def make_problem(seed: int) -> Problem:
    """A variant ISA of 9-11 instructions.

    Examples
    --------
    >>> len(make_problem(0).table) >= 9
    True
    """
    rng = make_rng(seed)
    c = classify(X86_32)
    picks = (rng.sample(sorted(c.privileged - {"MOV CR", "MOV DR"}), 3)
             + rng.sample(sorted(c.critical), rng.randint(3, 5))
             + rng.sample(sorted(c.innocuous), 3))
    critical = [m for m in picks if m in c.critical]
    mode = rng.choice(["keep", "fix_all", "fix_some", "user_safe"])
    fixed = set(critical) if mode == "fix_all" else (
        set(rng.sample(critical, len(critical) - 1)) if mode == "fix_some" else set())
    user_safe = set(critical) - fixed if mode == "user_safe" else set(
        rng.sample(critical, 1) if rng.random() < 0.4 else [])
    rows = []
    for m in sorted(picks):
        s = X86_32[m]
        priv = s.privileged or m in fixed
        user = s.is_user_sensitive and m not in user_safe
        rows.append((m, priv, s.control_sensitive, s.behavior_sensitive, user))
    return Problem(tuple(rows))


def variant_isa(problem: Problem) -> ISA:
    """The variant as an :class:`~virtlab.isa.ISA` the Popek & Goldberg model can classify."""
    specs = []
    for m, priv, ctl, beh, user in problem.table:
        specs.append(dataclasses.replace(X86_32[m], privileged=priv, control_sensitive=ctl,
                                         behavior_sensitive=beh, user_sensitive=user))
    return ISA("VARIANT", "exercise 1 variant", tuple(specs))


def offending(table: dict) -> list:
    """Sorted mnemonics that violate Theorem 1 (sensitive but not privileged).

    ``table`` maps mnemonic → [privileged, control_sensitive, behavior_sensitive].
    """
    isa = ISA("T", "function question", tuple(
        dataclasses.replace(X86_32["NOP"], mnemonic=m.upper(), privileged=bool(f[0]),
                            control_sensitive=bool(f[1]), behavior_sensitive=bool(f[2]))
        for m, f in table.items()))
    return sorted(classify(isa).critical)


def solve(problem: Problem) -> dict:
    """Reference answers from :mod:`virtlab.popek_goldberg`.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['critical', 'hybrid', 'sensitive', 'virtualizable']
    """
    isa = variant_isa(problem)
    c = classify(isa)
    return {"sensitive": set(c.sensitive), "critical": set(c.critical),
            "virtualizable": is_virtualizable(isa), "hybrid": hybrid_vmm_possible(isa)}


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Recompute every answer from the table with the definitions.

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    sens = {m for m, p, c, b, u in problem.table if c or b}
    crit = {m for m, p, c, b, u in problem.table if (c or b) and not p}
    user_crit = {m for m, p, c, b, u in problem.table if u and not p}
    want = {"sensitive": sens, "critical": crit, "virtualizable": not crit,
            "hybrid": not user_crit}
    out = [f"{k}: model {solution[k]!r} vs definition {v!r}" for k, v in want.items()
           if solution[k] != v]
    # the statement the student reads must say what the table says
    for m, text in problem.descriptions().items():
        p, c, b, u = dict((r[0], r[1:]) for r in problem.table)[m]
        if ("it traps to the supervisor" in text) != p or (
                (c or b) and ("made it harmless" in text) == u):
            out.append(f"description of {m} disagrees with the table")
    return out


def shown_descriptions(problem: Problem) -> dict:
    """:meth:`Problem.descriptions` in the current language: what ``ex.show()`` prints.

    Examples
    --------
    >>> shown_descriptions(make_problem(0)) == make_problem(0).descriptions()
    True
    """
    check_type("problem", problem, Problem)
    return {m: behaviour(m, p, c or b, u) for m, p, c, b, u in problem.table}


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> len(describe(make_problem(0)).splitlines()) > 2
    True
    """
    lines = [_("A hypothetical CPU derived from 32-bit x86, with a user mode and a supervisor "
               "mode. What each instruction does:")]
    for m, text in shown_descriptions(problem).items():
        lines.append(f"  {m}: {text}.")
    lines.append(_("The same descriptions are p.descriptions() (dict mnemonic -> text)."))
    return "\n".join(lines)


def _hidden(problem, rng):
    names = ["A", "B", "C", "D", "E", "F", "G"]
    return [({n: [rng.random() < 0.4, rng.random() < 0.3, rng.random() < 0.3]
              for n in rng.sample(names, rng.randint(2, 7))},) for _ in range(6)]


def worked(problem: Problem) -> list[Step]:
    """The reference answers step by step (practice mode).

    Examples
    --------
    >>> p = make_problem(5)
    >>> merged = {k: v for s in worked(p) for k, v in s.answers.items()}
    >>> merged == solve(p)
    True
    """
    sol = solve(problem)
    rows = []
    text = shown_descriptions(problem)
    for m, p, c, b, u in problem.table:
        kind = _(CLASS_LABELS["critical" if (c or b) and not p else
                              "privileged" if p else "innocuous"])
        verdict = _("sensitive, {kind}").format(kind=kind) if c or b else kind
        rule = (_("{why}; traps in user mode → {verdict}") if p else
                _("{why}; does not trap in user mode → {verdict}"))
        rows.append(f"  {m}: {text[m]}.\n    → "
                    + rule.format(why=_(_STATE_WHY[bool(c), bool(b)]), verdict=verdict))
    user_crit = sorted(m for m, p, c, b, u in problem.table if u and not p)
    hybrid = (_("A hybrid VMM interprets virtual supervisor mode, so only instructions that "
                "are sensitive in user mode and unprivileged break it: {names} → no hybrid "
                "VMM.").format(names=", ".join(user_crit)) if user_crit else
              _("A hybrid VMM interprets virtual supervisor mode, so only instructions that "
                "are sensitive in user mode and unprivileged break it: none → a hybrid VMM "
                "can be built."))
    return [
        Step(_("sensitive instructions"),
             _("An instruction is sensitive if it is control-sensitive (changes the machine's "
               "mode or resources) or behaviour-sensitive (its effect depends on them), "
               "whether or not it traps:\n{rows}").format(rows="\n".join(rows)),
             {"sensitive": sol["sensitive"]}),
        Step(_("critical instructions"),
             _("Critical = sensitive but not privileged (it does not trap in user mode, so a "
               "trap-and-emulate VMM never sees it): {names}.").format(
                 names=", ".join(sorted(sol["critical"])) or _("none")),
             {"critical": sol["critical"]}),
        Step(_("Theorem 1"),
             _("A VMM can be built if every sensitive instruction is privileged, i.e. if there "
               "is no critical instruction: yes.") if sol["virtualizable"] else
             _("A VMM can be built if every sensitive instruction is privileged, i.e. if there "
               "is no critical instruction: not guaranteed — there are critical ones."),
             {"virtualizable": sol["virtualizable"]}),
        Step(_("Theorem 3"), hybrid, {"hybrid": sol["hybrid"]}),
    ]


#: (changes machine state, depends on machine state) → the worked solution's reason.
_STATE_WHY = {(True, True): N_("changes machine state and depends on machine state"),
              (True, False): N_("changes machine state"),
              (False, True): N_("depends on machine state"),
              (False, False): N_("neither")}


EXERCISE = Exercise(
    id="ex01_popek_goldberg",
    title=N_("Exercise 1: Popek & Goldberg classification"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Value("q1", 2, N_("Sensitive = control-sensitive (it changes the configuration of the "
                 "machine's resources: mode, interrupts, memory map, devices, ...) or "
                 "behaviour-sensitive (its effect depends on or reveals the mode or the real "
                 "location/state of those resources), whether or not it traps. Pure "
                 "computation and relative jumps are innocuous."), name="sensitive", kind="set"),
        Value("q2", 2, N_("Critical (kritisch) = sensitive but not privileged: it does not trap "
                 "in user mode, so trap-and-emulate never sees it."), name="critical", kind="set"),
        Value("q3", 1, N_("Theorem 1: a VMM may be built if every sensitive instruction is "
                 "privileged (a sufficient condition)."), name="virtualizable", kind="bool"),
        Value("q4", 1, N_("Theorem 3: a hybrid VMM interprets everything in virtual supervisor "
                 "mode, so only instructions sensitive in USER mode must trap."),
              name="hybrid", kind="bool"),
        Function("q5", 3, N_("Collect the instructions that are sensitive (control or "
                    "behaviour) and not privileged; return them sorted."), name="offending",
                 public=lambda p: [({"CLI": [True, True, False], "POPF": [False, True, True],
                                     "ADD": [False, False, False]},),
                                   ({m: [pr, c, b] for m, pr, c, b, u in p.table},)],
                 hidden=_hidden, reference=lambda p, table: offending(table)),
    ),
)
