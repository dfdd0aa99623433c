"""Guest workloads and microbenchmarks in the spirit of Adams & Agesen (ASPLOS 2006).

:func:`workload` builds a small guest operating system as a real program: a
kernel that sets up its IDT and page-table base, an application that
computes and makes system calls, and a system-call handler that does port
I/O and page-table updates.  The *instruction mix* is the parameter set, so
the notebook's sliders change it and every technique runs the same guest.

:func:`microbenchmark` builds one of Adams & Agesen's microbenchmarks —
``syscall``, ``in``, ``crwr`` (their ``cr8wr``; virtlab writes CR4), ``callret``,
``divzero``, ``ptemod`` — as a guest program; ``pgfault`` and ``forkwait``
are *event profiles* (virtlab's CPU has no paging, so a page fault cannot
happen in a program): ``pgfault`` = one guest page fault plus a page-table
update, ``forkwait`` = a documented mix per fork/wait pair (illustrative).
:func:`compare_bt_vt` prices them for binary translation, first-generation
VT (expensive exits, no EPT) and VT with EPT.

``callret`` runs in the guest kernel, where BT translates: each ``RET`` is an
indirect branch the translated code must look up (priced by
``bt_indirect_branch``, illustrative); native and VT run it directly.

What the model reproduces (directionally): first-generation hardware
assistance loses to binary translation on page-table-heavy work (ptemod,
pgfault, forkwait) and on exit-heavy work (in, crwr), wins on system calls
and exceptions (no exit at all); with cheaper exits plus nested paging it
wins on most workloads (Adams & Agesen 2006; Agesen et al. 2012; facts.md
section 8).  **Their numeric results are unverified; nothing here is their
data** — the cycle prices are the illustrative :mod:`costs` table.

Examples
--------
>>> from virtlab.hypervisor import run_all
>>> prog = workload(compute=200, periods=2)
>>> rs = run_all(prog)
>>> len({r.state for r in rs.values()})          # same final state everywhere
1
>>> rs["native"].counters["syscalls"]
3
"""

from __future__ import annotations

import functools
import statistics
import time
from dataclasses import dataclass
from types import MappingProxyType

from ..asm import Program, assemble
from ..errors import check_bool, check_choice, check_int, check_sequence, check_type
from ..i18n import N_, _
from . import machine, run
from .costs import COSTS, CycleCosts, HARDWARE, cycles

__all__ = ["workload", "microbenchmark", "MICROBENCHMARKS", "compare_bt_vt", "cycles_table",
           "compute_loop", "wallclock",
           "BenchRow", "TYPICAL_MIX", "overheads"]

IDT = 0x200
PT = 0x300
USER_STACK = 0x800

#: The default "typical mixed workload" (parameters of :func:`workload`): per
#: period about 48,000 instructions of computation, one system call that
#: writes one I/O port and updates three page-table entries.  With the
#: default cost table BT, VT and paravirtualization land in the lecture's
#: 5-10 % overhead band, emulation above 10x (tested).
TYPICAL_MIX = MappingProxyType({"compute": 12_000, "syscalls": 1, "io": 1,
                                "pt_updates": 3, "cr_writes": 0, "periods": 4,
                                "io_every": 1})


def workload(*, compute: int = 10_000, syscalls: int = 1, io: int = 1,
             pt_updates: int = 2, cr_writes: int = 0, periods: int = 4,
             io_every: int = 1, divzero: int = 0) -> Program:
    """A guest OS + application with the given instruction mix.

    Parameters
    ----------
    compute : int
        Loop iterations of computation per period (4 instructions each).
    syscalls : int
        System calls per period (``INT 0x80`` from ring 3).
    io : int
        ``OUT`` instructions per I/O-doing system call.
    io_every : int
        Only every ``io_every``-th system call does I/O.
    pt_updates : int
        Guest page-table writes per system call.
    cr_writes : int
        CR4 writes per system call.
    periods : int
        Repetitions of the period.
    divzero : int
        Divide-by-zero exceptions per period (handled by the guest kernel).

    Examples
    --------
    >>> from virtlab.hypervisor import run
    >>> r = run(workload(compute=10, syscalls=2, periods=3), "native")
    >>> r.status, r.counters["syscalls"], r.counters["io"], r.counters["pt_writes"]
    ('halted', 7, 6, 12)
    """
    compute = check_int("compute", compute, minimum=1, maximum=10_000_000)
    syscalls = check_int("syscalls", syscalls, minimum=0, maximum=1000)
    io = check_int("io", io, minimum=0, maximum=1000)
    io_every = check_int("io_every", io_every, minimum=1, maximum=1000)
    pt_updates = check_int("pt_updates", pt_updates, minimum=0, maximum=64)
    cr_writes = check_int("cr_writes", cr_writes, minimum=0, maximum=1000)
    periods = check_int("periods", periods, minimum=1, maximum=100_000)
    divzero = check_int("divzero", divzero, minimum=0, maximum=1000)
    return _workload(compute, syscalls, io, pt_updates, cr_writes, periods, io_every, divzero)


