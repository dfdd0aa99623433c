"""Exercise 11: hypervisor types and paravirtual interfaces (*Typ 1, Typ 2, Paravirtualisierung*).

Per variant: a guest kernel loop run twice -- unmodified under
trap-and-emulate (kernel deprivileged to ring 1) and paravirtualized (every
sensitive kernel instruction replaced by a hypercall) -- and two hypervisor
stacks whose block-read path the student traces.  Reference answers come from
:class:`~virtlab.hypervisor.trap_and_emulate.TrapAndEmulateMachine`,
:func:`~virtlab.hypervisor.paravirt.paravirtualize` with
:class:`~virtlab.hypervisor.paravirt.ParavirtMachine`, and the I/O paths of
:mod:`virtlab.hypervisor.stacks`; :func:`crosscheck` recomputes the counts
from the Popek & Goldberg classification of each instruction and compares
the paths with the lecture's drawings of the four stacks.

Examples
--------
>>> outcome("CLI"), outcome("POPF"), outcome("ADD EAX, 1")
(['trap', 'hypercall'], ['silent', 'hypercall'], ['direct', 'direct'])
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from ...i18n import N_, _
from ...asm import assemble, parse_instruction
from ...hypervisor.paravirt import ParavirtMachine, paravirtualize
from ...hypervisor.stacks import get_stack
from ...hypervisor.trap_and_emulate import TrapAndEmulateMachine
from ...isa import X86_32
from ...popek_goldberg import classify
from ...rng import make_rng
from ..exercise import Exercise, Function, Manual, Value
from ..practice import Step
from ._guest import guest_loop

__all__ = ["EXERCISE", "Problem", "make_problem", "outcome", "STACKS"]

#: The stacks whose I/O path a variant asks for.
STACKS = ("type1", "type2", "paravirtual", "kvm")

_BODY = ("CLI", "STI", "PUSHF\nPOPF", "MOV EAX, 0x100\nMOV CR3, EAX", "MOV EBX, CR0",
         "OUT 0x3F8, EAX", "IN EAX, 0x71", "SMSW EBX", "SGDT EBX", "RDMSR", "INVLPG EAX",
         "ADD EBX, 1", "MOV EDX, EBX")
_POOL = ("CLI", "STI", "PUSHF", "POPF", "MOV CR3, EAX", "MOV EAX, CR0", "OUT 0x60, EAX",
         "IN EAX, 0x60", "SMSW EAX", "SGDT EAX", "SIDT EAX", "SLDT EAX", "STR EAX", "LGDT EAX",
         "LIDT EAX", "RDMSR", "WRMSR", "INVLPG EAX", "HLT", "ADD EAX, 1", "MOV EAX, EBX",
         "MOV DR7, EAX", "CLTS", "PUSH EAX", "POP EBX", "SUB ECX, 2")


@dataclass(frozen=True)
class Problem:
    """One variant of exercise 11.

    Attributes
    ----------
    loops : int
    body : tuple of str
        The guest kernel's loop body (then ``DEC ECX``, ``JNZ``, ``HLT``).
    stacks : tuple of str
        Two keys of :data:`STACKS`.

    Examples
    --------
    >>> make_problem(4) == make_problem(4)
    True
    """

    loops: int
    body: tuple
    stacks: tuple

    def program_text(self) -> str:
        """The guest kernel's code (:func:`._guest.guest_loop`)."""
        return guest_loop(self.loops, self.body)


def outcome(instruction: str) -> list:
    """``[trap-and-emulate outcome, paravirtual outcome]`` of a guest-kernel instruction.

    Trap-and-emulate (kernel in ring 1): ``"trap"`` (privileged: the VMM
    emulates it), ``"silent"`` (critical: sensitive but unprivileged, runs
    without a trap and does the wrong thing), ``"direct"`` (innocuous).
    Paravirtualized: ``"hypercall"`` (any sensitive instruction) or ``"direct"``.
    """
    ins = parse_instruction(instruction)
    if not ins.sensitive_form:
        return ["direct", "direct"]
    c = classify(X86_32)
    return ["trap" if ins.key in c.privileged else "silent" if ins.key in c.critical
            else "direct", "hypercall"]


