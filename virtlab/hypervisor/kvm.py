"""Case study KVM (*Fallbeispiel KVM*): a ``/dev/kvm``-like API and a QEMU-like VMM.

KVM is a module of the Linux kernel, so Linux *is* the hypervisor; a normal
user process (QEMU) creates a VM through the special device ``/dev/kvm`` and
handles the I/O exits of its guest in user space.  This module follows the
real API, ``Documentation/virt/kvm/api.rst`` and ``include/uapi/linux/kvm.h``
in torvalds/linux (facts.md §10):

1. ``fd = proc.open("/dev/kvm")``
2. ``fd.ioctl(KVM_GET_API_VERSION)`` returns **12**; anything else is refused.
3. ``vm = fd.ioctl(KVM_CREATE_VM, 0)`` — a VM fd with no vCPUs and no memory.
4. ``vm.ioctl(KVM_SET_USER_MEMORY_REGION, UserMemoryRegion(slot, flags,
   guest_phys_addr, memory_size, userspace_addr))`` — slots must not overlap,
   size 0 deletes a slot, a slot cannot be resized.
5. ``vcpu = vm.ioctl(KVM_CREATE_VCPU, 0)``
6. ``run = proc.mmap(vcpu, fd.ioctl(KVM_GET_VCPU_MMAP_SIZE))`` — the shared
   ``struct kvm_run``.
7. ``vcpu.ioctl(KVM_RUN)``, then read ``run.exit_reason`` (``KVM_EXIT_IO`` 2,
   ``KVM_EXIT_HLT`` 5, ``KVM_EXIT_MMIO`` 6, ...).  An IO or MMIO exit is
   completed on the next ``KVM_RUN`` (for a read, user space first stores the
   value in ``run.data``/``run.mmio.data``).

:class:`QemuProcess` is the user-space half: it does the steps above and runs
the classic loop (``while True: KVM_RUN; switch (exit_reason) ...``) with a
serial port (16550-like, port 0x3F8: the guest's output ends up in
``serial.output``) and an MMIO device (a tick counter / LED register).

Model conventions (where virtlab simplifies):

* Guest code runs on :mod:`virtlab.cpu` in hardware-assisted mode (VMX
  non-root, guest kernel in ring 0).  virtlab programs keep their code apart
  from data memory (:class:`virtlab.asm.Program`), so the *program* is handed
  to the vCPU with :meth:`VcpuFd.load_program` (real QEMU copies the kernel
  image into guest RAM); guest RAM for *data* comes from memory slots.
* The model CPU's memory is word-addressed: guest word address ``w`` is
  guest-physical byte address ``4*w``.  Slot sizes and addresses are in bytes
  and page aligned (4 KiB = 1024 words), as in the real API.
* Guest RAM is copied from the slots into the model CPU's memory at each
  ``KVM_RUN`` and back at each exit, so QEMU sees guest writes after every
  exit and vCPUs see each other's writes at KVM_RUN boundaries.  Accesses
  *above* the highest slot are MMIO; a hole *between* slots reads as zero
  (not detected as MMIO — keep devices above RAM, as :class:`QemuProcess` does).
* A ``KVM_RUN`` executes at most ``run_budget`` guest instructions; then it
  returns with ``KVM_EXIT_INTR`` as if a signal had kicked the vCPU (real
  QEMU uses signals for this), so a looping guest cannot hang the caller.
* Errors are exceptions: :class:`KvmError` (a ValueError) carries the errno
  name the real ioctl would set (``EINVAL``, ``EEXIST``, ``EBADF``, ...).

Examples
--------
>>> qemu = QemuProcess.boot('''
...     MOV EAX, 72        ; 'H'
...     OUT 0x3F8, EAX
...     MOV EAX, 105       ; 'i'
...     OUT 0x3F8, EAX
...     HLT
... ''')
>>> qemu.run()
'HLT'
>>> qemu.serial.output
'Hi'
>>> [e.reason for e in qemu.trace]
['IO', 'IO', 'HLT']
>>> hello = QemuProcess.boot(HELLO_GUEST); hello.run(), hello.serial.output
('HLT', 'Hello!')
>>> hello.exit_counts()
{'IO': 6, 'MMIO': 2, 'HLT': 1}
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

from ..asm import Program, assemble
from ..cpu import BlockCompiler, CPU, native_special, run_blocks
from ..errors import check_bool, check_int, check_str, check_type
from .vtx import VMCS, VMX, exit_for

__all__ = [
    "KVM_API_VERSION", "KVM_GET_API_VERSION", "KVM_CREATE_VM", "KVM_CHECK_EXTENSION",
    "KVM_GET_VCPU_MMAP_SIZE", "KVM_CREATE_VCPU", "KVM_SET_USER_MEMORY_REGION", "KVM_RUN",
    "KVM_GET_REGS", "KVM_SET_REGS", "KVM_GET_DIRTY_LOG", "KvmDirtyLog",
    "KVM_EXIT_UNKNOWN", "KVM_EXIT_EXCEPTION", "KVM_EXIT_IO", "KVM_EXIT_HYPERCALL",
    "KVM_EXIT_DEBUG", "KVM_EXIT_HLT", "KVM_EXIT_MMIO", "KVM_EXIT_IRQ_WINDOW_OPEN",
    "KVM_EXIT_SHUTDOWN", "KVM_EXIT_FAIL_ENTRY", "KVM_EXIT_INTR", "KVM_EXIT_INTERNAL_ERROR",
    "KVM_EXIT_SYSTEM_EVENT", "EXIT_REASONS", "KVM_EXIT_IO_IN", "KVM_EXIT_IO_OUT",
    "KVM_MEM_LOG_DIRTY_PAGES", "KVM_MEM_READONLY", "PAGE_SIZE",
    "KvmError", "UserMemoryRegion", "KvmRegs", "KvmRun", "IoExit", "MmioExit",
    "HostProcess", "KvmFd", "VmFd", "VcpuFd", "SerialPort", "MmioCounter", "ExitRecord",
    "QemuProcess", "HELLO_GUEST",
]

#: A small guest for the case study: prints "Hello!" on the serial port (one
#: KVM_EXIT_IO per character), reads the MMIO tick counter at guest-physical
#: 0x100000 (word 0x40000) and writes it to the LED register, then halts.
HELLO_GUEST = """\
        .word 0x100, 72, 101, 108, 108, 111, 33, 0   ; "Hello!" at word 0x100
        MOV ESI, 0x100
next:   MOV EAX, [ESI]
        CMP EAX, 0
        JZ done
        OUT 0x3F8, EAX      ; serial port: KVM_EXIT_IO
        ADD ESI, 1
        JMP next
done:   MOV EBX, [0x40000]  ; MMIO read of word 0x40000 = byte 0x100000
        MOV [0x40001], EBX  ; MMIO write of word 0x40001 = byte 0x100004
        HLT                 ; KVM_EXIT_HLT
