"""x86's critical instructions executed for real, in user mode (*kritische Befehle, live*).

Each probe is a few bytes of x86-64 machine code, run as a function in a
**child process** (an executable anonymous ``mmap`` called through
``ctypes``), so a fault kills only the child: the parent sees the signal.
What the CPU and the OS did is decided by :func:`classify`, a pure function
of the child's outcome, tested with fixture inputs:

``trapped``
    the instruction faulted and the process got a signal (SIGSEGV for #GP):
    what Popek & Goldberg want from every sensitive instruction;
``emulated``
    it faulted (UMIP), and the kernel emulated it with a *spoofed* value
    (arch/x86/kernel/umip.c): the OS plays VMM for it;
``ignored``
    it ran without a trap and silently did less than asked (POPF cannot
    clear IF in ring 3);
``leaked``
    it ran without a trap and returned the real privileged value (SGDT
    without UMIP shows where the kernel's GDT is).

Beside each verdict stands what :data:`virtlab.isa.X86_32` predicts for a
1999 Pentium (Robin & Irvine): every critical instruction runs in user mode
without a trap; CLI and HLT are privileged and trap.

Examples
--------
>>> ok = ProbeOutcome(signal=None, data=bytes(2) + (0xfffffffffffe0000).to_bytes(8, "little"))
>>> classify("SGDT", ok, umip=True).verdict
'emulated'
>>> classify("SLDT", ProbeOutcome(signal="SIGSEGV"), umip=True).verdict
'trapped'
>>> flags = (0x246).to_bytes(8, "little") * 2      # IF (bit 9) still set after POPF
>>> classify("POPF", ProbeOutcome(signal=None, data=flags), umip=True).verdict
'ignored'
"""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass

from virtlab.environment import cpu_flags
from virtlab.errors import check_number, check_str, check_type
from virtlab.isa import X86_32

from .base import Missing, platform_missing, recorded_elsewhere, reference_run

__all__ = ["PROBES", "VERDICTS", "ProbeOutcome", "Verdict", "CriticalReport", "classify",
           "predicted", "run_probe", "probe_critical", "probe_or_reference", "umip_active", "CHILD_SOURCE",
           "UMIP_DUMMY_GDT_BASE", "UMIP_DUMMY_IDT_BASE", "UMIP_CR0_STATE"]

#: arch/x86/kernel/umip.c: the values Linux returns instead of the real ones
#: (64-bit processes; spoofing for 64-bit processes since Linux 5.4, facts.md §12).
UMIP_DUMMY_GDT_BASE = 0xFFFFFFFFFFFE0000
UMIP_DUMMY_IDT_BASE = 0xFFFFFFFFFFFF0000
#: umip.c's ``CR0_STATE``: PE | MP | ET | NE | WP | AM | PG.
UMIP_CR0_STATE = 0x80050033

#: The verdicts :func:`classify` can give.
VERDICTS = ("trapped", "emulated", "ignored", "leaked", "executed", "timed out")

#: name → (machine code, listing, what it stores at the buffer in rdi).  Each is
#: a function ``void f(uint8_t *rdi)`` (System V ABI), checked against
#: capstone's disassembly by the tests.
PROBES = {
    "SGDT": (bytes.fromhex("0f0107c3"), ("sgdt [rdi]", "ret"), "GDTR: limit (2 bytes), base (8)"),
    "SIDT": (bytes.fromhex("0f010fc3"), ("sidt [rdi]", "ret"), "IDTR: limit (2 bytes), base (8)"),
    "SLDT": (bytes.fromhex("0f0007c3"), ("sldt word ptr [rdi]", "ret"), "LDTR selector"),
    "SMSW": (bytes.fromhex("480f01e0488907c3"), ("smsw rax", "mov qword ptr [rdi], rax", "ret"),
             "the machine status word (low bits of CR0)"),
    "STR": (bytes.fromhex("0f000fc3"), ("str word ptr [rdi]", "ret"), "TR selector"),
    "POPF": (bytes.fromhex("9c58488907" "4825fffdffff" "509d9c58" "48894708c3"),
             ("pushfq", "pop rax", "mov qword ptr [rdi], rax", "and rax, 0xfffffffffffffdff",
              "push rax", "popfq", "pushfq", "pop rax", "mov qword ptr [rdi + 8], rax", "ret"),
             "RFLAGS before, and after POPF with IF cleared"),
    "CLI": (bytes.fromhex("fac3"), ("cli", "ret"), "nothing"),
    "HLT": (bytes.fromhex("f4c3"), ("hlt", "ret"), "nothing"),
}

