"""The /dev/kvm VMM: constants from the kernel headers, the guests' exits, registers after."""

import ctypes
import errno
import os

import pytest

from host_live import require
from virtlab.host import guests as G
from virtlab.host import vmm as V
from virtlab.hypervisor import kvm as model


def test_ioctl_numbers_match_the_values_measured_and_the_model():
    # facts.md §12 lists the numbers that worked through fcntl.ioctl here.
    assert (V.KVM_CREATE_VM, V.KVM_CREATE_VCPU, V.KVM_RUN, V.KVM_GET_VCPU_MMAP_SIZE) == \
        (0xAE01, 0xAE41, 0xAE80, 0xAE04)
    assert V.KVM_SET_USER_MEMORY_REGION == 0x4020AE46
    assert (V.KVM_GET_SREGS, V.KVM_SET_SREGS) == (0x8138AE83, 0x4138AE84)
    assert (V.KVM_GET_REGS, V.KVM_SET_REGS) == (0x8090AE81, 0x4090AE82)
    assert V.KVM_GET_STATS_FD == 0xAECE and V.KVM_GET_SUPPORTED_CPUID == 0xC008AE05
    for name in ("KVM_GET_API_VERSION", "KVM_CREATE_VM", "KVM_CHECK_EXTENSION",
                 "KVM_CREATE_VCPU", "KVM_SET_USER_MEMORY_REGION", "KVM_RUN", "KVM_GET_REGS",
                 "KVM_SET_REGS"):
        assert getattr(V, name) == getattr(model, name), name
    assert V.EXIT_REASONS[2] == "IO" and V.EXIT_REASONS[5] == "HLT" and V.EXIT_REASONS[6] == "MMIO"


def test_structure_layouts_are_the_kernels():
    assert ctypes.sizeof(V.KvmRegs) == 144 and ctypes.sizeof(V.KvmSregs) == 312
    assert ctypes.sizeof(V.KvmSegment) == 24 and ctypes.sizeof(V.KvmDtable) == 16
    assert ctypes.sizeof(V.KvmUserspaceMemoryRegion) == 32
    assert V.KvmSregs.cr0.offset == 224 and V.KvmSregs.efer.offset == 264
    assert V.KvmRun.exit_reason.offset == 8 and V.KvmRun.exit.offset == 32


# -- live -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kvm():
    probe = V.probe_kvm(kernel_log=False)
    require(probe.missing)
    return probe


def test_probe_finds_api_12_and_names_the_provider(kvm):
    assert kvm.device == "usable" and kvm.api_version == 12
    assert kvm.capabilities["USER_MEMORY"] == 1
    assert kvm.modules and kvm.provider.split(" ")[0] in kvm.modules
    flags = open("/proc/cpuinfo").read()
    if "kvm_pvm" in kvm.modules:
        assert "PVM" in kvm.provider
    if " vmx" not in flags and " svm" not in flags:
        # no VT-x/AMD-V in this CPU, yet /dev/kvm runs guests: the probe must say who
        assert "kvm_pvm" in kvm.modules or "no vendor module" in kvm.provider


def test_hello_guest_prints_and_exits_like_the_model(kvm):
    r = V.run_guest(G.HELLO, mmio_value=0x1234)
    assert r.available and not r.error
    assert r.output == "Hello!"
    assert tuple(r.reasons()) == G.HELLO.expected_exits
    io = [e for e in r.exits if e.reason == "IO"]
    assert {(e.port, e.direction, e.size) for e in io} == {(0x3F8, "out", 1)}
    assert [e.data for e in io] == list(b"Hello!")
    read, write = [e for e in r.exits if e.reason == "MMIO"]
    assert (read.phys_addr, read.is_write, read.size) == (G.MMIO_BASE, False, 4)
    assert (write.phys_addr, write.is_write, write.data) == (G.MMIO_BASE + 4, True, 0x1234)
    assert r.regs["rbx"] == 0x1234 and r.regs["rsi"] == 0x406
    assert r.regs["rip"] == G.LOAD_ADDRESS + len(G.HELLO.code)
    # the same guest in the course's notation, on the model of the same API
    q = model.QemuProcess.boot(model.HELLO_GUEST)
    q.run()
    assert q.serial.output == r.output and q.exit_counts() == r.exit_counts()


def test_halt_guest(kvm):
    r = V.run_guest(G.HALT)
    assert r.reasons() == ["HLT"] and r.regs["rip"] == G.LOAD_ADDRESS + 1
    assert r.stats.get("halt_exits") == 1


def test_mmio_guest_reads_what_the_vmm_answers(kvm):
    r = V.run_guest(G.MMIO, mmio_value=7)
    assert r.reasons() == ["MMIO", "MMIO", "HLT"]
    write, read = r.exits[:2]
    assert (write.phys_addr, write.is_write, write.data) == (G.MMIO_BASE + 8, True, 42)
    assert (read.phys_addr, read.is_write) == (G.MMIO_BASE + 8, False)
    assert r.regs["rax"] == 42 and r.regs["rcx"] == 7      # no RAM there: the VMM answered


def test_compute_guest_state_and_stats(kvm):
    r = V.run_guest(G.compute(1000))
    assert r.reasons() == ["HLT"]
    assert r.regs["rax"] == 1000 * 1001 // 2 and r.regs["rcx"] == 0
    assert r.dword(0x400) == r.regs["rbx"]
    assert r.stats.get("exits", 0) >= 1
    if "kvm_pvm" in kvm.modules:
        # PVM cannot run a non-PVM guest kernel natively: every instruction is emulated
        assert r.stats["insn_emulation"] == G.compute(1000).instructions


def test_minimal_hypervisor(kvm):
    assert V.minimal_hypervisor(bytes.fromhex("baf803 b048 ee b069 ee f4")) == "Hi"


def test_a_looping_guest_is_stopped_by_the_timeout(kvm):
    loop = G.Guest("loop", ((b"\xeb\xfe", "jmp 0x1000"),))
    r = V.run_guest(loop, timeout=0.5)
    assert r.available and r.error.startswith("timed out")


def test_no_permission_says_how_to_get_it(monkeypatch):
    def denied(path, flags, *a):
        raise PermissionError(errno.EACCES, "Permission denied", path)
    monkeypatch.setattr(os, "open", denied)
    r = V.run_guest(G.HALT)
    assert not r.available and "usermod -aG kvm" in r.missing.remedy
    p = V.probe_kvm(kernel_log=False)
    if p.device != "not applicable":
        assert p.device == "no permission" and "usermod" in p.missing.remedy


def test_off_linux_nothing_raises(monkeypatch):
    import platform
    monkeypatch.setattr(platform, "system", lambda: "Windows")
    assert V.probe_kvm().device == "not applicable"
    assert not V.run_guest(G.HELLO).available


@pytest.mark.parametrize("kwargs", [{"guest": "hello"}, {"guest": G.HALT, "timeout": 0},
                                    {"guest": G.HALT, "max_exits": 0},
                                    {"guest": G.HALT, "mmio_value": -1}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises((TypeError, ValueError)):
        V.run_guest(**kwargs)


def test_out_loop_exits_once_per_out(kvm):
    r = V.run_guest(G.out_loop(50))
    assert r.reasons() == list(G.out_loop(50).expected_exits)
    assert {(e.port, e.direction) for e in r.exits[:-1]} == {(0x80, "out")}
    assert r.mean_exit_us("IO") > 0 and r.mean_exit_us("MMIO") is None