@functools.lru_cache(maxsize=256)
def _workload(compute, syscalls, io, pt_updates, cr_writes, periods, io_every, divzero):
    k = []
    k.append(f".equ IDT, {IDT}\n.equ PT, {PT}\n.kernel")
    k.append("start:  MOV EAX, IDT\n        LIDT EAX\n"
             "        MOV EAX, syscall\n        MOV [IDT+0x80], EAX\n"
             "        MOV EAX, divide_error\n        MOV [IDT], EAX\n"
             "        MOV EAX, PT\n        MOV CR3, EAX\n        STI\n"
             f"        MOV EDX, app\n        MOV ECX, {USER_STACK}\n        SYSEXIT")
    k.append("syscall: POP EBX              ; caller CS\n"
             "        POP EDX               ; return EIP\n"
             "        CMP EAX, 0\n        JZ shutdown")
    if io and io_every > 1:
        k.append(f"        INC EBP\n        CMP EBP, {io_every}\n        JL no_io\n"
                 "        MOV EBP, 0")
    if io:
        k.append("\n".join(["        OUT 0x3F8, ESI"] * io))
    if io and io_every > 1:
        k.append("no_io:  NOP")
    for i in range(pt_updates):
        k.append(f"        MOV [PT+{i}], ESI")
    for _ in range(cr_writes):
        k.append("        MOV CR4, ESI")
    k.append("        MOV ECX, ESP\n        SYSEXIT")
    k.append("divide_error: POP EBX\n        POP EDX\n        ADD EDX, 1  ; skip the DIV\n"
             "        MOV ECX, ESP\n        SYSEXIT")
    k.append("shutdown: HLT")
    u = [".user", f"app:    MOV EDI, {periods}", f"outer:  MOV ECX, {compute}",
         "inner:  ADD ESI, ECX\n        XOR ESI, EDI\n        DEC ECX\n        JNZ inner"]
    for _ in range(syscalls):
        u.append("        MOV EAX, 1\n        INT 0x80")
    for _ in range(divzero):
        u.append("        MOV EBX, 0\n        DIV EBX")
    u.append("        DEC EDI\n        JNZ outer\n        MOV EAX, 0\n        INT 0x80")
    return assemble("\n".join(k + u) + "\n")


_BENCH_BODY = {
    "syscall": "MOV EAX, 1\nINT 0x80",
    "in": None,       # kernel-side loop
    "crwr": None,     # kernel-side loop
    "callret": None,  # kernel-side loop: BT translates kernel code only
    "divzero": "MOV EBX, 0\nDIV EBX",
    "ptemod": None,   # kernel-side loop
}

#: The microbenchmarks: name → one-line description (an English msgid of the
#: catalogue: show it with ``virtlab.i18n._(MICROBENCHMARKS[name])``).
MICROBENCHMARKS = MappingProxyType({
    "syscall": N_("system call from ring 3 and return (INT 0x80 / SYSEXIT)"),
    "in": N_("port input in the kernel (IN)"),
    "crwr": N_("control-register write in the kernel (A&A: cr8wr; here CR4)"),
    "callret": N_("near call and return in the kernel (innocuous, but BT pays for the "
                  "RET: an indirect branch looked up in the translation cache)"),
    "divzero": N_("divide-by-zero exception handled by the guest kernel"),
    "ptemod": N_("guest page-table entry update in the kernel"),
    "pgfault": N_("guest page fault handled by the guest kernel (event profile)"),
    "forkwait": N_("fork + wait of a child process (event profile, illustrative mix)"),
})