#: The program the child runs: map the code executable, call it, print the buffer.
CHILD_SOURCE = """\
import ctypes, mmap, sys
code = bytes.fromhex(sys.argv[1])
page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(code)
buf = (ctypes.c_uint8 * 64)()
fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
fn(ctypes.addressof(buf))
sys.stdout.write(bytes(buf).hex())
"""


@dataclass(frozen=True)
class ProbeOutcome:
    """What happened in the child: the signal that killed it, or the bytes it stored."""

    signal: str | None = None
    data: bytes = b""
    timed_out: bool = False


@dataclass(frozen=True)
class Verdict:
    """One instruction's result on this CPU.

    Attributes
    ----------
    name : str
    verdict : str
        One of :data:`VERDICTS`.
    detail : str
        The explanation in one sentence.
    value : int or None
        The value the instruction produced (base for SGDT/SIDT, CR0 word, RFLAGS after POPF).
    predicted : str
        What :data:`virtlab.isa.X86_32` says for a 1999 Pentium.
    """

    name: str
    verdict: str
    detail: str
    value: int | None = None
    predicted: str = ""


def predicted(name: str) -> str:
    """What the X86_32 catalogue (a 1999 Pentium, Robin & Irvine) predicts in user mode.

    Examples
    --------
    >>> predicted("SGDT")
    'runs without a trap (sensitive, not privileged: critical)'
    >>> predicted("HLT")
    'traps (privileged)'
    """
    check_str("name", name)
    spec = X86_32[name]
    if spec.privileged:
        return "traps (privileged)"
    if spec.control_sensitive or spec.behavior_sensitive:
        return "runs without a trap (sensitive, not privileged: critical)"
    return "runs without a trap (innocuous)"


def _u64(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset:offset + 8], "little")


def classify(name: str, outcome: ProbeOutcome, umip: bool | None) -> Verdict:
    """Decide what the CPU and the OS did with probe ``name`` (pure; no host access).

    Parameters
    ----------
    name : str
        A key of :data:`PROBES`.
    outcome : ProbeOutcome
        The child's signal or stored bytes.
    umip : bool or None
        Whether UMIP is active (CPU flag ``umip``); ``None`` if unknown.

    Examples
    --------
    >>> real = (0x7f).to_bytes(2, "little") + (0xfffffe0000001000).to_bytes(8, "little")
    >>> v = classify("SGDT", ProbeOutcome(data=real), umip=False)
    >>> v.verdict, hex(v.value)
    ('leaked', '0xfffffe0000001000')
    >>> classify("CLI", ProbeOutcome(signal="SIGSEGV"), umip=True).detail[:22]
    'privileged: #GP in rin'
    """
    check_str("name", name)
    if name not in PROBES:
        raise ValueError(f"name must be one of {sorted(PROBES)}, got {name!r}")
    check_type("outcome", outcome, ProbeOutcome)
    if umip is not None:
        check_type("umip", umip, bool)
    pred = predicted(name)
    if outcome.timed_out:
        return Verdict(name, "timed out", "the child did not finish in time", None, pred)
    if outcome.signal is not None:
        if name in ("CLI", "HLT"):
            detail = (f"privileged: #GP in ring 3, the kernel sends {outcome.signal} "
                      "(as on every x86 since the 386)")
        elif umip:
            detail = (f"UMIP makes it fault (#GP) and this kernel does not emulate it for a "
                      f"64-bit process, so the process gets {outcome.signal}")
        else:
            detail = f"it faulted and the process got {outcome.signal}"
        return Verdict(name, "trapped", detail, None, pred)
    data = outcome.data
    if name == "POPF":
        before, after = _u64(data, 0), _u64(data, 8)
        if after & (1 << 9):
            return Verdict(name, "ignored", "POPF with IF cleared ran without a trap and IF "
                           "stayed 1: ring 3 may not change IF, the CPU silently keeps it",
                           after, pred)
        return Verdict(name, "executed", "IF was cleared: this process has IOPL 3", after, pred)
    if name in ("SGDT", "SIDT"):
        limit = int.from_bytes(data[:2], "little")
        base = _u64(data, 2)
        table = "GDT" if name == "SGDT" else "IDT"
        dummy = UMIP_DUMMY_GDT_BASE if name == "SGDT" else UMIP_DUMMY_IDT_BASE
        if limit == 0 and (umip or base == dummy):
            return Verdict(name, "emulated", f"UMIP made it fault and the kernel answered "
                           f"with a dummy {table} (base {base:#x}, limit 0)", base, pred)
        return Verdict(name, "leaked", f"it ran without a trap and showed the real {table}: "
                       f"base {base:#x}, limit {limit:#x}", base, pred)
    if name == "SMSW":
        value = _u64(data, 0)
        if umip:
            return Verdict(name, "emulated", f"UMIP made it fault and the kernel answered "
                           f"{value:#x} (its fixed CR0 value)", value, pred)
        return Verdict(name, "leaked", f"it ran without a trap and showed CR0's low bits "
                       f"{value:#x}: PE={value & 1}, the guest would see it is not in "
                       f"its own real mode", value, pred)
    if name in ("SLDT", "STR"):
        value = int.from_bytes(data[:2], "little")
        if umip:
            return Verdict(name, "emulated", f"UMIP made it fault and the kernel answered "
                           f"{value:#x} (newer kernels emulate SLDT and STR too)", value, pred)
        return Verdict(name, "leaked", f"it ran without a trap and showed the selector "
                       f"{value:#x}", value, pred)
    return Verdict(name, "executed", "it ran in ring 3 without a fault", None, pred)


