"""Exercise 10: VT-x -- which instructions exit under given VMCS controls, exit counts.

Per variant: a set of VMCS execution controls (*VM control structure*), a few
instructions issued by the guest kernel (non-root ring 0) or by a guest
application (ring 3), and a small guest kernel loop.  The student decides
which instructions cause a VM exit and with which basic exit reason, counts
the exits of the loop, and predicts the count with nested paging (EPT)
switched the other way.  Reference answers come from
:func:`virtlab.hypervisor.vtx.exit_for` and
:class:`~virtlab.hypervisor.vtx.HardwareMachine` (the loop really runs);
:func:`crosscheck` recomputes them from the rules of Intel SDM 3C ch. 25 as
summarised in facts.md §9.

Examples
--------
>>> exit_reason("HLT", {"hlt_exiting": True}, 0)
'HLT'
>>> exit_reason("HLT", {"hlt_exiting": True}, 3) is None
True
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

from dataclasses import dataclass

from ...i18n import N_, _
from ...asm import assemble, parse_instruction
from ...hypervisor.vtx import DEFAULT_CONTROLS, HardwareMachine, exit_for
from ...isa import X86_VTX
from ...rng import make_rng
from ..exercise import Exercise, Function, Manual, Value
from ..practice import Step
from ._guest import guest_loop

__all__ = ["EXERCISE", "Problem", "make_problem", "exit_reason", "CONTROLS", "REASONS"]

#: The execution controls a variant sets (the rest keep their defaults).
CONTROLS = ("hlt_exiting", "unconditional_io_exiting", "cr3_load_exiting",
            "cr3_store_exiting", "invlpg_exiting", "mov_dr_exiting", "use_msr_bitmaps",
            "descriptor_table_exiting", "enable_ept")

#: Exit reasons the exercise asks about (by name).
REASONS = ("HLT", "IO_INSTRUCTION", "CR_ACCESS", "DR_ACCESS", "RDMSR", "WRMSR", "INVLPG",
           "GDTR_IDTR", "LDTR_TR", "VMCALL")

_POOL = ("HLT", "OUT 0x60, EAX", "IN EAX, 0x71", "MOV CR3, EAX", "MOV EAX, CR3",
         "MOV CR0, EAX", "MOV EAX, CR0", "MOV CR4, EAX", "CLTS", "LMSW EAX", "SMSW EAX",
         "MOV DR7, EAX", "RDMSR", "WRMSR", "INVLPG EAX", "LGDT EAX", "SIDT EAX", "LLDT EAX",
         "STR EAX", "CLI", "POPF", "PUSHF", "ADD EAX, 1", "VMCALL")

# loop-body fragments that run safely in the guest kernel
_BODY = ("OUT 0x3F8, EAX", "IN EAX, 0x71", "MOV EAX, 0x100\nMOV CR3, EAX", "MOV EBX, CR3",
         "RDMSR", "WRMSR", "INVLPG EAX", "MOV DR7, EAX", "SMSW EAX", "CLI\nSTI", "PUSHF\nPOPF",
         "ADD EBX, 3")


@dataclass(frozen=True)
class Problem:
    """One variant of exercise 10.

    Attributes
    ----------
    controls : tuple of (control, bool)
    instructions : tuple of (key, instruction, cpl)
    loops : int
        Iterations of the guest loop.
    body : tuple of str
        The loop body, one instruction per entry (a ``HLT`` ends the guest).

    Examples
    --------
    >>> make_problem(1) == make_problem(1)
    True
    """

    controls: tuple
    instructions: tuple
    loops: int
    body: tuple

    def program_text(self) -> str:
        """The guest kernel's code (:func:`._guest.guest_loop`)."""
        return guest_loop(self.loops, self.body)