def microbenchmark(name: str, iterations: int = 100) -> Program:
    """The guest program of a runnable microbenchmark.

    Examples
    --------
    >>> from virtlab.hypervisor import run
    >>> r = run(microbenchmark("in", 10), "hardware")
    >>> r.exits["IO_INSTRUCTION"]
    10
    >>> microbenchmark("forkwait")
    Traceback (most recent call last):
    ...
    ValueError: name must be one of 'syscall', 'in', 'crwr', 'callret', 'divzero', 'ptemod'; got 'forkwait'
    """
    check_choice("name", name, list(_BENCH_BODY))
    n = check_int("iterations", iterations, minimum=1, maximum=1_000_000)
    kernel_loop = {"in": "IN EAX, 0x60", "crwr": "MOV CR4, ESI", "ptemod": "MOV [PT+1], ESI",
                   "callret": "CALL fn"}
    if name in kernel_loop:
        src = (f".equ PT, {PT}\nstart: MOV EAX, PT\nMOV CR3, EAX\nMOV ECX, {n}\n"
               f"MOV ESP, {USER_STACK}\n"
               f"loop: {kernel_loop[name]}\nDEC ECX\nJNZ loop\nHLT\n"
               "fn: RET\n")
        return assemble(src)
    body = _BENCH_BODY[name]
    src = (f".equ IDT, {IDT}\n.equ PT, {PT}\n.kernel\n"
           "start: MOV EAX, IDT\nLIDT EAX\nMOV EAX, handler\nMOV [IDT+0x80], EAX\n"
           "MOV EAX, dehandler\nMOV [IDT], EAX\n"
           f"MOV EDX, app\nMOV ECX, {USER_STACK}\nSYSEXIT\n"
           "handler: POP EBX\nPOP EDX\nCMP EAX, 0\nJZ done\nMOV ECX, ESP\nSYSEXIT\n"
           "dehandler: POP EBX\nPOP EDX\nADD EDX, 1\nMOV ECX, ESP\nSYSEXIT\n"
           "done: HLT\n.user\n"
           f"app: MOV EDI, {n}\nagain: {body}\nDEC EDI\nJNZ again\nMOV EAX, 0\nINT 0x80\n")
    return assemble(src)


#: Event profiles per iteration for the benchmarks that cannot run as programs.
PROFILES = MappingProxyType({
    "pgfault": {"direct": 20, "page_faults": 1, "pt_writes": 1},
    # per fork/wait pair (illustrative): kernel work, 2 syscalls' worth of
    # page-table copying, copy-on-write faults, CR3 loads.
    "forkwait": {"direct": 4000, "page_faults": 12, "pt_writes": 40},
})
_FORKWAIT_SYSCALLS = 2
_FORKWAIT_CR3 = 4


@dataclass(frozen=True)
class BenchRow:
    """Cycles per iteration of one microbenchmark under several configurations."""

    name: str
    description: str
    cycles: dict
    kind: str   # "program" or "profile"

    def winners(self) -> tuple[str, ...]:
        """Every VMM configuration with the fewest cycles (native excluded).

        More than one when they tie (within 1e-9 relative): a tie has no winner.

        Examples
        --------
        >>> BenchRow("x", "", {"native": 1, "binary_translation": 9, "first_gen_vt": 4,
        ...                    "nehalem_ept": 4}, "program").winners()
        ('first_gen_vt', 'nehalem_ept')
        """
        vmm = {k: v for k, v in self.cycles.items() if k != "native"}
        best = min(vmm.values())
        return tuple(k for k, v in vmm.items() if v <= best * (1 + 1e-9))

    def winner(self) -> str:
        """The cheapest VMM configuration, or ``"tie: a = b"`` when several tie.

        Examples
        --------
        >>> BenchRow("x", "", {"native": 1, "binary_translation": 9, "first_gen_vt": 4,
        ...                    "nehalem_ept": 5}, "program").winner()
        'first_gen_vt'
        >>> BenchRow("x", "", {"native": 1, "binary_translation": 9, "first_gen_vt": 4,
        ...                    "nehalem_ept": 4}, "program").winner()
        'tie: first_gen_vt = nehalem_ept'
        """
        w = self.winners()
        return w[0] if len(w) == 1 else "tie: " + " = ".join(w)


_CONFIGS = ("native", "binary_translation", "first_gen_vt", "nehalem_ept")


