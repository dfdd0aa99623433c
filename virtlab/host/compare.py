"""The same guest four ways, in one run: native, KVM, QEMU TCG, virtlab's interpreter.

The guest is the compute loop of the cost model's benchmark
(:func:`virtlab.hypervisor.microbench.compute_loop`: ``ADD``, ``XOR``,
store, ``DEC``, ``JNZ`` per iteration):

``native``
    the loop as an x86-64 function called through ``ctypes`` (the host CPU);
``kvm``
    :func:`virtlab.host.guests.compute` on ``/dev/kvm`` (:mod:`.vmm`);
``tcg``
    the same bytes under QEMU's binary translator (:mod:`.tcg`);
``interpreter``
    the model program under virtlab's emulation mode (fetch, decode, execute).

Each engine runs its own iteration count (so each run takes a fraction of a
second) and is reported in guest instructions per second; the ratios are the
point.  :attr:`FourWays.model` puts the cost model's prediction beside them
(simulated cycles of emulation and of hardware-assisted execution relative
to native).  Measurements are machine-dependent: show them only in
``nbval-ignore-output`` cells and in ``make bench``.

Examples
--------
>>> expected_state(10)
{'eax': 55, 'ebx': 33, 'ecx': 0, 'mem': 33}
>>> r = four_ways({"native": 1000, "kvm": 1000, "tcg": 1000, "interpreter": 1000})
>>> sorted(r.states_agree().values())
[True, True, True, True]
"""

from __future__ import annotations

import ctypes
import mmap
import time
from dataclasses import dataclass, field

from virtlab.errors import check_int, check_type
from virtlab.hypervisor import machine, run
from virtlab.hypervisor.microbench import compute_loop

from .base import Missing, platform_missing, recorded_elsewhere, reference_run
from .guests import compute, native_compute
from .tcg import run_tcg
from .vmm import run_guest

__all__ = ["ENGINES", "DEFAULT_ITERATIONS", "EngineRun", "FourWays", "expected_state",
           "run_native", "run_interpreter", "four_ways", "four_ways_or_reference", "model_ratios"]

#: The four engines, fastest expected first.
ENGINES = ("native", "kvm", "tcg", "interpreter")
#: Iterations per engine for about a tenth of a second each on a 2-core machine.
DEFAULT_ITERATIONS = {"native": 20_000_000, "kvm": 100_000, "tcg": 2_000_000,
                      "interpreter": 100_000}
_LABELS = {"native": "native (ctypes, host CPU)", "kvm": "KVM (/dev/kvm)",
           "tcg": "QEMU TCG (unicorn)", "interpreter": "virtlab interpreter (emulation)"}


@dataclass(frozen=True)
class EngineRun:
    """One engine's run of the compute loop.

    ``state`` holds ``eax``, ``ebx``, ``ecx`` and ``mem`` (the stored word) after the run.
    """

    engine: str
    iterations: int
    instructions: int = 0
    seconds: float = 0.0
    state: dict = field(default_factory=dict)
    missing: Missing | None = None
    note: str = ""

    @property
    def available(self) -> bool:
        return self.missing is None

    @property
    def label(self) -> str:
        return _LABELS[self.engine]

    @property
    def ips(self) -> float | None:
        """Guest instructions per second (None if unavailable)."""
        if not self.available or self.seconds <= 0:
            return None
        return self.instructions / self.seconds


def expected_state(iterations: int) -> dict:
    """The architectural state the loop must end in (pure reasoning, written out).

    ``eax`` = 1 + 2 + ... + n (mod 2**32), ``ebx`` = XOR of the running sums,
    ``ecx`` = 0, and the stored word equals ``ebx``.
    """
    n = check_int("iterations", iterations, minimum=1, maximum=10_000_000)
    eax = ebx = 0
    for ecx in range(n, 0, -1):
        eax = (eax + ecx) & 0xFFFFFFFF
        ebx ^= eax
    return {"eax": eax, "ebx": ebx, "ecx": 0, "mem": ebx}


def run_native(iterations: int) -> EngineRun:
    """The loop as a native x86-64 function through ctypes (Linux/x86-64 only)."""
    n = check_int("iterations", iterations, minimum=1, maximum=0xFFFFFFFF)
    missing = platform_missing()
    if missing is not None:
        return EngineRun("native", n, missing=missing)
    code, _ = native_compute()
    page = mmap.mmap(-1, mmap.PAGESIZE,
                     prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    fn_type = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p)
    fn = fn_type(ctypes.addressof(ctypes.c_char.from_buffer(page)))
    word = ctypes.c_uint32(0)          # data in its own object, away from the code page
    t0 = time.perf_counter()
    eax = fn(n, ctypes.addressof(word))
    seconds = time.perf_counter() - t0
    del fn
    return EngineRun("native", n, 4 + 5 * n + 2, seconds,
                     {"eax": eax, "ebx": word.value, "ecx": 0, "mem": word.value})


def run_interpreter(iterations: int) -> EngineRun:
    """The model program under virtlab's emulation mode (word-addressed memory)."""
    n = check_int("iterations", iterations, minimum=1, maximum=100_000_000)
    m = machine(compute_loop(n), "emulation")
    t0 = time.perf_counter()
    result = m.run(100_000_000)
    seconds = time.perf_counter() - t0
    eax, ecx, _edx, ebx = result.state.regs[:4]
    return EngineRun("interpreter", n, result.instructions, seconds,
                     {"eax": eax, "ebx": ebx, "ecx": ecx, "mem": m.cpu.mem[0x100]})


