"""Exercise 14: emulation vs virtualization -- the price of an instruction mix.

Per variant: a cost table (price of an interpreted instruction, of a VM exit
and of the exit handler; everything else as in
:data:`virtlab.hypervisor.costs.COSTS`) and a guest kernel loop with a mix of
ordinary instructions and I/O instructions.  The loop runs natively, under an
emulator (every instruction interpreted) and with hardware support (ordinary
instructions run directly, I/O and HLT exit).  Reference answers come from
:class:`~virtlab.hypervisor.native.NativeMachine`,
:class:`~virtlab.hypervisor.emulation.EmulationMachine`,
:class:`~virtlab.hypervisor.vtx.HardwareMachine` and
:func:`~virtlab.hypervisor.costs.cycles`; :func:`crosscheck` recomputes them
by counting the program by hand and with the closed-form break-even point.

Examples
--------
>>> from virtlab.hypervisor.costs import COSTS
>>> mix_cycles(100, 2, "hardware", COSTS), mix_cycles(100, 2, "emulation", COSTS)
(5098.0, 4000.0)
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...i18n import N_, _
from ...asm import assemble
from ...hypervisor.costs import COSTS, HARDWARE, CycleCosts, cycles
from ...hypervisor.emulation import EmulationMachine
from ...hypervisor.native import NativeMachine
from ...hypervisor.vtx import HardwareMachine
from ...rng import make_rng
from ..exercise import Exercise, Function, Manual, Value
from ..practice import Step
from ._guest import guest_loop

__all__ = ["EXERCISE", "Problem", "make_problem", "TECHNIQUES"]

#: The techniques this exercise compares.
TECHNIQUES = ("native", "emulation", "hardware")

_PLAIN = ("ADD EAX, 3", "MOV EBX, EAX", "SUB EDX, 1", "XOR EAX, EBX", "MOV EDX, 7",
          "ADD EBX, EDX")
_IO = ("OUT 0x3F8, EAX", "IN EAX, 0x71")


@dataclass(frozen=True)
class Problem:
    """One variant of exercise 14.

    Attributes
    ----------
    interpreted, vm_exit, exit_handling : float
        Prices (cycles) of an interpreted instruction, a VM exit round trip and
        the work in the exit handler; a directly executed instruction costs 1.
    hardware : str
        The VT-x generation the exit price comes from (a key of ``HARDWARE``).
    loops : int
    body : tuple of str
        The loop body (then ``DEC ECX``, ``JNZ``; after the loop ``HLT``).

    Examples
    --------
    >>> make_problem(6) == make_problem(6)
    True
    """

    interpreted: float
    vm_exit: float
    exit_handling: float
    hardware: str
    loops: int
    body: tuple

    def costs(self) -> CycleCosts:
        """The variant's cost table."""
        return COSTS.replace(interpreted_instruction=self.interpreted, vm_exit=self.vm_exit,
                             exit_handling=self.exit_handling)

    def program_text(self) -> str:
        """The guest kernel's code (:func:`._guest.guest_loop`)."""
        return guest_loop(self.loops, self.body)


def mix_cycles(instructions, exiting, technique, costs: CycleCosts = COSTS) -> float:
    """Cycles of ``instructions`` executed guest-kernel instructions, ``exiting`` of them
    I/O or HLT, under ``technique`` (``"native"``, ``"emulation"``, ``"hardware"``).

    Priced by :func:`virtlab.hypervisor.costs.cycles` with the counters the
    machines report: native runs everything directly, the emulator interprets
    everything, with hardware support the exiting ones exit and the rest run
    directly.
    """
    counters = {"native": {"direct": instructions},
                "emulation": {"interpreted": instructions},
                "hardware": {"direct": instructions - exiting, "exits": exiting}}[technique]
    return cycles(technique, counters, costs)[0]


def make_problem(seed: int) -> Problem:
    """A variant: prices and an instruction mix.

    Examples
    --------
    >>> make_problem(0).hardware in ("first_gen_vt", "nehalem_ept", "svm_2020")
    True
    """
    rng = make_rng(seed)
    hw = rng.choice(sorted(HARDWARE))
    body = [rng.choice(_PLAIN) for _ in range(rng.randint(1, 12))]
    for _ in range(rng.choice([0, 1, 1, 2])):
        body.insert(rng.randrange(len(body) + 1), rng.choice(_IO))
    return Problem(float(rng.choice([20, 30, 40, 60])), HARDWARE[hw]["vm_exit"],
                   float(rng.choice([300, 500])), hw, rng.randint(5, 40), tuple(body))