@functools.lru_cache(maxsize=256)
def _iteration_counters(name: str, mode: str, hardware: str | None,
                        iterations: int) -> tuple:
    """Events of one loop iteration (run with n and with 1 iteration, divided).

    Event counts do not depend on prices, so they are measured once and
    cached; every price change (a widget slider) only re-prices them.
    """
    opts = ({"hardware": hardware, "ept": HARDWARE[hardware]["ept"]}
            if mode == "hardware" else {})
    a = run(microbenchmark(name, iterations), mode, **opts).counters
    b = run(microbenchmark(name, 1), mode, **opts).counters
    return tuple(sorted((k, (a.get(k, 0) - b.get(k, 0)) / (iterations - 1))
                        for k in set(a) | set(b)))


def _program_cycles(name: str, config: str, costs: CycleCosts, iterations: int,
                    vm_exit: float | None = None) -> float:
    """Cycles per iteration of a runnable microbenchmark under one configuration.

    ``config`` is native, binary_translation or a :data:`HARDWARE` generation;
    a hardware generation brings its own exit price unless ``vm_exit`` is given.
    """
    if config in ("native", "binary_translation"):
        counters = dict(_iteration_counters(name, config, None, iterations))
        return cycles(config, counters, costs)[0]
    counters = dict(_iteration_counters(name, "hardware", config, iterations))
    price = HARDWARE[config]["vm_exit"] if vm_exit is None else vm_exit
    return cycles("hardware", counters, costs.replace(vm_exit=price),
                  ept=HARDWARE[config]["ept"])[0]


def _profile_cycles(name: str, config: str, costs: CycleCosts) -> float:
    prof = dict(PROFILES[name])
    if config == "native":
        return cycles("native", prof, costs)[0]
    if config == "binary_translation":
        return cycles("binary_translation", prof, costs)[0]
    c2 = costs.replace(vm_exit=HARDWARE[config]["vm_exit"])
    return cycles("hardware", prof, c2, ept=HARDWARE[config]["ept"])[0]


def compare_bt_vt(costs: CycleCosts = COSTS, iterations: int = 50) -> list[BenchRow]:
    """Cycles per iteration: native, BT, first-generation VT, VT with EPT.

    ``forkwait`` combines its profile with the measured per-iteration cost of
    ``syscall`` (2 per pair) and ``crwr`` (standing in for 4 CR3 loads).

    Examples
    --------
    >>> rows = {r.name: r for r in compare_bt_vt()}
    >>> rows["ptemod"].cycles["binary_translation"] < rows["ptemod"].cycles["first_gen_vt"]
    True
    >>> rows["syscall"].cycles["first_gen_vt"] < rows["syscall"].cycles["binary_translation"]
    True
    >>> rows["forkwait"].cycles["binary_translation"] < rows["forkwait"].cycles["first_gen_vt"]
    True
    """
    check_type("costs", costs, CycleCosts)
    iterations = check_int("iterations", iterations, minimum=2, maximum=100_000)
    rows = []
    measured: dict[str, dict[str, float]] = {}
    for name, msgid in MICROBENCHMARKS.items():
        desc = _(msgid)     # the row's description in the current language
        if name in _BENCH_BODY:
            cyc = {cfg: _program_cycles(name, cfg, costs, iterations) for cfg in _CONFIGS}
            measured[name] = cyc
            rows.append(BenchRow(name, desc, cyc, "program"))
        elif name == "pgfault":
            cyc = {cfg: _profile_cycles(name, cfg, costs) for cfg in _CONFIGS}
            rows.append(BenchRow(name, desc, cyc, "profile"))
        else:
            cyc = {}
            for cfg in _CONFIGS:
                cr3 = measured["crwr"][cfg] if cfg != "nehalem_ept" else 0.0
                cyc[cfg] = (_profile_cycles(name, cfg, costs)
                            + _FORKWAIT_SYSCALLS * measured["syscall"][cfg]
                            + _FORKWAIT_CR3 * cr3)
            rows.append(BenchRow(name, desc, cyc, "profile"))
    return rows