def _run_kvm(n: int) -> EngineRun:
    r = run_guest(compute(n), timeout=60.0)
    if not r.available:
        return EngineRun("kvm", n, missing=r.missing)
    if r.error:
        return EngineRun("kvm", n, missing=Missing("KVM run", r.error, "see the kernel log"))
    note = ""
    emulated = r.stats.get("insn_emulation")
    if emulated:
        note = f"{emulated} instructions emulated by KVM's x86 emulator"
    return EngineRun("kvm", n, r.instructions, r.seconds,
                     {"eax": r.regs["rax"] & 0xFFFFFFFF, "ebx": r.regs["rbx"] & 0xFFFFFFFF,
                      "ecx": r.regs["rcx"] & 0xFFFFFFFF, "mem": r.dword(0x400)}, note=note)


def _run_tcg(n: int) -> EngineRun:
    r = run_tcg(compute(n))
    if not r.available:
        return EngineRun("tcg", n, missing=r.missing)
    return EngineRun("tcg", n, r.instructions, r.seconds,
                     {"eax": r.regs["eax"], "ebx": r.regs["ebx"], "ecx": r.regs["ecx"],
                      "mem": r.dword(0x400)})


def model_ratios(iterations: int = 1000) -> dict:
    """The cost model's prediction: simulated cycles of each technique / native.

    Examples
    --------
    >>> model_ratios()["emulation"] > 10 > model_ratios()["hardware"] > 1
    True
    """
    n = check_int("iterations", iterations, minimum=1, maximum=1_000_000)
    prog = compute_loop(n)
    base = run(prog, "native").cycles
    return {mode: run(prog, mode).cycles / base
            for mode in ("emulation", "binary_translation", "hardware")}


@dataclass(frozen=True)
class FourWays:
    """The four runs and the model's prediction."""

    runs: tuple
    model: dict
    missing: Missing | None = None
    recorded: str = ""

    def run(self, engine: str) -> EngineRun:
        for r in self.runs:
            if r.engine == engine:
                return r
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")

    def slowdown(self, engine: str) -> float | None:
        """How many times fewer instructions/s than native (None if either is missing)."""
        base, other = self.run("native").ips, self.run(engine).ips
        return base / other if base and other else None

    def states_agree(self) -> dict:
        """Engine → whether it ended in :func:`expected_state`.

        Only engines that ran and whose iteration count is small enough to
        recompute the expected state in Python (at most a million) are listed.
        """
        out = {}
        for r in self.runs:
            if not r.available or r.iterations > 1_000_000:
                continue
            want = expected_state(r.iterations)
            out[r.engine] = all(r.state.get(k) == want[k] for k in want)
        return out

    def series(self) -> list[tuple]:
        """(label, instructions/s or None) per engine, for :func:`virtlab.viz.host.engine_speeds`."""
        return [(r.label, r.ips) for r in self.runs]

    @classmethod
    def from_reference(cls, data: dict) -> "FourWays":
        """The four-way run stored in :func:`virtlab.host.reference_run` (``["four_ways"]``)."""
        check_type("data", data, dict)
        runs = tuple(EngineRun(engine, iterations, instructions, seconds, note=note)
                     for engine, iterations, instructions, seconds, note in data["rows"])
        return cls(runs, dict(data["model"]), recorded=recorded_elsewhere())

    def rows(self) -> list[tuple]:
        """(engine, instructions, seconds, M instructions/s, slowdown vs native, note)."""
        rows = []
        for r in self.runs:
            if r.available:
                s = self.slowdown(r.engine)
                rows.append((r.label, r.instructions, round(r.seconds, 4),
                             round(r.ips / 1e6, 2), round(s, 1) if s else None, r.note))
            else:
                rows.append((r.label, None, None, None, None, str(r.missing)))
        return rows


def four_ways(iterations: dict | None = None) -> FourWays:
    """Run the compute loop on all four engines now, one after the other (never raises for the host).

    Parameters
    ----------
    iterations : dict, optional
        Engine → loop iterations; missing engines use :data:`DEFAULT_ITERATIONS`.
    """
    its = dict(DEFAULT_ITERATIONS)
    if iterations is not None:
        check_type("iterations", iterations, dict)
        for k, v in iterations.items():
            if k not in ENGINES:
                raise ValueError(f"iterations keys must be in {ENGINES}, got {k!r}")
            its[k] = check_int(f"iterations[{k!r}]", v, minimum=1, maximum=100_000_000)
    runs = (run_native(its["native"]), _run_kvm(its["kvm"]), _run_tcg(its["tcg"]),
            run_interpreter(its["interpreter"]))
    return FourWays(runs, model_ratios())


def four_ways_or_reference(iterations: dict | None = None) -> FourWays:
    """:func:`four_ways` here, or the stored reference run off x86_64 Linux.

    Where only some engines are missing (no /dev/kvm, no unicorn), the live
    run is kept and those rows say what is missing.
    """
    missing = platform_missing()
    if missing is None:
        return four_ways(iterations)
    ref = FourWays.from_reference(reference_run()["four_ways"])
    return FourWays(ref.runs, ref.model, missing=missing, recorded=ref.recorded)