def _break_even(costs: CycleCosts) -> int:
    k = 0
    while mix_cycles(k + 1, 1, "hardware", costs) >= mix_cycles(k + 1, 1, "emulation", costs):
        k += 1
    return k


def solve(problem: Problem) -> dict:
    """Reference answers from the machines and the cost model.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['break_even', 'counts', 'cycles', 'slowdown']
    """
    prog = assemble(problem.program_text())
    c = problem.costs()
    runs = {"native": NativeMachine(prog, costs=c).run(),
            "emulation": EmulationMachine(prog, costs=c).run(),
            "hardware": HardwareMachine(prog, costs=c, hardware=problem.hardware).run()}
    cyc = {t: float(r.cycles) for t, r in runs.items()}
    return {"counts": {"instructions": int(runs["native"].counters["instructions"]),
                       "exits": int(runs["hardware"].counters["exits"])},
            "cycles": cyc,
            "slowdown": {t: cyc[t] / cyc["native"] for t in ("emulation", "hardware")},
            "break_even": _break_even(c)}


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Count the program by hand, price it, and solve the break-even inequality.

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    out = []
    io = sum(1 for ins in problem.body if ins.split()[0] in ("IN", "OUT"))
    n = 1 + problem.loops * (len(problem.body) + 2) + 1
    exits = problem.loops * io + 1
    if solution["counts"] != {"instructions": n, "exits": exits}:
        out.append(f"counts: model {solution['counts']} vs hand count {n}, {exits}")
    d, i = COSTS.direct_instruction, problem.interpreted
    x = problem.vm_exit + problem.exit_handling
    want = {"native": n * d, "emulation": n * i, "hardware": (n - exits) * d + exits * x}
    for t, v in want.items():
        if not math.isclose(solution["cycles"][t], v, rel_tol=1e-9):
            out.append(f"cycles {t}: model {solution['cycles'][t]} vs {v}")
    # hardware cheaper than emulation: k*d + x < (k + 1)*i  <=>  k > (x - i) / (i - d)
    k = math.floor((x - i) / (i - d)) + 1
    if solution["break_even"] != max(0, k):
        out.append(f"break_even: model {solution['break_even']} vs formula {max(0, k)}")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> "interpreted" in describe(make_problem(0))
    True
    """
    lines = [_("Prices (cycles): direct instruction {direct}, interpreted instruction "
               "{interpreted}, VM exit {exit} ({hardware}) + exit handler {handler}.").format(
                 direct=f"{COSTS.direct_instruction:g}", interpreted=f"{problem.interpreted:g}",
                 exit=f"{problem.vm_exit:g}", hardware=problem.hardware,
                 handler=f"{problem.exit_handling:g}"),
             _("Guest kernel code (I/O and HLT exit with hardware support; everything else "
               "runs directly):")]
    lines += ["  " + line for line in problem.program_text().splitlines()]
    return "\n".join(lines)


def _hidden(problem, rng):
    cases = []
    for _ in range(6):
        n = rng.randint(1, 5000)
        cases.append((n, rng.randint(0, min(n, 200)), rng.choice(TECHNIQUES)))
    return cases


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
    c = problem.costs()
    loops, body = problem.loops, len(problem.body)
    io = sum(1 for ins in problem.body if ins.split()[0] in ("IN", "OUT"))
    n, x = sol["counts"]["instructions"], sol["counts"]["exits"]
    d, i = c.direct_instruction, problem.interpreted
    ex = problem.vm_exit + problem.exit_handling
    cyc, slow = sol["cycles"], sol["slowdown"]
    k = sol["break_even"]

    def side(k):
        hw, em = mix_cycles(k + 1, 1, "hardware", c), mix_cycles(k + 1, 1, "emulation", c)
        return f"k = {k}: {hw:.0f} {'<' if hw < em else '≥'} {em:.0f}"

    checks = [side(k)] + ([side(k - 1)] if k > 0 else [])
    return [
        Step(_("executed instructions and exits"),
             _("MOV ECX once, then {loops} iterations of {body} body instruction(s) + DEC + "
               "JNZ, then HLT: 1 + {loops} × {per_loop} + 1 = {n} instructions. Exits with "
               "hardware support: {io} I/O instruction(s) × {loops} + 1 HLT = {exits}.").format(
                 loops=loops, body=body, per_loop=body + 2, n=n, io=io, exits=x),
             {"counts": sol["counts"]}),
        Step(_("cycles per technique"),
             _("Native: {n} × {direct} = {native}. Emulation: {n} × {interpreted} = "
               "{emulation}. Hardware: ({n} − {exits}) × {direct} direct + {exits} × "
               "({vm_exit} exit + {handling} handler) = {hardware}.").format(
                 n=n, direct=f"{d:g}", native=f"{cyc['native']:.0f}", interpreted=f"{i:g}",
                 emulation=f"{cyc['emulation']:.0f}", exits=x,
                 vm_exit=f"{problem.vm_exit:g}", handling=f"{problem.exit_handling:g}",
                 hardware=f"{cyc['hardware']:.0f}"),
             {"cycles": cyc}),
        Step(_("slowdown against native"),
             _("Emulation {emulation} / {native} = {emulation_slowdown}; hardware {hardware} / "
               "{native} = {hardware_slowdown}.").format(
                 emulation=f"{cyc['emulation']:.0f}", native=f"{cyc['native']:.0f}",
                 emulation_slowdown=f"{slow['emulation']:.4g}",
                 hardware=f"{cyc['hardware']:.0f}",
                 hardware_slowdown=f"{slow['hardware']:.4g}"),
             {"slowdown": slow}),
        Step(_("break-even mix"),
             _("One I/O instruction among k ordinary ones: hardware pays k × {direct} + "
               "{exit}, emulation (k + 1) × {interpreted}. Hardware wins when k > ({exit} − "
               "{interpreted}) / ({interpreted} − {direct}) = {bound}, so the smallest k is "
               "{k}. Check (hardware vs emulation cycles): {checks}.").format(
                 direct=f"{d:g}", exit=f"{ex:g}", interpreted=f"{i:g}",
                 bound=f"{(ex - i) / (i - d):.4g}", k=k, checks="; ".join(checks)),
             {"break_even": k}),
    ]


EXERCISE = Exercise(
    id="ex14_emulation",
    title=N_("Exercise 14: emulation vs virtualization -- the price of an instruction mix"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Value("q1", 2, N_("Count executed instructions: the first MOV, every loop iteration "
                 "(body plus DEC and JNZ), the final HLT. Exits: every I/O instruction executed "
                 "plus the HLT."), name="counts", kind="dict", per_entry=True),
        Function("q2", 3, N_("Native: every instruction costs a direct instruction. Emulation: "
                    "every instruction is interpreted. Hardware support: the exiting ones cost "
                    "an exit plus the handler, the rest run directly."), name="mix_cycles",
                 public=lambda p: [(100, 2, "native"), (100, 2, "emulation"),
                                   (100, 2, "hardware")],
                 hidden=_hidden,
                 reference=lambda p, n, x, t: mix_cycles(n, x, t, p.costs())),
        Value("q3", 2, N_("Apply mix_cycles to your counts for each technique."), name="cycles",
              kind="dict", per_entry=True),
        Value("q4", 1, N_("Divide by the native cycles."), name="slowdown", kind="dict",
              per_entry=True),
        Value("q5", 2, N_("Per I/O instruction, k ordinary instructions: find the smallest k "
                 "for which mix_cycles(k + 1, 1, 'hardware') is below mix_cycles(k + 1, 1, "
                 "'emulation') (the inequality k*direct + exit + handler < (k + 1)*interpreted)."),
              name="break_even", kind="int"),
    ),
    manual=(
        Manual("q6", 2, "Full marks: the emulator's slowdown approaches interpreted/direct "
               "(about the interpreter's per-instruction price, here tens of times), because "
               "it pays for every instruction; hardware support approaches 1, because "
               "ordinary instructions run directly and only exits cost extra."),
    ),
)