def cycles_table(costs: CycleCosts = COSTS, *, ept: bool = True, iterations: int = 50
            ) -> dict[str, dict[str, float]]:
    """Cycles per iteration of every microbenchmark: native, BT and hardware.

    The hardware column uses ``costs.vm_exit`` as the exit price (so a
    slider can set it) and nested paging iff ``ept``.

    Examples
    --------
    >>> t = cycles_table(COSTS.replace(vm_exit=500), ept=True)
    >>> t["in"]["hardware"] < cycles_table(COSTS, ept=True)["in"]["hardware"]
    True
    >>> sorted(t["ptemod"])
    ['binary_translation', 'hardware', 'native']
    """
    check_type("costs", costs, CycleCosts)
    check_bool("ept", ept)
    iterations = check_int("iterations", iterations, minimum=2, maximum=100_000)
    hw = "nehalem_ept" if ept else "first_gen_vt"
    out: dict[str, dict[str, float]] = {}
    for name in MICROBENCHMARKS:
        row: dict[str, float] = {}
        if name in _BENCH_BODY:
            for mode in ("native", "binary_translation"):
                row[mode] = _program_cycles(name, mode, costs, iterations)
            row["hardware"] = _program_cycles(name, hw, costs, iterations,
                                              vm_exit=costs.vm_exit)
        else:
            prof = dict(PROFILES[name])
            row["native"] = cycles("native", prof, costs)[0]
            row["binary_translation"] = cycles("binary_translation", prof, costs)[0]
            row["hardware"] = cycles("hardware", prof, costs, ept=ept)[0]
            if name == "forkwait":
                for k in row:
                    row[k] += _FORKWAIT_SYSCALLS * out["syscall"][k]
                    row[k] += _FORKWAIT_CR3 * (0.0 if (k == "hardware" and ept)
                                               else out["crwr"][k])
        out[name] = row
    return out


def overheads(program: Program, costs: CycleCosts = COSTS,
              modes: tuple = ("emulation", "trap_and_emulate", "binary_translation",
                              "hardware", "paravirt")) -> dict[str, float]:
    """Relative cycle overhead of each mode against native (0.07 = 7 %).

    Examples
    --------
    >>> ov = overheads(workload(**TYPICAL_MIX))
    >>> all(0.05 <= ov[m] <= 0.10 for m in ("binary_translation", "hardware", "paravirt"))
    True
    >>> ov["emulation"] >= 10
    True
    """
    check_sequence("modes", modes, str, min_len=1, max_len=16)
    native = run(program, "native", costs=costs)
    out = {}
    for m in modes:
        r = run(program, m, costs=costs)
        out[m] = r.overhead_vs(native)
    return out


def compute_loop(iterations: int = 200_000) -> Program:
    """A compute-bound guest-kernel loop (5 instructions per iteration).

    Examples
    --------
    >>> from virtlab.hypervisor import run
    >>> run(compute_loop(10), "binary_translation").instructions
    53
    """
    n = check_int("iterations", iterations, minimum=1, maximum=100_000_000)
    return assemble(f"""
        MOV ECX, {n}
        MOV EBX, 0
loop:   ADD EAX, ECX
        XOR EBX, EAX
        MOV [0x100], EBX
        DEC ECX
        JNZ loop
        HLT
""")


def wallclock(iterations: int = 200_000, repeats: int = 5,
              modes: tuple = ("native", "binary_translation", "hardware", "emulation")
              ) -> dict[str, dict[str, float]]:
    """Real wall-clock speed of the engines on :func:`compute_loop`, in one run.

    The modes are run interleaved ``repeats`` times; per mode the *median*
    time is reported with guest instructions per second and the ratio to
    native.  Not deterministic — show it only in ``nbval-ignore-output``
    cells and benchmarks, never in tests.

    Examples
    --------
    >>> w = wallclock(iterations=2000, repeats=1)   # doctest: +SKIP
    >>> sorted(w["native"])                          # doctest: +SKIP
    ['instructions', 'instructions_per_second', 'ratio_to_native', 'seconds']
    """

    check_int("repeats", repeats, minimum=1, maximum=100)
    check_sequence("modes", modes, str, min_len=1, max_len=16)
    prog = compute_loop(iterations)
    times: dict[str, list[float]] = {m: [] for m in modes}
    instr: dict[str, int] = {}
    for _ in range(repeats):
        for mode in modes:
            m = machine(prog, mode)
            t0 = time.perf_counter()
            r = m.run(100_000_000)
            times[mode].append(time.perf_counter() - t0)
            instr[mode] = r.instructions
    med = {m: statistics.median(v) for m, v in times.items()}
    base = med.get("native", next(iter(med.values())))
    return {m: {"seconds": med[m], "instructions": instr[m],
                "instructions_per_second": instr[m] / med[m] if med[m] else float("inf"),
                "ratio_to_native": med[m] / base if base else float("nan")}
            for m in modes}