def make_problem(seed: int) -> Problem:
    """A variant: a guest kernel loop and two stacks.

    Examples
    --------
    >>> len(make_problem(0).stacks)
    2
    """
    rng = make_rng(seed)
    body = []
    for frag in rng.sample(_BODY, rng.randint(4, 6)):
        body += frag.split("\n")
    return Problem(rng.randint(2, 8), tuple(body), tuple(rng.sample(STACKS, 2)))


def _kinds(kind: str) -> list:
    s = get_stack(kind)
    kinds = [s.component(step.actor).kind for step in s.io_path]
    return [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]


def solve(problem: Problem) -> dict:
    """Reference answers from the machines and stacks.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['hypercalls', 'io_path', 'silent', 'traps']
    """
    prog = assemble(problem.program_text())
    te = TrapAndEmulateMachine(prog).run()
    pv = ParavirtMachine(paravirtualize(prog)).run()
    return {"traps": int(te.counters["vmm_traps"]),
            "silent": int(te.counters.get("critical_direct", 0)),
            "hypercalls": int(pv.counters["hypercalls"]),
            "io_path": {k: _kinds(k) for k in problem.stacks}}


# The block-read paths as the lecture draws them (component kinds, repeats merged):
# type 1 -- the hypervisor has the drivers; type 2 -- through the VMM process and the
# host OS; Xen -- split driver via dom0 (kind host_os) and event channels; KVM -- exits
# into kvm.ko, QEMU in user space, Linux's own driver.
_LECTURE_PATHS = {
    "type1": ("app", "guest_os", "hypervisor", "hardware", "hypervisor", "guest_os"),
    "type2": ("app", "guest_os", "vmm_process", "host_os", "hardware", "host_os",
              "vmm_process", "guest_os"),
    "paravirtual": ("app", "pv_guest_os", "hypervisor", "host_os", "hardware", "host_os",
                    "hypervisor", "pv_guest_os"),
    "kvm": ("app", "guest_os", "hypervisor", "vmm_process", "hypervisor", "hardware",
            "hypervisor", "vmm_process", "guest_os"),
}


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Recount from the classification; compare the paths with the lecture's drawings.

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    out = []
    c = classify(X86_32)
    per = {"traps": 0, "silent": 0, "hypercalls": 0}
    for text in problem.body:
        ins = parse_instruction(text)
        if ins.sensitive_form:
            per["hypercalls"] += problem.loops
            if ins.key in c.privileged:
                per["traps"] += problem.loops
            elif ins.key in c.critical:
                per["silent"] += problem.loops
    per["traps"] += 1           # the final HLT
    per["hypercalls"] += 1      # ... becomes sched_op_block
    for k, v in per.items():
        if solution[k] != v:
            out.append(f"{k}: model {solution[k]} vs classification {v}")
    for kind in problem.stacks:
        if solution["io_path"][kind] != list(_LECTURE_PATHS[kind]):
            out.append(f"{kind}: model path {solution['io_path'][kind]} vs lecture "
                       f"{list(_LECTURE_PATHS[kind])}")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> "Guest kernel" in describe(make_problem(0))
    True
    """
    lines = [_("Guest kernel code (unmodified; ring 0 on bare hardware):")]
    lines += ["  " + line for line in problem.program_text().splitlines()]
    for kind in problem.stacks:
        s = get_stack(kind)
        # the stacks' titles and labels are the lecture's German names in every edition
        lines.append(_("Stack {kind}: {title}").format(kind=kind, title=s.title))
        for comp in s.components:
            if comp.kind != "app" or comp.name.endswith("1a"):
                lines.append("  " + _("{label} kind {kind} ({privilege})").format(
                    label=f"{comp.label:28s}", kind=f"{comp.kind:12s}",
                    privilege=comp.privilege))
    return "\n".join(lines)


_WHAT = {"trap": N_("privileged: traps to the VMM in ring 1"),
         "silent": N_("critical: sensitive but not privileged, runs in ring 1 without a trap"),
         "direct": N_("innocuous: runs directly")}


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
    n = problem.loops
    per = [(ins, *outcome(ins)) for ins in problem.body]
    lines = [(_("{instruction}: {what}; paravirtualized: a hypercall") if pv == "hypercall"
              else _("{instruction}: {what}; paravirtualized: unchanged")).format(
                 instruction=ins, what=_(_WHAT[te]))
             for ins, te, pv in per]
    traps = sum(te == "trap" for _, te, _ in per)
    silent = sum(te == "silent" for _, te, _ in per)
    sensitive = sum(pv == "hypercall" for _, _, pv in per)
    paths = []
    for kind in problem.stacks:
        s = get_stack(kind)
        hops = [f"  {k}: " + "; ".join(step.action for step in group)
                for k, group in groupby(s.io_path, key=lambda st: s.component(st.actor).kind)]
        paths.append(f"{kind} ({s.title}):\n" + "\n".join(hops))
    return [
        Step(_("traps under trap-and-emulate, instruction by instruction"),
             _("The loop runs {n} times; MOV ECX, DEC ECX and JNZ are innocuous. Under "
               "trap-and-emulate the kernel runs deprivileged in ring 1:\n{lines}\nTraps: "
               "{privileged} privileged instruction(s) × {n} iterations + 1 for the final HLT "
               "(privileged) = {traps}.").format(n=n, lines="\n".join(lines),
                                                 privileged=traps, traps=sol["traps"]),
             {"traps": sol["traps"]}),
        Step(_("instructions that go wrong silently"),
             _("Critical instructions in the body: {critical}, each once per iteration: "
               "{critical} × {n} = {silent}.").format(critical=silent, n=n,
                                                      silent=sol["silent"]),
             {"silent": sol["silent"]}),
        Step(_("hypercalls of the paravirtualized kernel"),
             _("Every sensitive instruction became a hypercall: {sensitive} in the body × {n} "
               "+ 1 for the final HLT (sched_op_block) = {hypercalls}.").format(
                 sensitive=sensitive, n=n, hypercalls=sol["hypercalls"]),
             {"hypercalls": sol["hypercalls"]}),
        Step(_("the block-read path"),
             # the steps' actions are hypervisor.stacks' display text (English for now)
             _("Follow the steps of a block read and note the kind of component that acts, "
               "merging repeats:\n{paths}").format(paths="\n".join(paths)),
             {"io_path": sol["io_path"]}),
    ]


EXERCISE = Exercise(
    id="ex11_hypervisor_types",
    title=N_("Exercise 11: hypervisor types and paravirtual interfaces"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Function("q1", 3, N_("Sensitive = control- or behaviour-sensitive. In ring 1 a privileged "
                    "instruction traps to the VMM; a critical one (sensitive, not privileged) "
                    "runs without a trap. A paravirtualized kernel calls the hypervisor for "
                    "every sensitive instruction."), name="outcome",
                 public=lambda p: [("CLI",), ("POPF",), ("ADD EAX, 1",)],
                 hidden=lambda p, rng: [(x,) for x in rng.sample(_POOL, 8)],
                 reference=lambda p, ins: outcome(ins)),
        Value("q2", 2, N_("Count the trapping instructions of the loop body times the iterations, "
                 "plus the final HLT."), name="traps", kind="int"),
        Value("q3", 1, N_("Count the critical instructions of the loop body times the "
                          "iterations."), name="silent", kind="int"),
        Value("q4", 2, N_("Every sensitive instruction of the kernel became a hypercall, the "
                 "final HLT too."), name="hypercalls", kind="int"),
        Value("q5", 3, N_("Follow a block read from the application down to the hardware and "
                 "back: who runs the device model, who owns the real driver (the hypervisor "
                 "itself, the host OS, dom0, or Linux with QEMU in user space)?"),
              name="io_path", kind="dict", per_entry=True),
    ),
    manual=(
        Manual("q6", 2, "Full marks: under trap-and-emulate POPF in ring 1 does not trap and "
               "silently ignores the interrupt-flag change (a critical instruction), so the "
               "guest's interrupt state is wrong; the paravirtualized kernel calls the "
               "hypervisor (restore_flags hypercall) instead, which updates the virtual "
               "interrupt flag."),
    ),
)
