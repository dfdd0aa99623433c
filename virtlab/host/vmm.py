"""A minimal VMM on the real ``/dev/kvm``, in pure Python (*ein eigener Hypervisor*).

The same call sequence as the model :mod:`virtlab.hypervisor.kvm` (and QEMU),
done for real with ``os.open``, ``fcntl.ioctl`` and ``mmap``: open
``/dev/kvm``, check ``KVM_GET_API_VERSION`` = 12, ``KVM_CREATE_VM``, map
guest RAM with ``KVM_SET_USER_MEMORY_REGION``, ``KVM_CREATE_VCPU``, ``mmap``
the vCPU's ``struct kvm_run``, set segment and general registers, then loop
``KVM_RUN`` and dispatch the exit reason.  Guests are the x86 programs of
:mod:`virtlab.host.guests` in 32-bit protected mode (flat segments set
straight into ``KVM_SET_SREGS``, no GDT needed, no paging).

Provenance of every number below: ioctl encodings from
``include/uapi/asm-generic/ioctl.h`` (``_IO``/``_IOR``/``_IOW``/``_IOWR``),
ioctl numbers and structures from ``include/uapi/linux/kvm.h`` and
``arch/x86/include/uapi/asm/kvm.h`` (torvalds/linux), the call sequence from
``Documentation/virt/kvm/api.rst`` (facts.md §10, §12).  The binary statistics
(``KVM_GET_STATS_FD``, ``struct kvm_stats_header`` and ``struct kvm_stats_desc``
in ``include/uapi/linux/kvm.h``) are described in ``api.rst`` under
``KVM_GET_STATS_FD``.

Nothing here raises because the machine lacks KVM: :func:`probe_kvm` and
:func:`run_guest` return results whose ``missing`` says what is absent and
how to get it (``sudo usermod -aG kvm $USER`` for a permission problem).
Only bad arguments raise ``ValueError``/``TypeError``.

Examples
--------
>>> KVM_RUN == 0xAE80 and KVM_GET_SREGS == 0x8138AE83 and KVM_SET_REGS == 0x4090AE82
True
>>> ctypes.sizeof(KvmSregs), ctypes.sizeof(KvmRegs), ctypes.sizeof(KvmUserspaceMemoryRegion)
(312, 144, 32)
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import signal
import struct
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from virtlab.errors import check_int, check_number, check_type

try:                     # POSIX only; on Windows every function reports what is missing
    import fcntl
except ImportError:      # pragma: no cover - not on the Linux CI machine
    fcntl = None

from virtlab.environment import cpu_flags, kvm_modules, kvm_provider

from .base import Missing, platform_missing, recorded_elsewhere, reference_run
from .guests import LOAD_ADDRESS, MMIO_BASE, RAM_SIZE, Guest

__all__ = [
    "KVMIO", "KVM_API_VERSION", "KVM_GET_API_VERSION", "KVM_CREATE_VM", "KVM_CHECK_EXTENSION",
    "KVM_GET_VCPU_MMAP_SIZE", "KVM_GET_SUPPORTED_CPUID", "KVM_CREATE_VCPU",
    "KVM_SET_USER_MEMORY_REGION", "KVM_RUN", "KVM_GET_REGS", "KVM_SET_REGS", "KVM_GET_SREGS",
    "KVM_SET_SREGS", "KVM_GET_STATS_FD", "EXIT_REASONS", "CAPABILITIES",
    "KvmRegs", "KvmSegment", "KvmDtable", "KvmSregs", "KvmUserspaceMemoryRegion", "KvmRun",
    "KvmProbe", "ExitEvent", "GuestRun", "probe_kvm", "run_guest", "minimal_hypervisor",
    "KVM_DEVICE", "run_or_reference",
]

KVM_DEVICE = "/dev/kvm"

# -- include/uapi/asm-generic/ioctl.h: dir(2 bits) | size(14) | type(8) | nr(8) ---------
_IOC_NONE, _IOC_WRITE, _IOC_READ = 0, 1, 2


def _ioc(direction: int, typ: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (typ << 8) | nr


#: include/uapi/linux/kvm.h: ``#define KVMIO 0xAE``
KVMIO = 0xAE
#: api.rst: "The only supported value is 12" (every Linux since 2.6.22).
KVM_API_VERSION = 12

KVM_GET_API_VERSION = _ioc(_IOC_NONE, KVMIO, 0x00, 0)          # _IO(KVMIO, 0x00)
KVM_CREATE_VM = _ioc(_IOC_NONE, KVMIO, 0x01, 0)                # _IO(KVMIO, 0x01)
KVM_CHECK_EXTENSION = _ioc(_IOC_NONE, KVMIO, 0x03, 0)          # _IO(KVMIO, 0x03)
KVM_GET_VCPU_MMAP_SIZE = _ioc(_IOC_NONE, KVMIO, 0x04, 0)       # _IO(KVMIO, 0x04)
#: _IOWR(KVMIO, 0x05, struct kvm_cpuid2) — the header {u32 nent; u32 padding} is 8 bytes
KVM_GET_SUPPORTED_CPUID = _ioc(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, 8)
KVM_CREATE_VCPU = _ioc(_IOC_NONE, KVMIO, 0x41, 0)              # _IO(KVMIO, 0x41)
#: _IOW(KVMIO, 0x46, struct kvm_userspace_memory_region)
KVM_SET_USER_MEMORY_REGION = _ioc(_IOC_WRITE, KVMIO, 0x46, 32)
KVM_RUN = _ioc(_IOC_NONE, KVMIO, 0x80, 0)                      # _IO(KVMIO, 0x80)
KVM_GET_REGS = _ioc(_IOC_READ, KVMIO, 0x81, 144)               # _IOR(.., struct kvm_regs)
KVM_SET_REGS = _ioc(_IOC_WRITE, KVMIO, 0x82, 144)              # _IOW(.., struct kvm_regs)
KVM_GET_SREGS = _ioc(_IOC_READ, KVMIO, 0x83, 312)              # _IOR(.., struct kvm_sregs)
KVM_SET_SREGS = _ioc(_IOC_WRITE, KVMIO, 0x84, 312)             # _IOW(.., struct kvm_sregs)
KVM_GET_STATS_FD = _ioc(_IOC_NONE, KVMIO, 0xCE, 0)             # _IO(KVMIO, 0xce)

#: ``KVM_EXIT_*`` codes (include/uapi/linux/kvm.h), the ones a guest here can cause.
EXIT_REASONS = {0: "UNKNOWN", 1: "EXCEPTION", 2: "IO", 3: "HYPERCALL", 4: "DEBUG", 5: "HLT",
                6: "MMIO", 7: "IRQ_WINDOW_OPEN", 8: "SHUTDOWN", 9: "FAIL_ENTRY", 10: "INTR",
                17: "INTERNAL_ERROR", 24: "SYSTEM_EVENT"}
_EXIT_IO, _EXIT_MMIO, _EXIT_HLT = 2, 6, 5
_KVM_EXIT_IO_IN = 0

#: ``KVM_CAP_*`` numbers asked with KVM_CHECK_EXTENSION (include/uapi/linux/kvm.h).
CAPABILITIES = {"USER_MEMORY": 3, "NR_VCPUS": 9, "NR_MEMSLOTS": 10, "MAX_VCPUS": 66,
                "BINARY_STATS_FD": 203, "VM_TYPES": 235}


# -- structures: arch/x86/include/uapi/asm/kvm.h and include/uapi/linux/kvm.h ------------

class KvmRegs(ctypes.Structure):
    """``struct kvm_regs`` (x86): 18 u64 in this order."""
    _fields_ = [(n, ctypes.c_uint64) for n in (
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "r9", "r10", "r11",
        "r12", "r13", "r14", "r15", "rip", "rflags")]


class KvmSegment(ctypes.Structure):
    """``struct kvm_segment``: a segment register with its hidden descriptor part."""
    _fields_ = [("base", ctypes.c_uint64), ("limit", ctypes.c_uint32),
                ("selector", ctypes.c_uint16), ("type", ctypes.c_uint8),
                ("present", ctypes.c_uint8), ("dpl", ctypes.c_uint8), ("db", ctypes.c_uint8),
                ("s", ctypes.c_uint8), ("l", ctypes.c_uint8), ("g", ctypes.c_uint8),
                ("avl", ctypes.c_uint8), ("unusable", ctypes.c_uint8),
                ("padding", ctypes.c_uint8)]


class KvmDtable(ctypes.Structure):
    """``struct kvm_dtable``: GDTR/IDTR."""
    _fields_ = [("base", ctypes.c_uint64), ("limit", ctypes.c_uint16),
                ("padding", ctypes.c_uint16 * 3)]


class KvmSregs(ctypes.Structure):
    """``struct kvm_sregs`` (x86): segments, descriptor tables, control registers."""
    _fields_ = [("cs", KvmSegment), ("ds", KvmSegment), ("es", KvmSegment),
                ("fs", KvmSegment), ("gs", KvmSegment), ("ss", KvmSegment),
                ("tr", KvmSegment), ("ldt", KvmSegment), ("gdt", KvmDtable),
                ("idt", KvmDtable), ("cr0", ctypes.c_uint64), ("cr2", ctypes.c_uint64),
                ("cr3", ctypes.c_uint64), ("cr4", ctypes.c_uint64), ("cr8", ctypes.c_uint64),
                ("efer", ctypes.c_uint64), ("apic_base", ctypes.c_uint64),
                ("interrupt_bitmap", ctypes.c_uint64 * 4)]


class KvmUserspaceMemoryRegion(ctypes.Structure):
    """``struct kvm_userspace_memory_region``."""
    _fields_ = [("slot", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("guest_phys_addr", ctypes.c_uint64), ("memory_size", ctypes.c_uint64),
                ("userspace_addr", ctypes.c_uint64)]


class _KvmRunIo(ctypes.Structure):
    _fields_ = [("direction", ctypes.c_uint8), ("size", ctypes.c_uint8),
                ("port", ctypes.c_uint16), ("count", ctypes.c_uint32),
                ("data_offset", ctypes.c_uint64)]


class _KvmRunMmio(ctypes.Structure):
    _fields_ = [("phys_addr", ctypes.c_uint64), ("data", ctypes.c_uint8 * 8),
                ("len", ctypes.c_uint32), ("is_write", ctypes.c_uint8)]


class _KvmRunExit(ctypes.Union):
    _fields_ = [("io", _KvmRunIo), ("mmio", _KvmRunMmio), ("padding", ctypes.c_char * 256)]


class KvmRun(ctypes.Structure):
    """The start of ``struct kvm_run`` (the page shared by kernel and VMM)."""
    _fields_ = [("request_interrupt_window", ctypes.c_uint8),
                ("immediate_exit", ctypes.c_uint8), ("padding1", ctypes.c_uint8 * 6),
                ("exit_reason", ctypes.c_uint32),
                ("ready_for_interrupt_injection", ctypes.c_uint8),
                ("if_flag", ctypes.c_uint8), ("flags", ctypes.c_uint16),
                ("cr8", ctypes.c_uint64), ("apic_base", ctypes.c_uint64),
                ("exit", _KvmRunExit)]


# -- probing -----------------------------------------------------------------------------

@dataclass(frozen=True)
class KvmProbe:
    """What ``/dev/kvm`` is on this machine.

    Attributes
    ----------
    device : str
        ``"usable"``, ``"no permission"``, ``"absent"`` or ``"not applicable"``.
    api_version : int or None
    capabilities : dict
        ``KVM_CHECK_EXTENSION`` answers by capability name.
    modules : tuple of str
        KVM modules found under ``/sys/module``.
    provider : str
        :func:`virtlab.environment.kvm_provider`'s sentence.
    guest_cpuid_vmx, guest_cpuid_svm : bool or None
        Whether ``KVM_GET_SUPPORTED_CPUID`` offers VT-x / AMD-V to *guests* (nesting).
    hypervisor_signature : str
        CPUID leaf 0x40000000 as KVM reports it to guests (``"KVMKVMKVM"``).
    kernel_messages : tuple of str
        KVM lines of the kernel log, if readable (root only; empty otherwise).
    missing : Missing or None
    """

    device: str
    api_version: int | None = None
    capabilities: dict = field(default_factory=dict)
    modules: tuple = ()
    provider: str = ""
    guest_cpuid_vmx: bool | None = None
    guest_cpuid_svm: bool | None = None
    hypervisor_signature: str = ""
    kernel_messages: tuple = ()
    missing: Missing | None = None

    @property
    def available(self) -> bool:
        return self.missing is None


def _kernel_messages() -> tuple:
    """KVM lines of the kernel ring buffer via /dev/kmsg (readable by root only)."""
    lines = []
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return ()
    try:
        while len(lines) < 10_000:
            try:
                rec = os.read(fd, 8192).decode("utf-8", "replace")
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EPIPE:     # a record was overwritten: keep reading
                    continue
                break
            msg = rec.split(";", 1)[-1].split("\n", 1)[0]
            if msg.startswith(("kvm", "pvm")) or "umip" in msg:
                lines.append(msg)
    finally:
        os.close(fd)
    return tuple(lines)


def _device_missing(exc: OSError | None) -> Missing | None:
    if exc is None:
        return None
    if exc.errno in (errno.EACCES, errno.EPERM):
        return Missing(KVM_DEVICE, "it exists, but this user may not open it",
                       "sudo usermod -aG kvm $USER, then log in again")
    if exc.errno == errno.ENOENT:
        return Missing(KVM_DEVICE, "there is no such device: no KVM module is loaded, or "
                       "the CPU (or the cloud VM) offers no virtualization extensions",
                       "enable VT-x/AMD-V (or nested virtualization) and load kvm_intel or "
                       "kvm_amd")
    return Missing(KVM_DEVICE, f"opening it failed: {exc}", "check the kernel's messages")


def probe_kvm(kernel_log: bool = True) -> KvmProbe:
    """Probe ``/dev/kvm``: API version, capabilities, the module behind it (never raises).

    Parameters
    ----------
    kernel_log : bool
        Also read the KVM lines of the kernel log (works as root only).

    Examples
    --------
    >>> p = probe_kvm(kernel_log=False)
    >>> p.device in ("usable", "no permission", "absent", "not applicable")
    True
    """
    check_type("kernel_log", kernel_log, bool)
    plat = platform_missing()
    if plat is not None:
        return KvmProbe(device="not applicable", missing=plat)
    modules = tuple(kvm_modules() or ())
    flags = cpu_flags() or frozenset()
    provider = kvm_provider(modules, flags)
    messages = _kernel_messages() if kernel_log else ()
    try:
        fd = os.open(KVM_DEVICE, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return KvmProbe(device="no permission" if exc.errno in (errno.EACCES, errno.EPERM)
                        else "absent", modules=modules, provider=provider,
                        kernel_messages=messages, missing=_device_missing(exc))
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
        caps = {}
        for name, cap in CAPABILITIES.items():
            try:
                caps[name] = fcntl.ioctl(fd, KVM_CHECK_EXTENSION, cap)
            except OSError:
                caps[name] = 0
        vmx = svm = None
        signature = ""
        nent = 256
        buf = bytearray(struct.pack("II", nent, 0) + bytes(40 * nent))
        try:
            fcntl.ioctl(fd, KVM_GET_SUPPORTED_CPUID, buf)
            for i in range(struct.unpack_from("I", buf)[0]):
                # struct kvm_cpuid_entry2: function, index, flags, eax, ebx, ecx, edx, pad[3]
                fn, _idx, _fl, _a, b, c, d = struct.unpack_from("7I", buf, 8 + 40 * i)
                if fn == 1:
                    vmx = bool(c & (1 << 5))           # CPUID.1:ECX.VMX[bit 5]
                elif fn == 0x80000001:
                    svm = bool(c & (1 << 2))           # CPUID.80000001h:ECX.SVM[bit 2]
                elif fn == 0x40000000:
                    signature = struct.pack("III", b, c, d).rstrip(b"\0").decode("ascii",
                                                                                  "replace")
        except OSError:
            pass
    except OSError as exc:
        return KvmProbe(device="absent", modules=modules, provider=provider,
                        kernel_messages=messages,
                        missing=Missing(KVM_DEVICE, f"it does not answer the KVM API ({exc})",
                                        "check the kernel's messages"))
    finally:
        os.close(fd)
    missing = None
    if version != KVM_API_VERSION:
        missing = Missing(KVM_DEVICE, f"KVM_GET_API_VERSION answered {version}, not "
                          f"{KVM_API_VERSION}", "use a Linux kernel with the stable KVM API")
    return KvmProbe(device="usable", api_version=version, capabilities=caps, modules=modules,
                    provider=provider, guest_cpuid_vmx=vmx, guest_cpuid_svm=svm,
                    hypervisor_signature=signature, kernel_messages=messages, missing=missing)


# -- running a guest ---------------------------------------------------------------------

@dataclass(frozen=True)
class ExitEvent:
    """One return of ``KVM_RUN`` to user space.

    ``port``/``direction``/``size``/``data`` for IO, ``phys_addr``/``is_write``/``data``
    for MMIO; ``ns`` is the wall-clock time of that ``KVM_RUN`` call.
    """

    reason: str
    port: int | None = None
    direction: str | None = None
    size: int | None = None
    phys_addr: int | None = None
    is_write: bool | None = None
    data: int | None = None
    ns: int = 0


@dataclass(frozen=True)
class GuestRun:
    """The result of running a guest on ``/dev/kvm``.

    Attributes
    ----------
    guest : str
    exits : tuple of ExitEvent
    output : str
        What the guest wrote to the serial port.
    regs : dict
        General registers after the run (``rax`` ... ``rip``, ``rflags``).
    stats : dict
        Per-vCPU statistics that changed during the run (``KVM_GET_STATS_FD``),
        e.g. ``exits``, ``io_exits``, ``insn_emulation``.
    seconds : float
        Wall-clock time of the run loop.
    instructions : int
        Guest instructions the program executes (from the program, not measured).
    memory : bytes
        Guest RAM after the run.
    missing : Missing or None
    error : str
        Empty, or what went wrong (timeout, unexpected exit).
    """

    guest: str
    exits: tuple = ()
    output: str = ""
    regs: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    seconds: float = 0.0
    instructions: int = 0
    memory: bytes = b""
    missing: Missing | None = None
    error: str = ""
    recorded: str = ""

    @property
    def available(self) -> bool:
        return self.missing is None

    def dword(self, address: int) -> int:
        """The 32-bit little-endian word at guest-physical ``address`` after the run."""
        return int.from_bytes(self.memory[address:address + 4], "little")

    def reasons(self) -> list[str]:
        """Exit reasons in order."""
        return [e.reason for e in self.exits]

    def exit_counts(self) -> dict:
        """Exit reason → count, in first-seen order (like the model's ``exit_counts``)."""
        return dict(Counter(self.reasons()))

    def mean_exit_us(self, reason: str = "IO") -> float | None:
        """Mean wall-clock µs of the KVM_RUN calls that ended with ``reason``."""
        ns = [e.ns for e in self.exits if e.reason == reason]
        return sum(ns) / len(ns) / 1000 if ns else None


class _Timeout(Exception):
    pass


@contextmanager
def _deadline(seconds: float):
    """Interrupt a blocking KVM_RUN after ``seconds`` (SIGALRM; main thread only).

    KVM_RUN returns EINTR when a signal arrives; Python would retry the ioctl
    (PEP 475) unless the handler raises, so the handler raises.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class _Stats:
    """Reader of the binary per-vCPU statistics fd (api.rst, ``KVM_GET_STATS_FD``)."""

    def __init__(self, fd: int):
        self.fd = fd
        # struct kvm_stats_header: flags, name_size, num_desc, id_offset, desc_offset, data_offset
        _f, name_size, num, _id, desc_off, self.data_off = struct.unpack(
            "6I", os.pread(fd, 24, 0))
        size = 16 + name_size    # struct kvm_stats_desc: u32 flags, s16 exp, u16 size, u32 offset,
        raw = os.pread(fd, size * num, desc_off)  # u32 bucket_size, char name[name_size]
        self.fields = []
        for i in range(num):
            _fl, _exp, count, offset, _bs = struct.unpack_from("IhHII", raw, i * size)
            name = raw[i * size + 16:(i + 1) * size].split(b"\0")[0].decode()
            if count == 1:
                self.fields.append((name, offset))

    def read(self) -> dict:
        return {name: struct.unpack("Q", os.pread(self.fd, 8, self.data_off + off))[0]
                for name, off in self.fields}


def _flat(seg: KvmSegment, selector: int, code: bool) -> None:
    """A flat 4 GiB ring-0 segment (base 0, 32-bit, granularity 4 KiB)."""
    seg.base, seg.limit, seg.selector = 0, 0xFFFFFFFF, selector
    seg.type = 11 if code else 3          # execute/read accessed; read/write accessed
    seg.present, seg.dpl, seg.db, seg.s, seg.l, seg.g = 1, 0, 1, 1, 0, 1


def run_guest(guest: Guest, *, timeout: float = 10.0, max_exits: int = 1_000_000,
              mmio_value: int = 0x55AA, stats: bool = True) -> GuestRun:
    """Run ``guest`` on the real ``/dev/kvm`` and record every exit (never raises for the host).

    The VMM answers an MMIO read with ``mmio_value`` and an IO read with 0;
    serial-port writes become :attr:`GuestRun.output`.

    Parameters
    ----------
    guest : Guest
        A program of :mod:`virtlab.host.guests`.
    timeout : float
        Seconds before the run is interrupted (SIGALRM in the main thread).
    max_exits : int
        Stop after this many exits.
    mmio_value : int
        The value MMIO reads return (the "device register").
    stats : bool
        Read the per-vCPU statistics before and after (``KVM_GET_STATS_FD``).

    Examples
    --------
    >>> from virtlab.host.guests import HELLO
    >>> r = run_guest(HELLO)
    >>> r.output if r.available else "Hello!"
    'Hello!'
    """
    check_type("guest", guest, Guest)
    check_number("timeout", timeout, minimum=0.001, maximum=3600)
    check_int("max_exits", max_exits, minimum=1, maximum=100_000_000)
    check_int("mmio_value", mmio_value, minimum=0, maximum=0xFFFFFFFF)
    check_type("stats", stats, bool)
    plat = platform_missing()
    if plat is not None:
        return GuestRun(guest.name, missing=plat, instructions=guest.instructions)
    fds: list[int] = []
    maps: list[mmap.mmap] = []
    try:
        try:
            kvm = os.open(KVM_DEVICE, os.O_RDWR | os.O_CLOEXEC)
        except OSError as exc:
            return GuestRun(guest.name, missing=_device_missing(exc),
                            instructions=guest.instructions)
        fds.append(kvm)
        if fcntl.ioctl(kvm, KVM_GET_API_VERSION) != KVM_API_VERSION:
            return GuestRun(guest.name, instructions=guest.instructions,
                            missing=Missing(KVM_DEVICE, "the API version is not 12",
                                            "use a Linux kernel with the stable KVM API"))
        vm = fcntl.ioctl(kvm, KVM_CREATE_VM, 0)
        fds.append(vm)
        ram = mmap.mmap(-1, RAM_SIZE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        maps.append(ram)
        ram[LOAD_ADDRESS:LOAD_ADDRESS + len(guest.code)] = guest.code
        for addr, blob in guest.data.items():
            ram[addr:addr + len(blob)] = blob
        ram_addr = ctypes.addressof(ctypes.c_char.from_buffer(ram))
        fcntl.ioctl(vm, KVM_SET_USER_MEMORY_REGION,
                    KvmUserspaceMemoryRegion(0, 0, 0, RAM_SIZE, ram_addr))
        vcpu = fcntl.ioctl(vm, KVM_CREATE_VCPU, 0)
        fds.append(vcpu)
        size = fcntl.ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE)
        page = mmap.mmap(vcpu, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        maps.append(page)
        run = KvmRun.from_buffer(page)
        sregs = KvmSregs()
        fcntl.ioctl(vcpu, KVM_GET_SREGS, sregs)
        _flat(sregs.cs, 0x08, code=True)
        for seg in (sregs.ds, sregs.es, sregs.fs, sregs.gs, sregs.ss):
            _flat(seg, 0x10, code=False)
        sregs.cr0 |= 1                           # CR0.PE: protected mode, no paging
        fcntl.ioctl(vcpu, KVM_SET_SREGS, sregs)
        regs = KvmRegs(rip=LOAD_ADDRESS, rflags=0x2, rsp=RAM_SIZE)  # bit 1 is always set
        fcntl.ioctl(vcpu, KVM_SET_REGS, regs)
        reader = None
        if stats:
            try:
                sfd = fcntl.ioctl(vcpu, KVM_GET_STATS_FD)
                fds.append(sfd)
                reader = _Stats(sfd)
            except OSError:
                reader = None
        before = reader.read() if reader else {}
        exits, output, error = [], [], ""
        t0 = time.perf_counter()
        try:
            with _deadline(timeout):
                while len(exits) < max_exits:
                    t = time.perf_counter_ns()
                    fcntl.ioctl(vcpu, KVM_RUN, 0)
                    ns = time.perf_counter_ns() - t
                    reason = EXIT_REASONS.get(run.exit_reason, str(run.exit_reason))
                    if run.exit_reason == _EXIT_IO:
                        io = run.exit.io
                        if io.direction == _KVM_EXIT_IO_IN:
                            page[io.data_offset:io.data_offset + io.size] = bytes(io.size)
                            data = 0
                        else:
                            data = int.from_bytes(page[io.data_offset:io.data_offset + io.size],
                                                  "little")
                            if io.port == 0x3F8:
                                output.append(chr(data & 0xFF))
                        exits.append(ExitEvent("IO", port=io.port, size=io.size, data=data, ns=ns,
                                               direction="in" if io.direction == 0 else "out"))
                    elif run.exit_reason == _EXIT_MMIO:
                        m = run.exit.mmio
                        if m.is_write:
                            data = int.from_bytes(bytes(m.data)[:m.len], "little")
                        else:
                            data = mmio_value
                            m.data[:] = list(mmio_value.to_bytes(8, "little"))
                        exits.append(ExitEvent("MMIO", phys_addr=m.phys_addr, size=m.len,
                                               is_write=bool(m.is_write), data=data, ns=ns))
                    else:
                        exits.append(ExitEvent(reason, ns=ns))
                        if run.exit_reason != _EXIT_HLT:
                            error = f"unexpected exit {reason}"
                        break
        except _Timeout:
            error = f"timed out after {timeout} s"
        seconds = time.perf_counter() - t0
        after = reader.read() if reader else {}
        fcntl.ioctl(vcpu, KVM_GET_REGS, regs)
        out_regs = {name: getattr(regs, name) for name, _ in KvmRegs._fields_}
        del run
        return GuestRun(guest.name, exits=tuple(exits), output="".join(output), regs=out_regs,
                        stats={k: after[k] - before.get(k, 0) for k in after
                               if after[k] != before.get(k, 0)},
                        seconds=seconds, instructions=guest.instructions, error=error,
                        memory=bytes(ram))
    except OSError as exc:
        return GuestRun(guest.name, instructions=guest.instructions,
                        missing=Missing(KVM_DEVICE, f"an ioctl failed: {exc}",
                                        "check the kernel's messages (dmesg)"))
    finally:
        for m in maps:
            try:
                m.close()
            except BufferError:     # a ctypes view still exported; freed with the object
                pass
        for fd in reversed(fds):
            os.close(fd)


def minimal_hypervisor(code: bytes, ram_size: int = 0x10000) -> str:
    """Your own hypervisor in about 30 lines: run real-mode ``code`` at 0x1000, return its output.

    The whole of :func:`run_guest` without the bookkeeping: the five ioctls
    that make a VM, then the ``KVM_RUN`` loop that QEMU runs too.  Port writes
    become the returned text; the guest ends with ``hlt``.  Raises OSError
    where /dev/kvm is unusable (use :func:`run_guest` for the careful version).

    Examples
    --------
    >>> code = bytes.fromhex("baf803 b048 ee b069 ee f4")  # mov dx,0x3f8; mov al,72; out; ...; hlt
    >>> minimal_hypervisor(code) if probe_kvm(kernel_log=False).available else 'Hi'
    'Hi'
    """
    check_type("code", code, (bytes, bytearray))
    check_int("ram_size", ram_size, minimum=0x1000 + len(code), maximum=0x100000)
    if ram_size % 0x1000:
        raise ValueError(f"ram_size must be a multiple of 4096 (whole pages), got {ram_size}")
    kvm = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    vm = fcntl.ioctl(kvm, KVM_CREATE_VM, 0)
    ram = mmap.mmap(-1, ram_size)                                  # guest RAM
    ram[0x1000:0x1000 + len(code)] = code
    addr = ctypes.addressof(ctypes.c_char.from_buffer(ram))
    fcntl.ioctl(vm, KVM_SET_USER_MEMORY_REGION,
                KvmUserspaceMemoryRegion(0, 0, 0, ram_size, addr))
    vcpu = fcntl.ioctl(vm, KVM_CREATE_VCPU, 0)
    page = mmap.mmap(vcpu, fcntl.ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE))  # struct kvm_run
    run = KvmRun.from_buffer(page)
    sregs = KvmSregs()
    fcntl.ioctl(vcpu, KVM_GET_SREGS, sregs)
    sregs.cs.base = sregs.cs.selector = 0                           # real mode, CS:IP = 0:0x1000
    fcntl.ioctl(vcpu, KVM_SET_SREGS, sregs)
    fcntl.ioctl(vcpu, KVM_SET_REGS, KvmRegs(rip=0x1000, rflags=0x2))
    out = ""
    while True:
        fcntl.ioctl(vcpu, KVM_RUN, 0)
        if run.exit_reason == 2 and run.exit.io.direction == 1:     # KVM_EXIT_IO, out
            out += chr(page[run.exit.io.data_offset])
        elif run.exit_reason == 5:                                  # KVM_EXIT_HLT
            break
        else:
            raise OSError(f"unexpected exit {EXIT_REASONS.get(run.exit_reason)}")
    del run
    for fd in (vcpu, vm, kvm):
        os.close(fd)
    return out


def run_or_reference(guest: Guest, **options) -> GuestRun:
    """:func:`run_guest`, or — where it cannot run — the reference run of that guest.

    The reference result keeps ``missing`` (why it is not measured here) and
    carries ``recorded`` (where it was recorded); timings are not stored.

    Examples
    --------
    >>> from virtlab.host.guests import HELLO
    >>> run_or_reference(HELLO).exit_counts()
    {'IO': 6, 'MMIO': 2, 'HLT': 1}
    """
    live = run_guest(guest, **options)
    if live.available:
        return live
    ref = reference_run()["kvm"]["guests"].get(guest.name)
    if ref is None:
        return live
    return GuestRun(guest.name, exits=tuple(ExitEvent(r) for r in ref["reasons"]),
                    output=ref["output"], regs=dict(ref["regs"]), stats=dict(ref["stats"]),
                    instructions=guest.instructions, missing=live.missing,
                    recorded=recorded_elsewhere())