def exit_reason(instruction: str, controls: dict, cpl: int):
    """The basic exit reason (name) ``instruction`` causes at ``cpl``, or None (the model).

    ``controls`` overrides :data:`~virtlab.hypervisor.vtx.DEFAULT_CONTROLS`.
    """
    got = exit_for(parse_instruction(instruction, isa=X86_VTX),
                   {**DEFAULT_CONTROLS, **dict(controls)}, cpl)
    return None if got is None else got[0]


def make_problem(seed: int) -> Problem:
    """A variant: controls, six instructions, a guest loop.

    Examples
    --------
    >>> len(make_problem(0).instructions)
    6
    """
    rng = make_rng(seed)
    controls = tuple((c, DEFAULT_CONTROLS[c] if rng.random() < 0.6 else
                      not DEFAULT_CONTROLS[c]) for c in CONTROLS)
    picks = rng.sample(_POOL, 6)
    cpls = [0] * 5 + [3]
    rng.shuffle(cpls)
    instructions = tuple((f"i{k + 1}", ins, cpl) for k, (ins, cpl) in enumerate(zip(picks,
                                                                                   cpls)))
    body = []
    for frag in rng.sample(_BODY, rng.randint(3, 5)):
        body += frag.split("\n")
    return Problem(controls, instructions, rng.randint(3, 9), tuple(body))


def _run(problem: Problem, ept: bool) -> dict:
    ctl = dict(problem.controls, enable_ept=ept)
    r = HardwareMachine(assemble(problem.program_text()), controls=ctl, ept=ept).run()
    return {reason: int(r.exits.get(reason, 0)) for reason in REASONS}


def solve(problem: Problem) -> dict:
    """Reference answers from :mod:`virtlab.hypervisor.vtx`.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['exits', 'loop_exits', 'other_ept_total']
    """
    ctl = dict(problem.controls)
    ept = ctl["enable_ept"]
    return {"exits": {k: exit_reason(ins, ctl, cpl) for k, ins, cpl in problem.instructions},
            "loop_exits": _run(problem, ept),
            "other_ept_total": sum(_run(problem, not ept).values())}


def _rule(ins: str, ctl: dict, cpl: int):
    return _why(ins, ctl, cpl)[0]


