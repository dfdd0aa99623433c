"""Exercise 2: binary translation vs trap-and-emulate of a guest-kernel block.

Per variant: a small guest-kernel loop (``X86_32`` assembly) mixing innocuous,
privileged and critical instructions.  The student predicts what VMware-style
binary translation does with it (which instructions become callouts, how
many callouts run, how many blocks are translated and how many entries hit
the translation cache) and what trap-and-emulate does (how many traps, how
many critical instructions run directly and silently misbehave).  Reference
answers come from the execution models (:func:`virtlab.hypervisor.run` in
modes ``"binary_translation"`` and ``"trap_and_emulate"``);
:func:`crosscheck` recounts them from the program text and the loop count.

Examples
--------
>>> needs_callout("POPF"), needs_callout("ADD EAX, 3"), needs_callout("MOV DS, EAX")
(True, False, True)
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

from dataclasses import dataclass

from ...i18n import N_, _
from ...asm import assemble
from ...hypervisor import run
from ...isa import CLASS_LABELS, X86_32
from ...rng import make_rng
from ..practice import Step
from ..exercise import Exercise, Function, Value

__all__ = ["EXERCISE", "Problem", "make_problem", "INSTRUCTION_POOL"]

_INNOCUOUS = ["ADD EAX, ECX", "XOR EBX, EBX", "INC EDX", "MOV EAX, EBX", "NOP", "SHL EDX, 1"]
_SENSITIVE = [["PUSHF", "POPF"], ["SMSW EBX"], ["CLI"], ["STI"], ["SLDT EDX"], ["STR EDX"],
              ["LAR EAX, EBX"], ["VERR EAX"]]
#: Instruction texts the function question draws its hidden cases from.
INSTRUCTION_POOL = (
    "MOV EAX, 1", "MOV EAX, EBX", "ADD EAX, 3", "SUB EBX, EAX", "PUSHF", "POPF", "CLI",
    "STI", "HLT", "SMSW EBX", "SLDT EAX", "STR EAX", "LAR EAX, EBX", "LSL EAX, EBX",
    "VERR EAX", "VERW EAX", "PUSH EAX", "POP EAX", "PUSH DS", "POP DS", "MOV DS, EAX",
    "MOV EAX, DS", "INT 3", "IN EAX, 0x60", "OUT 0x60, EAX", "RDMSR", "WRMSR",
    "MOV CR3, EAX", "MOV EAX, CR0", "NOP", "INC EAX", "XOR EAX, EAX", "CMP EAX, 1",
    "NOT EAX", "SHL EAX, 1", "TEST EAX, EAX", "NEG EAX", "IMUL EAX, EBX", "CLTS",
    "SYSEXIT", "LMSW EAX", "LTR EAX", "LLDT EAX")


@dataclass(frozen=True)
class Problem:
    """One variant: the guest-kernel program text and its loop count.

    Examples
    --------
    >>> make_problem(5) == make_problem(5)
    True
    """

    source: str
    loops: int


def make_problem(seed: int) -> Problem:
    """A guest-kernel loop of 4-6 instructions run ``loops`` times, then STI? and HLT.

    Examples
    --------
    >>> "HLT" in make_problem(0).source
    True
    """
    rng = make_rng(seed)
    loops = rng.randint(3, 7)
    body = [[i] for i in rng.sample(_INNOCUOUS, 2)] + rng.sample(_SENSITIVE, rng.randint(2, 3))
    rng.shuffle(body)
    lines = ["    MOV ESP, 200", f"    MOV ECX, {loops}"]
    first = True
    for item in body:
        for ins in item:
            lines.append(("l:  " if first else "    ") + ins)
            first = False
    lines += ["    DEC ECX", "    JNZ l"]
    if rng.random() < 0.5:
        lines.append("    STI")
    lines.append("    HLT")
    return Problem("\n".join(lines), loops)


def needs_callout(text: str) -> bool:
    """Does binary translation replace this guest-kernel instruction by a callout?

    Sensitive forms (privileged or critical) become callouts; innocuous ones
    are copied (the model's rule, :mod:`virtlab.hypervisor.binary_translation`).
    """
    return bool(assemble(text).instructions[0].sensitive_form)


def solve(problem: Problem) -> dict:
    """Reference answers from the execution models.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['cache', 'callout_set', 'callouts', 'te']
    """
    prog = assemble(problem.source)
    bt = run(prog, mode="binary_translation")
    te = run(prog, mode="trap_and_emulate")
    callout_set = {ins.mnemonic for ins in prog.instructions if ins.sensitive_form}
    return {"callout_set": callout_set,
            "callouts": bt.counters.get("callouts", 0),
            "cache": {"translated_blocks": bt.translated_blocks, "cache_hits": bt.cache_hits},
            "te": {"vmm_traps": te.counters.get("vmm_traps", 0),
                   "critical_direct": te.counters.get("critical_direct", 0)}}


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Recount from the text: loop body × loops, plus the instructions outside the loop.

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    out = []
    lines = [ln.split(":")[-1].strip() for ln in problem.source.splitlines()]
    start = next(i for i, ln in enumerate(problem.source.splitlines()) if ln.startswith("l:"))
    end = lines.index("JNZ l")
    body, tail = lines[start:end + 1], lines[end + 1:]

    def kind(text: str) -> str:
        if text.startswith("J") or not needs_callout(text):
            return "innocuous"
        return "privileged" if X86_32[assemble(text).instructions[0].key].privileged \
            else "critical"

    count = {k: (sum(kind(t) == k for t in body) * problem.loops
                 + sum(kind(t) == k for t in tail)) for k in ("privileged", "critical")}
    want = {"callouts": count["privileged"] + count["critical"],
            "te": {"vmm_traps": count["privileged"], "critical_direct": count["critical"]},
            # block 0 (entry..JNZ), block l (loop head, entered loops-1 times), the tail
            "cache": {"translated_blocks": 3, "cache_hits": problem.loops - 2}}
    for key, value in want.items():
        if solution[key] != value:
            out.append(f"{key}: model {solution[key]} vs count {value}")
    if solution["callout_set"] != {t.split()[0] for t in lines if kind(t) != "innocuous"}:
        out.append("callout_set differs from the text")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> len(describe(make_problem(0)).splitlines()) > 2
    True
    """
    return (_("This guest-KERNEL code (virtual ring 0) runs under a VMM on classic 32-bit x86:")
            + "\n" + problem.source + "\n"
            + _("(The loop body runs {loops} times; ECX counts down.)").format(
                loops=problem.loops))


def worked(problem: Problem) -> list[Step]:
    """The reference answers step by step (practice mode).

    Examples
    --------
    >>> p = make_problem(3)
    >>> merged = {k: v for s in worked(p) for k, v in s.answers.items()}
    >>> merged == solve(p)
    True
    """
    prog = assemble(problem.source)
    kinds = []
    for ins in prog.instructions:
        if not ins.sensitive_form:
            kinds.append((ins, "innocuous"))
        else:
            kinds.append((ins, "privileged" if X86_32[ins.key].privileged else "critical"))
    listing = "\n".join(f"  {ins.text:16s} {_(CLASS_LABELS[kind])}" for ins, kind in kinds)
    sol = solve(problem)
    bt = sol["cache"]
    return [
        Step(_("which instructions become callouts"),
             _("Classify every instruction of the kernel code (its form matters: PUSH EAX is "
               "innocuous, PUSH DS is not):\n{listing}\nPrivileged and critical forms are "
               "replaced by callouts into the VMM; innocuous ones are copied.").format(
                 listing=listing),
             {"callout_set": sol["callout_set"]}),
        Step(_("how many callouts run"),
             _("Count the sensitive instructions in the loop body, multiply by the {loops} "
               "iterations, add the sensitive ones before and after the loop (HLT is "
               "privileged): {callouts} callouts.").format(loops=problem.loops,
                                                          callouts=sol["callouts"]),
             {"callouts": sol["callouts"]}),
        Step(_("translated blocks and cache hits"),
             _("A block ends at a branch. The entry block runs from the first instruction "
               "into the first iteration up to JNZ; the loop head 'l' is a new block, "
               "translated when first re-entered and then found in the cache {hits} more "
               "times; the code after the loop is the last block: {blocks} translated "
               "blocks.").format(hits=bt["cache_hits"], blocks=bt["translated_blocks"]),
             {"cache": bt}),
        Step(_("trap-and-emulate instead"),
             _("With the guest kernel in ring 1, only privileged instructions trap ({traps} "
               "traps); critical ones run directly and misbehave silently ({direct} times), "
               "which is why plain trap-and-emulate fails on x86.").format(
                 traps=sol["te"]["vmm_traps"], direct=sol["te"]["critical_direct"]),
             {"te": sol["te"]}),
    ]


EXERCISE = Exercise(
    id="ex02_binary_translation",
    title=N_("Exercise 2: binary translation vs trap-and-emulate"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Value("q1", 2, N_("Binary translation replaces every sensitive instruction of kernel "
                 "code -- privileged AND critical -- by a call into the VMM; innocuous ones are "
                 "copied. HLT is privileged too."), name="callout_set", kind="set"),
        Value("q2", 2, N_("Count the callouts per loop iteration, multiply by the number of "
                 "iterations, add those after the loop."), name="callouts", kind="int"),
        Value("q3", 2, N_("A block is translated the first time it is entered and ends at a "
                 "branch: the entry block runs into the first iteration; the loop head is a new "
                 "block entered once per further iteration; the code after the loop is a third."),
              name="cache", kind="dict", per_entry=True),
        Value("q4", 2, N_("Under trap-and-emulate (kernel in ring 1) only privileged "
                 "instructions trap; critical ones run directly and silently misbehave."),
              name="te", kind="dict", per_entry=True),
        Function("q5", 3, N_("Privileged or critical (sensitive but unprivileged) forms need a "
                    "callout; mind the forms: PUSH EAX is harmless, PUSH DS is not."),
                 name="needs_callout",
                 public=lambda p: [("POPF",), ("ADD EAX, 3",), ("CLI",)],
                 hidden=lambda p, rng: [(t,) for t in rng.sample(INSTRUCTION_POOL, 8)],
                 reference=lambda p, text: needs_callout(text)),
    ),
)