"""

# -- constants from include/uapi/linux/kvm.h -----------------------------------

#: The only API version this model (and every Linux since 2.6.22) speaks.
KVM_API_VERSION = 12

_KVMIO = 0xAE


def _io(nr: int) -> int:
    return (_KVMIO << 8) | nr


def _iow(nr: int, size: int) -> int:
    return (1 << 30) | (size << 16) | (_KVMIO << 8) | nr


def _ior(nr: int, size: int) -> int:
    return (2 << 30) | (size << 16) | (_KVMIO << 8) | nr


#: ioctl request numbers, computed like the kernel's _IO/_IOW/_IOR macros.
KVM_GET_API_VERSION = _io(0x00)
KVM_CREATE_VM = _io(0x01)
KVM_CHECK_EXTENSION = _io(0x03)
KVM_GET_VCPU_MMAP_SIZE = _io(0x04)
KVM_CREATE_VCPU = _io(0x41)
KVM_SET_USER_MEMORY_REGION = _iow(0x46, 32)  # struct kvm_userspace_memory_region
KVM_RUN = _io(0x80)
KVM_GET_DIRTY_LOG = _iow(0x42, 16)             # struct kvm_dirty_log
KVM_GET_REGS = _ior(0x81, 144)               # struct kvm_regs (x86: 18 x u64)
KVM_SET_REGS = _iow(0x82, 144)

#: Exit reasons (facts.md §10).
KVM_EXIT_UNKNOWN = 0
KVM_EXIT_EXCEPTION = 1
KVM_EXIT_IO = 2
KVM_EXIT_HYPERCALL = 3
KVM_EXIT_DEBUG = 4
KVM_EXIT_HLT = 5
KVM_EXIT_MMIO = 6
KVM_EXIT_IRQ_WINDOW_OPEN = 7
KVM_EXIT_SHUTDOWN = 8
KVM_EXIT_FAIL_ENTRY = 9
KVM_EXIT_INTR = 10
KVM_EXIT_INTERNAL_ERROR = 17
KVM_EXIT_SYSTEM_EVENT = 24

#: Exit reason code -> name (without the KVM_EXIT_ prefix).
EXIT_REASONS = {0: "UNKNOWN", 1: "EXCEPTION", 2: "IO", 3: "HYPERCALL", 4: "DEBUG",
                5: "HLT", 6: "MMIO", 7: "IRQ_WINDOW_OPEN", 8: "SHUTDOWN",
                9: "FAIL_ENTRY", 10: "INTR", 17: "INTERNAL_ERROR", 24: "SYSTEM_EVENT"}

KVM_EXIT_IO_IN = 0
KVM_EXIT_IO_OUT = 1

KVM_MEM_LOG_DIRTY_PAGES = 1 << 0
KVM_MEM_READONLY = 1 << 1

KVM_CAP_USER_MEMORY = 3
KVM_CAP_NR_VCPUS = 9
KVM_CAP_NR_MEMSLOTS = 10
KVM_CAP_MAX_VCPUS = 66

PAGE_SIZE = 4096
#: Model limits (real kernels have more slots and vCPUs).
MAX_MEMSLOTS = 32
MAX_VCPUS = 8
#: Size of the mmap'd vCPU area: page 0 holds struct kvm_run, page 1 the PIO data.
VCPU_MMAP_SIZE = 2 * PAGE_SIZE
_PIO_DATA_OFFSET = PAGE_SIZE
_U64 = (1 << 64) - 1


class KvmError(ValueError):
    """A failed KVM ioctl: ``errno`` is the name the real call would set.

    Examples
    --------
    >>> e = KvmError("EINVAL", "memory_size must be page aligned")
    >>> e.errno, str(e)
    ('EINVAL', 'EINVAL: memory_size must be page aligned')
    """

    def __init__(self, errno: str, message: str):
        super().__init__(f"{errno}: {message}")
        self.errno = errno


# -- ioctl argument structures ---------------------------------------------------

@dataclass(frozen=True)
class UserMemoryRegion:
    """``struct kvm_userspace_memory_region``.

    Parameters
    ----------
    slot : int
        Slot id, ``0 <= slot < 32`` in this model.
    flags : int
        ``KVM_MEM_LOG_DIRTY_PAGES`` (keep a dirty log, see ``KVM_GET_DIRTY_LOG``) or 0;
        ``KVM_MEM_READONLY`` is refused (EINVAL) by this model.
    guest_phys_addr : int
        Guest-physical start address in bytes, page aligned.
    memory_size : int
        Bytes, a multiple of the page size; 0 deletes the slot.
    userspace_addr : int
        Start of the backing memory in the VMM process (from
        :meth:`HostProcess.mmap_anonymous`), page aligned.

    Examples
    --------
    >>> UserMemoryRegion(0, 0, 0, 4096, 0x7f0000000000).memory_size
    4096
    """

    slot: int
    flags: int
    guest_phys_addr: int
    memory_size: int
    userspace_addr: int


@dataclass
class KvmDirtyLog:
    """``struct kvm_dirty_log``: which pages of a slot the guest wrote.

    ``KVM_GET_DIRTY_LOG`` fills ``dirty_bitmap`` (one bit per 4 KiB page of
    the slot, bit ``i % 8`` of byte ``i // 8``) with the pages written since
    the last call and clears the log — the primitive of pre-copy live
    migration (Clark et al. 2005).  Only slots created with
    ``KVM_MEM_LOG_DIRTY_PAGES`` keep a log.  Model simplification: a page
    counts as dirty when its *content* changed during a KVM_RUN; real KVM
    logs every write (write protection or page-modification logging), even
    one that stores the value already there.

    Examples
    --------
    >>> KvmDirtyLog(0).pages()
    []
    """

    slot: int
    dirty_bitmap: bytearray = field(default_factory=bytearray)

    def pages(self) -> list[int]:
        """Indices of the dirty pages in the bitmap."""
        return [i for i in range(8 * len(self.dirty_bitmap))
                if self.dirty_bitmap[i // 8] >> (i % 8) & 1]


@dataclass
class KvmRegs:
    """``struct kvm_regs`` (x86) as far as the 32-bit model CPU has them.

    ``rax`` ... ``rdi`` map to EAX ... EDI, ``rip`` to the program counter
    (an instruction index), ``rflags`` bit 9 to IF.  Values are masked to 32
    bits when they reach the model CPU.

    Examples
    --------
    >>> KvmRegs(rip=3).rip
    3
    """

    rax: int = 0
    rbx: int = 0
    rcx: int = 0
    rdx: int = 0
    rsi: int = 0
    rdi: int = 0
    rsp: int = 0
    rbp: int = 0
    rip: int = 0
    rflags: int = 0x2


@dataclass
class IoExit:
    """``kvm_run.io``: direction (IN 0 / OUT 1), size, port, count, data_offset.

    Examples
    --------
    >>> IoExit(direction=KVM_EXIT_IO_OUT, size=1, port=0x3F8, count=1).port
    1016
    """

    direction: int = 0
    size: int = 0
    port: int = 0
    count: int = 0
    data_offset: int = _PIO_DATA_OFFSET


@dataclass
class MmioExit:
    """``kvm_run.mmio``: phys_addr, data[8], len, is_write.

    Examples
    --------
    >>> len(MmioExit().data)
    8
    """

    phys_addr: int = 0
    data: bytearray = field(default_factory=lambda: bytearray(8))
    len: int = 0
    is_write: int = 0


class KvmRun:
    """The shared ``struct kvm_run`` a VMM gets by mmap-ing a vCPU fd.

    Attributes
    ----------
    exit_reason : int
        ``KVM_EXIT_*`` code of the last exit.
    immediate_exit : int
        If set, the next ``KVM_RUN`` returns at once with EINTR.
    io : IoExit
    mmio : MmioExit
    internal_suberror : int
    mem : bytearray
        The whole mapped area; PIO data lives at ``io.data_offset``.

    Examples
    --------
    >>> run = KvmRun(8192)
    >>> run.exit_reason, len(run.mem)
    (0, 8192)
    """

    def __init__(self, size: int):
        check_int("size", size, minimum=VCPU_MMAP_SIZE, maximum=1 << 20)
        self.mem = bytearray(size)
        self.exit_reason = KVM_EXIT_UNKNOWN
        self.immediate_exit = 0
        self.io = IoExit()
        self.mmio = MmioExit()
        self.internal_suberror = 0
        self.if_flag = 0

    @property
    def reason_name(self) -> str:
        """Name of the exit reason (``"IO"``, ``"HLT"``, ...)."""
        return EXIT_REASONS.get(self.exit_reason, str(self.exit_reason))

    def pio_data(self) -> bytearray:
        """The bytes of the current IO exit (``size * count`` at ``data_offset``).

        Examples
        --------
        >>> run = KvmRun(8192); run.io.size = 1; run.io.count = 1
        >>> run.pio_data()
        bytearray(b'\\x00')
        """
        n = self.io.size * self.io.count
        return self.mem[self.io.data_offset:self.io.data_offset + n]

    def set_pio_data(self, data: bytes) -> None:
        """Store the answer to an IO IN before the next KVM_RUN.

        Examples
        --------
        >>> run = KvmRun(8192); run.io.size = 1; run.io.count = 2
        >>> run.set_pio_data(b"ok"); bytes(run.pio_data())
        b'ok'
        """
        check_type("data", data, (bytes, bytearray))
        n = self.io.size * self.io.count
        if len(data) != n:
            raise ValueError(f"data must be size*count = {n} bytes, got {len(data)}")
        self.mem[self.io.data_offset:self.io.data_offset + n] = data


# -- the host side: a process with an address space, /dev/kvm ------------------

class HostProcess:
    """A user process on the Linux host (QEMU's address space and fd table).

    Examples
    --------
    >>> p = HostProcess()
    >>> a = p.mmap_anonymous(8192)
    >>> p.write(a + 4, b"hi"); bytes(p.read(a + 4, 2))
    b'hi'
    >>> p.open("/dev/kvm").ioctl(KVM_GET_API_VERSION)
    12
    """

    _BASE = 0x7F00_0000_0000

    def __init__(self, api_version: int = KVM_API_VERSION):
        # api_version lets tests model an incompatible kernel
        self._api_version = check_int("api_version", api_version, minimum=0,
                                      maximum=1 << 31)
        self._maps: dict[int, bytearray] = {}
        self._next = self._BASE

    # memory
    def mmap_anonymous(self, size: int) -> int:
        """Map ``size`` bytes of zeroed memory (page aligned); return the address."""
        check_int("size", size, minimum=1, maximum=1 << 30)
        pages = -(-size // PAGE_SIZE)
        addr = self._next
        self._maps[addr] = bytearray(pages * PAGE_SIZE)
        self._next += (pages + 1) * PAGE_SIZE  # leave a guard page
        return addr

    def _locate(self, addr: int, size: int) -> tuple[bytearray, int]:
        for base, buf in self._maps.items():
            if base <= addr and addr + size <= base + len(buf):
                return buf, addr - base
        raise KvmError("EFAULT", f"address {addr:#x}+{size} is not mapped in the process")

    def read(self, addr: int, size: int) -> bytearray:
        """Bytes at a process address."""
        check_int("addr", addr, minimum=0, maximum=_U64)
        check_int("size", size, minimum=0, maximum=1 << 30)
        buf, off = self._locate(addr, size)
        return buf[off:off + size]

    def write(self, addr: int, data: bytes) -> None:
        """Store bytes at a process address."""
        check_int("addr", addr, minimum=0, maximum=_U64)
        check_type("data", data, (bytes, bytearray))
        buf, off = self._locate(addr, len(data))
        buf[off:off + len(data)] = data

    # files
    def open(self, path: str) -> KvmFd:
        """``open(path)``; only ``/dev/kvm`` exists in this model."""
        check_str("path", path)
        if path != "/dev/kvm":
            raise KvmError("ENOENT", f"path {path!r}: no such device (only /dev/kvm)")
        return KvmFd(self)

    def mmap(self, fd: VcpuFd, length: int) -> KvmRun:
        """``mmap`` a vCPU fd: the shared ``struct kvm_run``."""
        check_type("fd", fd, VcpuFd)
        fd._check_open()
        check_int("length", length, minimum=1, maximum=1 << 20)
        if length < VCPU_MMAP_SIZE:
            raise KvmError("EINVAL", f"length must be at least KVM_GET_VCPU_MMAP_SIZE "
                                     f"= {VCPU_MMAP_SIZE}, got {length}")
        if fd._run is None:
            fd._run = KvmRun(VCPU_MMAP_SIZE)
        return fd._run


class _Fd:
    def __init__(self):
        self.closed = False

    def _check_open(self):
        if self.closed:
            raise KvmError("EBADF", f"{type(self).__name__} is closed")

    def close(self) -> None:
        """``close(fd)``."""
        self.closed = True

    def ioctl(self, request: int, arg: Any = 0) -> Any:
        """Issue an ioctl on this fd (see the module docstring for the sequence)."""
        self._check_open()
        check_int("request", request, minimum=0, maximum=(1 << 32) - 1)
        handler = self._handlers().get(request)
        if handler is None:
            raise KvmError("ENOTTY", f"request {request:#x} is not valid on "
                                     f"{type(self).__name__}")
        return handler(arg)

    def _handlers(self) -> dict:
        return {}


class KvmFd(_Fd):
    """The system fd from ``open("/dev/kvm")``.

    Examples
    --------
    >>> fd = HostProcess().open("/dev/kvm")
    >>> fd.ioctl(KVM_GET_VCPU_MMAP_SIZE)
    8192
    >>> try:
    ...     fd.ioctl(KVM_CREATE_VM, 1)
    ... except KvmError as e:
    ...     print(e)
    EINVAL: machine type (arg) must be 0, got 1
    """

    def __init__(self, process: HostProcess):
        super().__init__()
        self.process = process

    def _handlers(self):
        return {KVM_GET_API_VERSION: self._api_version, KVM_CREATE_VM: self._create_vm,
                KVM_GET_VCPU_MMAP_SIZE: lambda arg: VCPU_MMAP_SIZE,
                KVM_CHECK_EXTENSION: self._check_extension}

    def _api_version(self, arg):
        return self.process._api_version

    def _create_vm(self, arg):
        check_int("arg", arg, minimum=0, maximum=(1 << 32) - 1)
        if arg != 0:
            raise KvmError("EINVAL", f"machine type (arg) must be 0, got {arg}")
        return VmFd(self.process)

    def _check_extension(self, arg):
        check_int("arg", arg, minimum=0, maximum=(1 << 32) - 1)
        return {KVM_CAP_USER_MEMORY: 1, KVM_CAP_NR_VCPUS: MAX_VCPUS,
                KVM_CAP_MAX_VCPUS: MAX_VCPUS, KVM_CAP_NR_MEMSLOTS: MAX_MEMSLOTS}.get(arg, 0)


class VmFd(_Fd):
    """A VM fd from ``KVM_CREATE_VM``: memory slots and vCPUs.

    Examples
    --------
    >>> p = HostProcess(); vm = p.open("/dev/kvm").ioctl(KVM_CREATE_VM, 0)
    >>> a = p.mmap_anonymous(8192)
    >>> vm.ioctl(KVM_SET_USER_MEMORY_REGION, UserMemoryRegion(0, 0, 0, 8192, a))
    0
    >>> try:
    ...     vm.ioctl(KVM_SET_USER_MEMORY_REGION, UserMemoryRegion(1, 0, 4096, 4096, a))
    ... except KvmError as e:
    ...     print(e)
    EEXIST: slot 1 [0x1000, 0x2000) overlaps slot 0 [0x0, 0x2000)
    """

    def __init__(self, process: HostProcess):
        super().__init__()
        self.process = process
        self.slots: dict[int, UserMemoryRegion] = {}
        self.vcpus: dict[int, VcpuFd] = {}
        self._dirty: dict[int, set[int]] = {}

    def _handlers(self):
        return {KVM_SET_USER_MEMORY_REGION: self._set_region,
                KVM_CREATE_VCPU: self._create_vcpu,
                KVM_GET_DIRTY_LOG: self._get_dirty_log,
                KVM_CHECK_EXTENSION: KvmFd(self.process)._check_extension}

    def _set_region(self, region):
        check_type("arg", region, UserMemoryRegion)
        slot = check_int("slot", region.slot, minimum=0, maximum=(1 << 32) - 1)
        flags = check_int("flags", region.flags, minimum=0, maximum=(1 << 32) - 1)
        gpa = check_int("guest_phys_addr", region.guest_phys_addr, minimum=0, maximum=_U64)
        size = check_int("memory_size", region.memory_size, minimum=0, maximum=_U64)
        uaddr = check_int("userspace_addr", region.userspace_addr, minimum=0, maximum=_U64)
        if slot >= MAX_MEMSLOTS:
            raise KvmError("EINVAL", f"slot must be < {MAX_MEMSLOTS}, got {slot}")
        if flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY):
            raise KvmError("EINVAL", f"flags has unknown bits: {flags:#x}")
        if flags & KVM_MEM_READONLY:
            # Real KVM turns guest writes to a read-only slot into MMIO exits; the
            # model cannot see single writes to RAM, so it refuses the flag (as a
            # kernel without KVM_CAP_READONLY_MEM does) instead of dropping writes.
            raise KvmError("EINVAL", "flags: KVM_MEM_READONLY is not supported by this "
                                     "model (no KVM_CAP_READONLY_MEM)")
        for name, v in (("memory_size", size), ("guest_phys_addr", gpa),
                        ("userspace_addr", uaddr)):
            if v % PAGE_SIZE:
                raise KvmError("EINVAL", f"{name} must be page aligned "
                                         f"({PAGE_SIZE}), got {v:#x}")
        if gpa + size > (1 << 22):
            raise KvmError("EINVAL", "guest_phys_addr + memory_size must fit the model "
                                     f"CPU's 4 MiB guest-physical space, got {gpa + size:#x}")
        old = self.slots.get(slot)
        if size == 0:
            if old is None:
                raise KvmError("EINVAL", f"slot {slot} does not exist (cannot delete)")
            del self.slots[slot]
            self._dirty.pop(slot, None)
            return 0
        if old is not None:
            if old.memory_size != size:
                raise KvmError("EINVAL", f"slot {slot} cannot be resized "
                                         f"({old.memory_size:#x} -> {size:#x}); delete it "
                                         "first")
            if old.userspace_addr != uaddr:
                raise KvmError("EINVAL", f"slot {slot}: userspace_addr cannot change")
        for other_id, other in self.slots.items():
            if other_id == slot:
                continue
            if gpa < other.guest_phys_addr + other.memory_size and \
                    other.guest_phys_addr < gpa + size:
                raise KvmError(
                    "EEXIST",
                    f"slot {slot} [{gpa:#x}, {gpa + size:#x}) overlaps slot {other_id} "
                    f"[{other.guest_phys_addr:#x}, "
                    f"{other.guest_phys_addr + other.memory_size:#x})")
        self.process._locate(uaddr, size)  # EFAULT if not mapped
        self.slots[slot] = region
        return 0

    def _get_dirty_log(self, log):
        check_type("arg", log, KvmDirtyLog)
        slot = check_int("slot", log.slot, minimum=0, maximum=(1 << 32) - 1)
        region = self.slots.get(slot)
        if region is None or not region.flags & KVM_MEM_LOG_DIRTY_PAGES:
            raise KvmError("ENOENT", f"slot {slot} does not exist or has no dirty log "
                                     "(KVM_MEM_LOG_DIRTY_PAGES)")
        npages = region.memory_size // PAGE_SIZE
        bitmap = bytearray((npages + 7) // 8)
        for page in self._dirty.pop(slot, set()):
            bitmap[page // 8] |= 1 << (page % 8)
        log.dirty_bitmap = bitmap
        return 0

    def _create_vcpu(self, arg):
        vid = check_int("arg", arg, minimum=0, maximum=(1 << 32) - 1)
        if vid >= MAX_VCPUS:
            raise KvmError("EINVAL", f"vcpu id (arg) must be < {MAX_VCPUS}, got {vid}")
        if vid in self.vcpus:
            raise KvmError("EEXIST", f"vcpu {vid} already exists")
        fd = VcpuFd(self, vid)
        self.vcpus[vid] = fd
        return fd

    # guest-physical memory, used by the vCPU
    def translate(self, gpa: int, size: int = 4) -> tuple[bytearray, int, bool] | None:
        """Backing buffer, offset and read-only flag of a guest-physical range.

        None if no slot covers it (an access there is MMIO).
        """
        for region in self.slots.values():
            if region.guest_phys_addr <= gpa and \
                    gpa + size <= region.guest_phys_addr + region.memory_size:
                buf, off = self.process._locate(region.userspace_addr, region.memory_size)
                return buf, off + gpa - region.guest_phys_addr, bool(
                    region.flags & KVM_MEM_READONLY)
        return None


class VcpuFd(_Fd):
    """A vCPU fd from ``KVM_CREATE_VCPU``: ``KVM_RUN``, ``KVM_GET_REGS``/``SET_REGS``.

    ``KVM_RUN`` enters the guest (VMX non-root) and runs it on the model CPU
    with compiled blocks (:class:`virtlab.cpu.BlockCompiler`: guest code
    executes directly) until an exit user space must handle:

    * ``IN``/``OUT`` → ``KVM_EXIT_IO`` (the data byte(s) are in the mmap'd
      area at ``run.io.data_offset``; an IN completes on the next KVM_RUN);
    * a load/store to a guest-physical address outside every memory slot →
      ``KVM_EXIT_MMIO`` (KVM decodes the faulting ``MOV``; a load completes on
      the next KVM_RUN with ``run.mmio.data``); other instructions touching
      MMIO → ``KVM_EXIT_INTERNAL_ERROR`` (emulation failure, suberror 1);
    * ``HLT`` → ``KVM_EXIT_HLT``; a triple fault → ``KVM_EXIT_SHUTDOWN``;
    * after ``run_budget`` instructions → ``KVM_EXIT_INTR`` and the ioctl
      returns ``-EINTR`` (-4), as if a signal kicked the vCPU.

    Underneath, every vCPU has a VMCS and the VMX state machine of
    :mod:`virtlab.hypervisor.vtx`: ``KVM_CREATE_VCPU`` does VMXON, VMCLEAR,
    VMPTRLD and writes the host state; the first ``KVM_RUN`` enters with
    VMLAUNCH, later ones with VMRESUME; every exit is a real VM exit with an
    SDM exit reason (``IO_INSTRUCTION`` 30, ``HLT`` 12, ``EPT_VIOLATION`` 48
    for MMIO, ``EXTERNAL_INTERRUPT`` 1 when the budget runs out,
    ``TRIPLE_FAULT`` 2).  Which instructions exit is decided by
    :func:`virtlab.hypervisor.vtx.exit_for` with the VMCS controls (EPT on).
    Exits KVM can handle itself — ``VMCALL`` (unknown hypercall numbers return
    ``-KVM_ENOSYS`` = -1000 in EAX, as ``kvm_emulate_hypercall`` does),
    ``RDMSR``/``WRMSR``, CR0/CR4 writes — are handled in the kernel and the
    guest is resumed at once: **not every VM exit reaches user space**.
    Other sensitive instructions of the guest kernel act on the guest's own
    state (no exit).

    Examples
    --------
    >>> q = QemuProcess.boot("WRMSR\\nHLT")
    >>> q.run(), q.vcpu.exits, q.vcpu.vm_exits
    ('HLT', {'HLT': 1}, {'WRMSR': 1, 'HLT': 1})

    Attributes
    ----------
    instructions : int
        Guest instructions retired so far.
    exits : dict of str to int
        Exits to user space per KVM reason (``"IO"``, ``"MMIO"``, ...).
    vm_exits : dict of str to int
        All VM exits per SDM reason, including those handled in the kernel.
    in_kernel_exits : int
        VM exits KVM handled without returning to user space.
    vmx, vmcs : virtlab.hypervisor.vtx.VMX, VMCS
    """

    def __init__(self, vm: VmFd, vcpu_id: int):
        super().__init__()
        self.vm = vm
        self.id = vcpu_id
        self._run: KvmRun | None = None
        self.run_budget = 100_000
        self.program = None
        self._cpu = None
        self._compiler = None
        self._words = 0
        self._exit: tuple | None = None
        self._pending: tuple | None = None
        self.exits: dict[str, int] = {}
        self.vm_exits: dict[str, int] = {}
        self.in_kernel_exits = 0
        self.vmx = VMX()
        self.vmcs = VMCS()
        self.vmx.vmxon()
        self.vmx.vmclear(self.vmcs)
        self.vmx.vmptrld(self.vmcs)
        self.vmx.vmwrite("host", "rip", "vmx_vmexit")   # KVM's exit entry point
        self.vmx.vmwrite("host", "rsp", "kvm vCPU thread kernel stack")

    @property
    def instructions(self) -> int:
        """Guest instructions retired so far."""
        return 0 if self._cpu is None else self._cpu.icount

    def _handlers(self):
        return {KVM_RUN: self._kvm_run, KVM_GET_REGS: self._get_regs,
                KVM_SET_REGS: self._set_regs}

    def load_program(self, program: Any) -> None:
        """Give the vCPU its guest code (virtlab keeps code apart from data RAM).

        The guest kernel starts in ring 0 of VMX non-root mode at the
        program's entry point, with IF = 0.
        """
        self._check_open()
        check_type("program", program, Program)
        self.program = program
        self._cpu = None
        self._compiler = None   # compiled blocks belong to the old program
        self._pending = None

    # -- registers -----------------------------------------------------------
    def _ensure_cpu(self) -> None:
        words = self._ram_words()
        if self._cpu is None:
            self._cpu = _KvmCpu(self.program, words)
        elif words != self._words:
            c = self._cpu
            if words > len(c.mem):
                c.mem.extend([0] * (words - len(c.mem)))
            else:
                del c.mem[words:]
            c.memory_words = words
            if hasattr(c, "wp"):
                c.wp = bytearray(words)
        if words != self._words or self._compiler is None:
            kw = {"wp": self._cpu.wp} if hasattr(self._cpu, "wp") else {}
            self._compiler = BlockCompiler(self.program, self._special, words, **kw)
            self._words = words

    def _ram_words(self) -> int:
        end = max((r.guest_phys_addr + r.memory_size for r in self.vm.slots.values()),
                  default=0)
        return max(16, end // 4)

    def _get_regs(self, arg):
        if self.program is None:
            return KvmRegs()
        self._ensure_cpu()
        c = self._cpu
        r = c.regs
        flags = c.flags_word(c.real)
        return KvmRegs(rax=r[0], rcx=r[1], rdx=r[2], rbx=r[3], rsp=r[4], rbp=r[5],
                       rsi=r[6], rdi=r[7], rip=c.pc, rflags=flags)

    def _set_regs(self, regs):
        check_type("arg", regs, KvmRegs)
        if self.program is None:
            raise KvmError("EINVAL", "load_program first: the vCPU has no guest code")
        for name in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "rip",
                     "rflags"):
            check_int(name, getattr(regs, name), minimum=0, maximum=_U64)
        if regs.rip >= len(self.program):
            raise KvmError("EINVAL", f"rip must be a code address < {len(self.program)}, "
                                     f"got {regs.rip}")
        self._ensure_cpu()
        c = self._cpu
        m = 0xFFFFFFFF
        c.regs[:] = [regs.rax & m, regs.rcx & m, regs.rdx & m, regs.rbx & m,
                     regs.rsp & m, regs.rbp & m, regs.rsi & m, regs.rdi & m]
        c.pc = regs.rip
        c.real.if_ = bool(regs.rflags & 0x200)
        c.cf, c.zf = regs.rflags & 1, (regs.rflags >> 6) & 1
        c.sf, c.of = (regs.rflags >> 7) & 1, (regs.rflags >> 11) & 1
        return 0

    # -- guest memory sync (slots <-> the model CPU's word memory) ------------
    def _load_ram(self) -> None:
        c = self._cpu
        mem = c.mem
        covered = [False] * len(mem)
        for r in self.vm.slots.values():
            buf, off = self.vm.process._locate(r.userspace_addr, r.memory_size)
            w0 = r.guest_phys_addr // 4
            words = memoryview(buf)[off:off + r.memory_size].cast("I")
            mem[w0:w0 + len(words)] = words.tolist()
            covered[w0:w0 + len(words)] = [True] * len(words)
        for i, ok in enumerate(covered):
            if not ok:
                mem[i] = 0

    def _store_ram(self) -> None:
        c = self._cpu
        for slot_id, r in self.vm.slots.items():
            if r.flags & KVM_MEM_READONLY:
                continue
            buf, off = self.vm.process._locate(r.userspace_addr, r.memory_size)
            w0 = r.guest_phys_addr // 4
            n = r.memory_size // 4
            new = array("I", c.mem[w0:w0 + n])
            view = memoryview(buf)[off:off + r.memory_size]
            if r.flags & KVM_MEM_LOG_DIRTY_PAGES:
                old, fresh = view.tobytes(), new.tobytes()
                dirty = self.vm._dirty.setdefault(slot_id, set())
                for page in range(r.memory_size // PAGE_SIZE):
                    a = page * PAGE_SIZE
                    if old[a:a + PAGE_SIZE] != fresh[a:a + PAGE_SIZE]:
                        dirty.add(page)
            view.cast("I")[:] = new

    # -- the special-instruction handler: what exits in VMX non-root mode ----
    def _special(self, c, ins, pc):
        ex = exit_for(ins, self.vmcs.controls, c.real.cpl)
        if ex is None:
            return native_special(c, ins, pc)  # runs on guest state (or #GP in guest)
        reason, qual = ex
        mn = ins.mnemonic
        if reason == "IO_INSTRUCTION":
            if mn == "OUT":
                port, value = ins.operands[0][1] & 0xFFFF, c.regs[ins.operands[1][1]]
                self._exit = ("IO", KVM_EXIT_IO_OUT, port, value, None)
            else:
                port = ins.operands[1][1] & 0xFFFF
                self._exit = ("IO", KVM_EXIT_IO_IN, port, 0, ins.operands[0][1])
            self._vm_exit(reason, qual)
            c.pc = pc
            return -1
        if reason == "HLT":
            c.icount += 1
            self._exit = ("HLT",)
            self._vm_exit(reason, qual)
            c.pc = pc + 1
            return -1
        # handled inside kvm.ko: exit, emulate, resume at once
        self._vm_exit(reason, qual)
        self.in_kernel_exits += 1
        if mn == "VMCALL":
            c.regs[0] = (-1000) & 0xFFFFFFFF  # -KVM_ENOSYS: no hypercalls in this model
            c.icount += 1
            npc = pc + 1
        else:
            npc = native_special(c, ins, pc)
        self.vmx.vmresume()
        return npc

    def _vm_exit(self, reason: str, qual: dict) -> None:
        self.vmx.vm_exit(reason, qual)
        self.vm_exits[reason] = self.vm_exits.get(reason, 0) + 1
        c = self._cpu
        self.vmcs.guest.update({"rip": c.pc, "rsp": c.regs[4],
                                "rflags": c.flags_word(c.real)})

    # -- KVM_RUN ---------------------------------------------------------------
    def _kvm_run(self, arg):
        if self._run is None:
            self._run = KvmRun(VCPU_MMAP_SIZE)
        run = self._run
        if run.immediate_exit:
            run.exit_reason = KVM_EXIT_INTR
            raise KvmError("EINTR", "immediate_exit was set: KVM_RUN returned at once")
        if self.program is None:
            run.exit_reason = KVM_EXIT_FAIL_ENTRY
            return 0
        if not self.vm.slots:
            run.exit_reason = KVM_EXIT_INTERNAL_ERROR
            run.internal_suberror = 1
            return 0
        self._ensure_cpu()
        c = self._cpu
        self._load_ram()
        self._complete_pending()
        if c.halted:
            c.halted = False  # resume after HLT (the next instruction)
        self._exit = None
        c.mmio_fault = None
        if self.vmcs.launched:
            self.vmx.vmresume()
        else:
            self.vmx.vmlaunch()
        run_blocks(c, self._compiler.cache, self._compiler.compile, self.run_budget)
        if self.vmx.mode == "non-root":  # left without an exit of ours: MMIO, fault, budget
            if c.mmio_fault is not None:
                pc, addr = c.mmio_fault
                self._vm_exit("EPT_VIOLATION", {"gpa": 4 * addr, "pc": pc})
            elif c.fault is not None:
                self._vm_exit("TRIPLE_FAULT", {})
            else:
                self._vm_exit("EXTERNAL_INTERRUPT", {"why": "host timer / signal kick"})
        self._store_ram()
        return self._report()

    def _complete_pending(self) -> None:
        c = self._cpu
        run = self._run
        p, self._pending = self._pending, None
        if p is None:
            return
        if p[0] == "IO_IN":
            size, reg = p[1], p[2]
            value = int.from_bytes(run.mem[run.io.data_offset:run.io.data_offset + size],
                                   "little")
            c.regs[reg] = value
            c.pc += 1
            c.icount += 1
        elif p[0] == "IO_OUT":
            c.pc += 1
            c.icount += 1
        elif p[0] == "MMIO_READ":
            c.regs[p[1]] = int.from_bytes(run.mmio.data[:4], "little")
            c.pc += 1
            c.icount += 1
        elif p[0] == "MMIO_WRITE":
            c.pc += 1
            c.icount += 1

    def _count(self, name: str) -> None:
        self.exits[name] = self.exits.get(name, 0) + 1

    def _report(self) -> int:
        c = self._cpu
        run = self._run
        run.if_flag = int(bool(c.real.if_))
        ex = self._exit
        if ex is not None and ex[0] == "IO":
            _, direction, port, value, reg = ex
            run.exit_reason = KVM_EXIT_IO
            run.io.direction, run.io.size, run.io.port = direction, 4, port
            run.io.count, run.io.data_offset = 1, _PIO_DATA_OFFSET
            if direction == KVM_EXIT_IO_OUT:
                run.mem[_PIO_DATA_OFFSET:_PIO_DATA_OFFSET + 4] = value.to_bytes(4, "little")
                self._pending = ("IO_OUT",)
            else:
                self._pending = ("IO_IN", 4, reg)
            self._count("IO")
            return 0
        if ex is not None and ex[0] == "HLT":
            run.exit_reason = KVM_EXIT_HLT
            self._count("HLT")
            return 0
        if c.mmio_fault is not None:
            pc, addr = c.mmio_fault
            c.pc = pc
            ins = self.program[pc]
            ops = ins.operands
            if ins.mnemonic == "MOV" and len(ops) == 2 and ops[1][0] == "m" and \
                    ops[0][0] == "r":
                run.exit_reason = KVM_EXIT_MMIO
                run.mmio.phys_addr, run.mmio.len, run.mmio.is_write = 4 * addr, 4, 0
                run.mmio.data[:] = bytes(8)
                self._pending = ("MMIO_READ", ops[0][1])
                self._count("MMIO")
                return 0
            if ins.mnemonic == "MOV" and len(ops) == 2 and ops[0][0] == "m" and \
                    ops[1][0] in ("r", "i"):
                value = c.regs[ops[1][1]] if ops[1][0] == "r" else ops[1][1] & 0xFFFFFFFF
                run.exit_reason = KVM_EXIT_MMIO
                run.mmio.phys_addr, run.mmio.len, run.mmio.is_write = 4 * addr, 4, 1
                run.mmio.data[:] = value.to_bytes(4, "little") + bytes(4)
                self._pending = ("MMIO_WRITE",)
                self._count("MMIO")
                return 0
            run.exit_reason = KVM_EXIT_INTERNAL_ERROR
            run.internal_suberror = 1  # KVM_INTERNAL_ERROR_EMULATION
            c.fault = f"cannot emulate {ins.text} on MMIO address {4 * addr:#x}"
            self._count("INTERNAL_ERROR")
            return 0
        if c.fault is not None:
            run.exit_reason = KVM_EXIT_SHUTDOWN  # e.g. triple fault
            self._count("SHUTDOWN")
            return 0
        if c.halted:
            run.exit_reason = KVM_EXIT_HLT
            self._count("HLT")
            return 0
        run.exit_reason = KVM_EXIT_INTR
        self._count("INTR")
        return -4  # -EINTR: the budget ran out, as if a signal kicked the vCPU


def _kvm_cpu_class():

    class KvmCpu(CPU):
        """The model CPU as KVM runs it: accesses beyond guest RAM are MMIO."""

        mmio_fault = None

        def memfault(self, pc: int, addr: int) -> int:
            self.mmio_fault = (pc, addr)
            self.pc = pc
            return -1

    return KvmCpu


def _KvmCpu(program, words):
    global _KVMCPU
    if _KVMCPU is None:
        _KVMCPU = _kvm_cpu_class()
    return _KVMCPU(program, isa="X86_VTX", memory_words=words)


_KVMCPU = None


# -- user space: devices and the QEMU-like run loop ------------------------------

class SerialPort:
    """A 16550-like UART at I/O port ``base`` (COM1 = 0x3F8), output only.

    * OUT to ``base`` (THR) appends the low byte as a character to :attr:`output`;
    * IN from ``base + 5`` (LSR) returns 0x20 (transmitter empty: ready);
    * other registers read 0 and ignore writes.

    Examples
    --------
    >>> s = SerialPort()
    >>> s.io(0x3F8, True, 1, 65); s.io(0x3FD, False, 1, 0)
    0
    32
    >>> s.output
    'A'
    """

    def __init__(self, base: int = 0x3F8):
        self.base = check_int("base", base, minimum=0, maximum=0xFFF8)
        self.output = ""

    def handles(self, port: int) -> bool:
        """True if ``port`` is one of the UART's 8 registers."""
        return self.base <= port < self.base + 8

    def io(self, port: int, is_write: bool, size: int, value: int) -> int:
        """One access; returns the value read (0 for writes)."""
        if is_write:
            if port == self.base:
                self.output += chr(value & 0xFF)
            return 0
        return 0x20 if port == self.base + 5 else 0


class MmioCounter:
    """An MMIO device: a free-running tick counter and an LED register.

    Mapped at guest-physical ``base`` (outside every memory slot, so guest
    accesses exit with ``KVM_EXIT_MMIO``).  Register 0 (``base``) reads the
    number of reads so far (a counter); register 1 (``base + 4``) is an LED
    register: writes are recorded in :attr:`leds`.

    Examples
    --------
    >>> d = MmioCounter(0x100000)
    >>> d.mmio(0x100000, False, 4, 0), d.mmio(0x100000, False, 4, 0)
    (1, 2)
    >>> d.mmio(0x100004, True, 4, 5); d.leds
    0
    [5]
    """

    def __init__(self, base: int = 0x100000):
        self.base = check_int("base", base, minimum=0, maximum=(1 << 32) - 8)
        self.ticks = 0
        self.leds: list[int] = []

    def handles(self, addr: int) -> bool:
        """True if ``addr`` is one of the device's two registers."""
        return self.base <= addr < self.base + 8

    def mmio(self, addr: int, is_write: bool, size: int, value: int) -> int:
        """One access; returns the value read (0 for writes)."""
        if addr - self.base >= 4:
            if is_write:
                self.leds.append(value)
            return self.leds[-1] if (self.leds and not is_write) else 0
        if is_write:
            return 0
        self.ticks += 1
        return self.ticks


@dataclass(frozen=True)
class ExitRecord:
    """One exit as QEMU saw it (for traces and the run-loop picture).

    Attributes
    ----------
    reason : str
        ``"IO"``, ``"MMIO"``, ``"HLT"``, ``"INTR"``, ...
    detail : str
        Short human-readable text (``"OUT 0x3f8 'H'"``).
    guest_instructions : int
        Guest instructions retired by the vCPU when the exit happened.
    vm_exit : str
        The underlying VM exit (SDM basic exit reason), e.g.
        ``"IO_INSTRUCTION (#30)"``; ``""`` if KVM_RUN did not enter the guest.

    Examples
    --------
    >>> ExitRecord("HLT", "", 3, "HLT (#12)").reason
    'HLT'
    """

    reason: str
    detail: str
    guest_instructions: int
    vm_exit: str = ""


class QemuProcess:
    """A QEMU-like VMM process: sets up a VM through ``/dev/kvm`` and runs it.

    Use :meth:`boot` to create one from guest source; :meth:`run` is the classic
    user-space loop::

        while True:
            ioctl(vcpu, KVM_RUN)
            switch (run->exit_reason) {
            case KVM_EXIT_IO:   emulate the port access (serial port) ...
            case KVM_EXIT_MMIO: emulate the device register ...
            case KVM_EXIT_HLT:  return
            }

    Attributes
    ----------
    process : HostProcess
    kvm, vm, vcpu : KvmFd, VmFd, VcpuFd
    run_struct : KvmRun
    serial : SerialPort
    device : MmioCounter
    trace : list of ExitRecord

    Examples
    --------
    >>> q = QemuProcess.boot("MOV EAX, 33\\nOUT 0x3F8, EAX\\nIN EBX, 0x3FD\\nHLT")
    >>> q.run(), q.serial.output, q.vcpu.ioctl(KVM_GET_REGS).rbx
    ('HLT', '!', 32)
    """

    RAM_SIZE = 64 * 1024

    def __init__(self, program: Any, *, ram_size: int = RAM_SIZE,
                 mmio_base: int = 0x100000, run_budget: int = 100_000,
                 process: HostProcess | None = None, dirty_log: bool = False):
        check_type("program", program, Program)
        check_int("ram_size", ram_size, minimum=PAGE_SIZE, maximum=1 << 22)
        if ram_size % PAGE_SIZE:
            raise ValueError(f"ram_size must be a multiple of {PAGE_SIZE}, got {ram_size}")
        check_int("mmio_base", mmio_base, minimum=0, maximum=(1 << 22) - 8)
        if mmio_base < ram_size:
            raise ValueError(f"mmio_base must lie above the RAM (>= ram_size {ram_size}), "
                             f"got {mmio_base:#x}")
        if mmio_base % 4:
            raise ValueError(f"mmio_base must be word aligned, got {mmio_base:#x}")
        check_int("run_budget", run_budget, minimum=1, maximum=10_000_000)
        check_bool("dirty_log", dirty_log)
        self.process = process if process is not None else HostProcess()
        check_type("process", self.process, HostProcess)
        self.kvm = self.process.open("/dev/kvm")
        version = self.kvm.ioctl(KVM_GET_API_VERSION)
        if version != KVM_API_VERSION:
            raise KvmError("EINVAL", f"KVM_GET_API_VERSION returned {version}, this VMM "
                                     f"needs {KVM_API_VERSION}")
        self.vm = self.kvm.ioctl(KVM_CREATE_VM, 0)
        self.ram = self.process.mmap_anonymous(ram_size)
        flags = KVM_MEM_LOG_DIRTY_PAGES if dirty_log else 0
        self.vm.ioctl(KVM_SET_USER_MEMORY_REGION,
                      UserMemoryRegion(0, flags, 0, ram_size, self.ram))
        self.vcpu = self.vm.ioctl(KVM_CREATE_VCPU, 0)
        self.run_struct = self.process.mmap(self.vcpu,
                                            self.kvm.ioctl(KVM_GET_VCPU_MMAP_SIZE))
        self.vcpu.run_budget = run_budget
        self.vcpu.load_program(program)
        for addr, value in program.data.items():  # the image's .word data into RAM
            if 4 * addr + 4 > ram_size:
                raise ValueError(f"ram_size ({ram_size}) is too small for the program's "
                                 f".word data at word address {addr}")
            self.process.write(self.ram + 4 * addr, value.to_bytes(4, "little"))
        self.serial = SerialPort()
        self.device = MmioCounter(mmio_base)
        self.trace: list[ExitRecord] = []
        self.unhandled: list[str] = []

    @classmethod
    def boot(cls, source: str, **kwargs: Any) -> QemuProcess:
        """Assemble ``source`` (X86_VTX catalogue) and set up a VM for it.

        Examples
        --------
        >>> QemuProcess.boot("HLT").vm.slots[0].memory_size
        65536
        """
        check_str("source", source)
        return cls(assemble(source, isa="X86_VTX"), **kwargs)

    def handle_exit(self) -> str:
        """Handle the exit in ``run_struct``; return its reason name.

        Examples
        --------
        >>> q = QemuProcess.boot("MOV EAX, 65\\nOUT 0x3F8, EAX\\nHLT")
        >>> q.vcpu.ioctl(KVM_RUN), q.handle_exit(), q.trace[-1].detail
        (0, 'IO', "OUT 0x3f8 'A'")
        """
        run = self.run_struct
        reason = run.reason_name
        detail = ""
        if run.exit_reason == KVM_EXIT_IO:
            io = run.io
            is_write = io.direction == KVM_EXIT_IO_OUT
            if self.serial.handles(io.port):
                if is_write:
                    for k in range(io.count):
                        chunk = run.pio_data()[k * io.size:(k + 1) * io.size]
                        self.serial.io(io.port, True, io.size,
                                       int.from_bytes(chunk, "little"))
                    ch = chr(run.pio_data()[0])
                    detail = f"OUT {io.port:#x} {ch!r}"
                else:
                    value = self.serial.io(io.port, False, io.size, 0)
                    run.set_pio_data(value.to_bytes(io.size, "little") * io.count)
                    detail = f"IN {io.port:#x} -> {value:#x}"
            else:
                # unknown port: reads return all ones, like an empty ISA bus
                if not is_write:
                    run.set_pio_data(b"\xff" * (io.size * io.count))
                detail = f"{'OUT' if is_write else 'IN'} {io.port:#x} (no device)"
                self.unhandled.append(detail)
        elif run.exit_reason == KVM_EXIT_MMIO:
            m = run.mmio
            value = int.from_bytes(m.data[:m.len], "little")
            if self.device.handles(m.phys_addr):
                out = self.device.mmio(m.phys_addr, bool(m.is_write), m.len, value)
            else:
                out = (1 << (8 * m.len)) - 1
                self.unhandled.append(f"MMIO {m.phys_addr:#x}")
            if m.is_write:
                detail = f"write {m.phys_addr:#x} <- {value}"
            else:
                m.data[:m.len] = out.to_bytes(m.len, "little")
                detail = f"read {m.phys_addr:#x} -> {out}"
        elif run.exit_reason == KVM_EXIT_INTERNAL_ERROR:
            detail = f"suberror {run.internal_suberror}"
        v = self.vcpu.vmcs
        vm_exit = f"{v.exit_reason_name} (#{v.exit_reason})" if v.exit_reason_name else ""
        self.trace.append(ExitRecord(reason, detail, self.vcpu.instructions, vm_exit))
        return reason

    def run(self, max_exits: int = 10_000) -> str:
        """The run loop: KVM_RUN and handle exits until HLT/SHUTDOWN/error.

        Returns the reason of the last exit (``"HLT"`` when the guest halted,
        ``"INTR"`` or another reason if ``max_exits`` ran out first).

        Examples
        --------
        >>> QemuProcess.boot("l: JMP l", run_budget=10).run(max_exits=3)
        'INTR'
        """
        check_int("max_exits", max_exits, minimum=1, maximum=10_000_000)
        reason = ""
        for _ in range(max_exits):
            self.vcpu.ioctl(KVM_RUN)
            reason = self.handle_exit()
            if reason in ("HLT", "SHUTDOWN", "FAIL_ENTRY", "INTERNAL_ERROR",
                          "EXCEPTION"):
                break
        return reason

    def dirty_pages(self) -> list[int]:
        """Pages of the RAM slot the guest wrote since the last call (needs ``dirty_log``).

        Examples
        --------
        >>> q = QemuProcess.boot("MOV [0x400], 7\\nHLT", dirty_log=True); _ = q.run()
        >>> q.dirty_pages(), q.dirty_pages()
        ([1], [])
        """
        log = KvmDirtyLog(0)
        self.vm.ioctl(KVM_GET_DIRTY_LOG, log)
        return log.pages()

    def exit_counts(self) -> dict[str, int]:
        """Number of exits per reason, in order of first occurrence.

        Examples
        --------
        >>> q = QemuProcess.boot("OUT 0x80, EAX\\nHLT"); _ = q.run()
        >>> q.exit_counts()
        {'IO': 1, 'HLT': 1}
        """
        out: dict[str, int] = {}
        for r in self.trace:
            out[r.reason] = out.get(r.reason, 0) + 1
        return out