def _why(ins: str, ctl: dict, cpl: int):
    # Intel SDM 3C ch. 25 as in facts.md §9: VMCALL always exits; nothing else
    # from ring 3 (the guest kernel handles #GP); then per control.
    # Returns (exit reason or None, the rule in words -- in the current language).
    mn, *ops = ins.replace(",", " ").split()
    if mn == "VMCALL":
        return "VMCALL", _("VMCALL always exits")
    if cpl > 0:
        return None, _("a guest application (cpl 3) causes no exit: #GP goes to the guest "
                       "kernel")
    ept = ctl["enable_ept"]

    def by(control, reason, on=True):
        state = ctl[control]
        return (reason if state == on else None), _("{control} is {state}").format(
            control=control, state=state)

    if mn == "HLT":
        return by("hlt_exiting", "HLT")
    if mn in ("IN", "OUT"):
        return by("unconditional_io_exiting", "IO_INSTRUCTION")
    if mn == "MOV" and "CR3" in ops:
        if ept:
            return None, _("with enable_ept the guest owns CR3")
        return by("cr3_load_exiting" if ops[0] == "CR3" else "cr3_store_exiting", "CR_ACCESS")
    if mn == "MOV" and ops[0] in ("CR0", "CR4") or mn in ("CLTS", "LMSW"):
        return "CR_ACCESS", _("CR0/CR4 writes always exit (the guest/host masks own every "
                              "bit)")
    if mn == "MOV" and ops[1] in ("CR0", "CR4") or mn == "SMSW":
        return None, _("CR0/CR4 reads come from the read shadow")
    if mn == "MOV" and "DR7" in ops:
        return by("mov_dr_exiting", "DR_ACCESS")
    if mn in ("RDMSR", "WRMSR"):
        return by("use_msr_bitmaps", mn, on=False)
    if mn == "INVLPG":
        if ept:
            return None, _("with enable_ept the guest flushes its own TLB entries")
        return by("invlpg_exiting", "INVLPG")
    if mn in ("LGDT", "LIDT", "SGDT", "SIDT"):
        return by("descriptor_table_exiting", "GDTR_IDTR")
    if mn in ("LLDT", "LTR", "SLDT", "STR"):
        return by("descriptor_table_exiting", "LDTR_TR")
    return None, _("no execution control governs {mnemonic}: it runs in non-root "
                   "ring 0").format(mnemonic=mn)


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Recompute the answers from the exit rules and by counting the loop by hand.

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    out = []
    ctl = dict(problem.controls)
    for key, ins, cpl in problem.instructions:
        want = _rule(ins, ctl, cpl)
        if solution["exits"][key] != want:
            out.append(f"{key} {ins}: model {solution['exits'][key]} vs rules {want}")
    for ept, label in ((ctl["enable_ept"], "loop_exits"), (not ctl["enable_ept"], "other")):
        c = dict(ctl, enable_ept=ept)
        counts = {r: 0 for r in REASONS}
        for ins in problem.body:
            r = _rule(ins, c, 0)
            if r:
                counts[r] += problem.loops
        counts["HLT"] += 1 if c["hlt_exiting"] else 0
        got = solution["loop_exits"] if label == "loop_exits" else None
        if got is not None and got != counts:
            out.append(f"loop exits: model {got} vs rules {counts}")
        if got is None and solution["other_ept_total"] != sum(counts.values()):
            out.append(f"other EPT total: model {solution['other_ept_total']} vs rules "
                       f"{sum(counts.values())}")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> "VMCS" in describe(make_problem(0))
    True
    """
    lines = [_("VMCS execution controls of your variant:")]
    lines += [f"  {c:26s} {v}" for c, v in problem.controls]
    lines.append(_("Instructions (cpl 0 = guest kernel in non-root ring 0, cpl 3 = guest "
                   "application):"))
    lines += [f"  {k}: {ins:14s} cpl {cpl}" for k, ins, cpl in problem.instructions]
    lines.append(_("Guest kernel code (runs in non-root ring 0):"))
    lines += ["  " + line for line in problem.program_text().splitlines()]
    return "\n".join(lines)


def _hidden(problem, rng):
    cases = []
    for _ in range(8):
        ctl = {c: rng.random() < 0.5 for c in CONTROLS}
        cases.append((rng.choice(_POOL), ctl, rng.choice([0, 0, 3])))
    return cases


def _loop_text(problem: Problem, ctl: dict) -> tuple:
    # the loop body instruction by instruction under ``ctl``, and the count per reason
    lines, n = [], {}
    for ins in problem.body:
        reason, why = _why(ins, ctl, 0)
        lines.append(f"{ins}: {why} → {reason or _('no exit')}")
        if reason:
            n[reason] = n.get(reason, 0) + 1
    terms = [f"{r} {k} × {problem.loops} = {k * problem.loops}" for r, k in n.items()]
    total = sum(n.values()) * problem.loops
    reason, why = _why("HLT", ctl, 0)
    lines.append(_("the final HLT (once): {why} → {reason}").format(
        why=why, reason=reason or _("no exit")))
    if reason:
        terms.append("HLT 1")
        total += 1
    return lines, terms, total


def worked(problem: Problem) -> list[Step]:
    """The reference answers step by step (practice mode).

    Examples
    --------
    >>> p = make_problem(3)
    >>> merged = {k: v for s in worked(p) for k, v in s.answers.items()}
    >>> merged == solve(p)
    True
    """
    sol = solve(problem)
    ctl = dict(problem.controls)
    ept = ctl["enable_ept"]
    per = []
    for key, ins, cpl in problem.instructions:
        reason, why = _why(ins, ctl, cpl)
        per.append(f"{key} {ins} (cpl {cpl}): {why} → {reason or _('no exit')}")
    lines, terms, _total = _loop_text(problem, ctl)
    other_terms = _loop_text(problem, dict(ctl, enable_ept=not ept))[1]
    other = dict(ctl, enable_ept=not ept)
    changed = []
    for ins in problem.body:            # the final HLT does not depend on enable_ept
        now, then = _why(ins, ctl, 0)[0], _why(ins, other, 0)[0]
        if now != then:
            changed.append(_("{instruction} gives {other} instead of {now}").format(
                instruction=ins, other=then or _("no exit"), now=now or _("no exit")))
    none = _("no exits at all")
    return [
        Step(_("which instruction exits, and why"),
             _("VMCALL always exits; a cpl-3 instruction never does; otherwise the control "
               "that governs the instruction decides:\n{rules}").format(rules="\n".join(per)),
             {"exits": sol["exits"]}),
        Step(_("exits of the guest loop"),
             _("MOV ECX, DEC ECX and JNZ never exit. Each exiting body instruction exits "
               "once per iteration, {loops} times:\n{lines}\nCounts: {counts}; every other "
               "reason 0.").format(loops=problem.loops, lines="\n".join(lines),
                                   counts=", ".join(terms) or none),
             {"loop_exits": sol["loop_exits"]}),
        Step(_("the same loop with enable_ept = {ept}").format(ept=not ept),
             (_("Nested paging changes only CR3 accesses and INVLPG: {changes}. Counts: "
                "{counts}; total {total}.") if changed else
              _("Nested paging changes only CR3 accesses and INVLPG; this loop has none whose "
                "exit changes. Counts: {counts}; total {total}.")).format(
                 changes="; ".join(changed), counts=", ".join(other_terms) or none,
                 total=sol["other_ept_total"]),
             {"other_ept_total": sol["other_ept_total"]}),
    ]


EXERCISE = Exercise(
    id="ex10_vtx",
    title=N_("Exercise 10: VT-x -- VM exits under VMCS controls"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Function("q1", 3, N_("VMCALL always exits. Otherwise only the guest kernel (cpl 0) causes "
                    "exits: a privileged instruction of an application raises #GP inside the "
                    "guest. Then look at the control that governs the instruction; with EPT, "
                    "CR3 accesses and INVLPG need no exit; CR0/CR4 writes, CLTS and LMSW exit "
                    "(the guest/host masks own every bit), reads of CR0/CR4 use the read "
                    "shadows."), name="exit_reason",
                 public=lambda p: [("HLT", {"hlt_exiting": True}, 0),
                                   ("HLT", {"hlt_exiting": True}, 3),
                                   ("MOV CR3, EAX", {"enable_ept": True,
                                                     "cr3_load_exiting": True}, 0)],
                 hidden=_hidden,
                 reference=lambda p, ins, ctl, cpl: exit_reason(ins, ctl, cpl)),
        Value("q2", 2, N_("Apply your exit_reason to each instruction with the variant's "
                 "controls."), name="exits", kind="dict", per_entry=True),
        Value("q3", 3, N_("Each exiting instruction in the loop body exits once per iteration; "
                 "the final HLT exits once if HLT exiting is on. List every reason of REASONS, "
                 "0 where none."), name="loop_exits", kind="dict", per_entry=True),
        Value("q4", 2, N_("Switch enable_ept and count again: which exits come and go with "
                 "nested paging?"), name="other_ept_total", kind="int"),
    ),
    manual=(
        Manual("q5", 2, "Full marks: CR3 loads (CR_ACCESS) dominate without EPT, with "
               "one exit per process switch (plus INVLPG and, in a real guest, page-table "
               "writes): without nested paging the VMM keeps shadow page tables and must "
               "see every change of the guest's address space; with EPT the guest loads "
               "CR3 itself because the hardware walks both tables."),
    ),
)