def umip_active() -> bool | None:
    """Whether the CPU flags list ``umip`` (Linux enables it when present); None if unknown."""
    flags = cpu_flags()
    return None if not flags else "umip" in flags


def run_probe(name: str, timeout: float = 10.0) -> ProbeOutcome:
    """Run probe ``name`` in a child process (killed after ``timeout`` seconds).

    Examples
    --------
    >>> out = run_probe("POPF")
    >>> out.signal is None and len(out.data) == 64 if platform_missing() is None else True
    True
    """
    check_str("name", name)
    if name not in PROBES:
        raise ValueError(f"name must be one of {sorted(PROBES)}, got {name!r}")
    check_number("timeout", timeout, minimum=0.1, maximum=600)
    try:
        # -I: isolated (no user site, no PYTHONPATH); -S: no site import — fast and clean.
        proc = subprocess.run([sys.executable, "-I", "-S", "-c", CHILD_SOURCE,
                               PROBES[name][0].hex()], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:   # subprocess.run has killed the child
        return ProbeOutcome(timed_out=True)
    if proc.returncode < 0:
        try:
            sig = signal.Signals(-proc.returncode).name
        except ValueError:
            sig = f"signal {-proc.returncode}"
        return ProbeOutcome(signal=sig)
    try:
        return ProbeOutcome(data=bytes.fromhex(proc.stdout.strip()))
    except ValueError:
        return ProbeOutcome(signal=f"exit status {proc.returncode}")


@dataclass(frozen=True)
class CriticalReport:
    """The probes of :func:`probe_critical`.

    Attributes
    ----------
    rows : tuple of Verdict
    umip : bool or None
    missing : Missing or None
    """

    rows: tuple = ()
    umip: bool | None = None
    missing: Missing | None = None
    recorded: str = ""

    @property
    def available(self) -> bool:
        return self.missing is None

    def table(self) -> list[tuple[str, str, str, str]]:
        """(instruction, 1999 Pentium prediction, verdict here, explanation) rows."""
        return [(v.name, v.predicted, v.verdict, v.detail) for v in self.rows]


def probe_critical(names=tuple(PROBES), timeout: float = 10.0) -> CriticalReport:
    """Run every probe on this CPU and classify it (never raises for the host; no root needed).

    Examples
    --------
    >>> report = probe_critical(["POPF"])
    >>> [v.verdict for v in report.rows] if report.available else ["ignored"]
    ['ignored']
    """
    names = tuple(names)
    for n in names:
        check_str("names", n)
        if n not in PROBES:
            raise ValueError(f"names must be taken from {sorted(PROBES)}, got {n!r}")
    check_number("timeout", timeout, minimum=0.1, maximum=600)
    plat = platform_missing()
    if plat is not None:
        return CriticalReport(missing=plat)
    umip = umip_active()
    try:
        rows = tuple(classify(n, run_probe(n, timeout), umip) for n in names)
    except OSError as exc:            # cannot start a child process at all
        return CriticalReport(umip=umip, missing=Missing(
            "child processes", f"starting {sys.executable} failed ({exc})",
            "run the notebook where Python may start subprocesses"))
    return CriticalReport(rows=rows, umip=umip)


def probe_or_reference(timeout: float = 10.0) -> CriticalReport:
    """:func:`probe_critical` on this CPU, or the stored reference run where it cannot run.

    Examples
    --------
    >>> report = probe_or_reference()
    >>> [v.name for v in report.rows] == list(PROBES)
    True
    """
    live = probe_critical(timeout=timeout)
    if live.available:
        return live
    ref = reference_run()["critical"]
    rows = tuple(Verdict(name, verdict, detail, value, predicted(name))
                 for name, verdict, detail, value in ref["rows"])
    return CriticalReport(rows=rows, umip=ref["umip"], missing=live.missing,
                          recorded=recorded_elsewhere())
