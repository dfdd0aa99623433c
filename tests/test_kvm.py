"""The /dev/kvm model (virtlab.hypervisor.kvm) against Documentation/virt/kvm/api.rst."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtlab.asm import assemble
from virtlab.cpu import CPU, run_native
from virtlab.hypervisor import kvm as K
from virtlab.hypervisor.kvm import (
    KVM_CREATE_VCPU, KVM_CREATE_VM, KVM_GET_API_VERSION, KVM_GET_REGS,
    KVM_GET_VCPU_MMAP_SIZE, KVM_RUN, KVM_SET_REGS, KVM_SET_USER_MEMORY_REGION, HostProcess,
    KvmError, KvmRegs, QemuProcess, UserMemoryRegion,
)


def vm_and_process():
    p = HostProcess()
    fd = p.open("/dev/kvm")
    return p, fd, fd.ioctl(KVM_CREATE_VM, 0)


def region(slot, gpa, size, addr, flags=0):
    return UserMemoryRegion(slot, flags, gpa, size, addr)


# -- constants ---------------------------------------------------------------

def test_ioctl_numbers_are_the_kernel_ones():
    # include/uapi/linux/kvm.h: _IO(KVMIO=0xAE, nr); _IOW(0xAE, 0x46, 32-byte struct)
    assert K.KVM_GET_API_VERSION == 0xAE00
    assert K.KVM_CREATE_VM == 0xAE01
    assert K.KVM_GET_VCPU_MMAP_SIZE == 0xAE04
    assert K.KVM_CREATE_VCPU == 0xAE41
    assert K.KVM_RUN == 0xAE80
    assert K.KVM_SET_USER_MEMORY_REGION == 0x4020AE46
    assert K.KVM_GET_DIRTY_LOG == 0x4010AE42   # _IOW(0xAE, 0x42, 16-byte struct)


def test_exit_reason_codes_match_facts():
    assert (K.KVM_EXIT_UNKNOWN, K.KVM_EXIT_EXCEPTION, K.KVM_EXIT_IO, K.KVM_EXIT_HYPERCALL,
            K.KVM_EXIT_DEBUG, K.KVM_EXIT_HLT, K.KVM_EXIT_MMIO, K.KVM_EXIT_IRQ_WINDOW_OPEN,
            K.KVM_EXIT_SHUTDOWN, K.KVM_EXIT_FAIL_ENTRY, K.KVM_EXIT_INTR) == tuple(range(11))
    assert K.KVM_EXIT_INTERNAL_ERROR == 17 and K.KVM_EXIT_SYSTEM_EVENT == 24
    assert (K.KVM_EXIT_IO_IN, K.KVM_EXIT_IO_OUT) == (0, 1)


# -- the call sequence -----------------------------------------------------------

def test_api_version_is_12_and_other_versions_are_refused():
    assert HostProcess().open("/dev/kvm").ioctl(KVM_GET_API_VERSION) == 12
    with pytest.raises(KvmError) as e:
        QemuProcess.boot("HLT", process=HostProcess(api_version=11))
    assert "12" in str(e.value)


def test_new_vm_has_no_memory_and_no_vcpus():
    _, _, vm = vm_and_process()
    assert vm.slots == {} and vm.vcpus == {}


def test_open_other_device_fails():
    with pytest.raises(KvmError, match="ENOENT"):
        HostProcess().open("/dev/xen")


def test_wrong_ioctl_on_fd_kind_is_enotty():
    p, fd, vm = vm_and_process()
    with pytest.raises(KvmError, match="ENOTTY"):
        fd.ioctl(KVM_RUN)
    with pytest.raises(KvmError, match="ENOTTY"):
        vm.ioctl(KVM_GET_API_VERSION)


def test_closed_fd_is_ebadf():
    _, fd, vm = vm_and_process()
    vm.close()
    with pytest.raises(KvmError, match="EBADF"):
        vm.ioctl(KVM_CREATE_VCPU, 0)


# -- memory slots ------------------------------------------------------------------

def test_slots_must_not_overlap():
    p, _, vm = vm_and_process()
    a = p.mmap_anonymous(0x4000)
    assert vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(0, 0x0, 0x2000, a)) == 0
    with pytest.raises(KvmError) as e:
        vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(1, 0x1000, 0x2000, a + 0x2000))
    assert e.value.errno == "EEXIST"
    assert set(vm.slots) == {0}  # unchanged
    # adjacent is fine
    vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(1, 0x2000, 0x2000, a + 0x2000))
    assert set(vm.slots) == {0, 1}


def test_size_zero_deletes_and_deleting_nothing_is_einval():
    p, _, vm = vm_and_process()
    a = p.mmap_anonymous(0x1000)
    vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(3, 0, 0x1000, a))
    vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(3, 0, 0, a))
    assert vm.slots == {}
    with pytest.raises(KvmError, match="EINVAL"):
        vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(3, 0, 0, a))


def test_no_resize_but_move_is_allowed():
    p, _, vm = vm_and_process()
    a = p.mmap_anonymous(0x2000)
    vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(0, 0, 0x1000, a))
    with pytest.raises(KvmError, match="resized"):
        vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(0, 0, 0x2000, a))
    assert vm.slots[0].memory_size == 0x1000
    vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(0, 0x8000, 0x1000, a))  # move
    assert vm.slots[0].guest_phys_addr == 0x8000


@pytest.mark.parametrize("gpa,size,off", [(0x10, 0x1000, 0), (0, 0x1001, 0),
                                          (0, 0x1000, 8)])
def test_unaligned_regions_are_einval(gpa, size, off):
    p, _, vm = vm_and_process()
    a = p.mmap_anonymous(0x3000)
    with pytest.raises(KvmError, match="EINVAL.*page aligned"):
        vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(0, gpa, size, a + off))
    assert vm.slots == {}


def test_unmapped_user_memory_is_efault():
    _, _, vm = vm_and_process()
    with pytest.raises(KvmError, match="EFAULT"):
        vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(0, 0, 0x1000, 0x1000))
    assert vm.slots == {}


slot_ops = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 15), st.integers(0, 4)),
                    max_size=25)


@given(slot_ops)
def test_slots_never_overlap_and_failures_change_nothing(ops):
    p, _, vm = vm_and_process()
    buf = p.mmap_anonymous(64 * 4096)
    for slot, page, npages in ops:
        before = dict(vm.slots)
        r = region(slot, page * 4096, npages * 4096, buf + slot * 8 * 4096)
        try:
            vm.ioctl(KVM_SET_USER_MEMORY_REGION, r)
        except KvmError:
            assert vm.slots == before
        spans = sorted((s.guest_phys_addr, s.guest_phys_addr + s.memory_size)
                       for s in vm.slots.values())
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
        assert all(s.memory_size > 0 for s in vm.slots.values())


# -- vCPUs and kvm_run ---------------------------------------------------------------

def test_vcpu_ids_are_unique_and_mmap_size_is_checked():
    p, fd, vm = vm_and_process()
    vcpu = vm.ioctl(KVM_CREATE_VCPU, 0)
    with pytest.raises(KvmError, match="EEXIST"):
        vm.ioctl(KVM_CREATE_VCPU, 0)
    size = fd.ioctl(KVM_GET_VCPU_MMAP_SIZE)
    with pytest.raises(KvmError, match="EINVAL"):
        p.mmap(vcpu, size - 1)
    run = p.mmap(vcpu, size)
    assert p.mmap(vcpu, size) is run  # the same shared structure


def test_serial_output_through_io_exits():
    q = QemuProcess.boot("MOV EAX, 72\nOUT 0x3F8, EAX\nMOV EAX, 105\nOUT 0x3F8, EAX\nHLT")
    assert q.run() == "HLT"
    assert q.serial.output == "Hi"
    assert q.exit_counts() == {"IO": 2, "HLT": 1}


def test_io_exit_fields_and_in_completes_on_next_run():
    q = QemuProcess.boot("IN EBX, 0x3FD\nHLT")
    run = q.run_struct
    assert q.vcpu.ioctl(KVM_RUN) == 0
    assert run.exit_reason == K.KVM_EXIT_IO
    assert (run.io.direction, run.io.port, run.io.count) == (K.KVM_EXIT_IO_IN, 0x3FD, 1)
    assert run.io.size == 4 and run.io.data_offset == 4096
    run.set_pio_data((0x1234).to_bytes(4, "little"))
    assert q.vcpu.ioctl(KVM_GET_REGS).rbx == 0  # not yet: completes on the next KVM_RUN
    q.vcpu.ioctl(KVM_RUN)
    assert run.exit_reason == K.KVM_EXIT_HLT
    assert q.vcpu.ioctl(KVM_GET_REGS).rbx == 0x1234


def test_out_exit_carries_the_data():
    q = QemuProcess.boot("MOV EAX, 0x41\nOUT 0x80, EAX\nHLT")
    q.vcpu.ioctl(KVM_RUN)
    r = q.run_struct
    assert (r.exit_reason, r.io.direction, r.io.port) == (2, 1, 0x80)
    assert r.pio_data() == bytearray(b"\x41\x00\x00\x00")


def test_mmio_read_and_write_exits():
    # MMIO counter at byte 0x100000 = word 0x40000, beyond the 64 KiB RAM slot
    q = QemuProcess.boot("MOV ECX, [0x40000]\nMOV [0x40001], ECX\nHLT")
    run = q.run_struct
    q.vcpu.ioctl(KVM_RUN)
    assert run.exit_reason == K.KVM_EXIT_MMIO
    assert (run.mmio.phys_addr, run.mmio.len, run.mmio.is_write) == (0x100000, 4, 0)
    run.mmio.data[:4] = (77).to_bytes(4, "little")
    q.vcpu.ioctl(KVM_RUN)
    assert q.vcpu.ioctl(KVM_GET_REGS).rcx == 77
    assert (run.mmio.phys_addr, run.mmio.is_write) == (0x100004, 1)
    assert int.from_bytes(run.mmio.data[:4], "little") == 77


def test_qemu_loop_handles_mmio_device():
    q = QemuProcess.boot("MOV EAX, [0x40000]\nMOV EBX, [0x40000]\nMOV [0x40001], EBX\nHLT")
    assert q.run() == "HLT"
    regs = q.vcpu.ioctl(KVM_GET_REGS)
    assert (regs.rax, regs.rbx) == (1, 2)
    assert q.device.leds == [2]


def test_mmio_with_other_instruction_is_internal_error():
    q = QemuProcess.boot("ADD EAX, [0x40000]\nHLT")
    assert q.run() == "INTERNAL_ERROR"
    assert q.run_struct.internal_suberror == 1


def test_triple_fault_is_shutdown():
    q = QemuProcess.boot("INT 3\nHLT")  # no IDT
    assert q.run() == "SHUTDOWN"


def test_budget_returns_eintr_and_guest_continues():
    q = QemuProcess.boot("loop: INC EAX\nJMP loop", run_budget=1000)
    assert q.vcpu.ioctl(KVM_RUN) == -4
    assert q.run_struct.exit_reason == K.KVM_EXIT_INTR
    first = q.vcpu.ioctl(KVM_GET_REGS).rax
    q.vcpu.ioctl(KVM_RUN)
    assert q.vcpu.ioctl(KVM_GET_REGS).rax > first


def test_immediate_exit_is_eintr():
    q = QemuProcess.boot("HLT")
    q.run_struct.immediate_exit = 1
    with pytest.raises(KvmError, match="EINTR"):
        q.vcpu.ioctl(KVM_RUN)
    assert q.run_struct.exit_reason == K.KVM_EXIT_INTR


def test_guest_ram_is_the_vmm_processes_memory():
    q = QemuProcess.boot(".word 10, 5\nMOV EAX, [10]\nADD EAX, 1\nMOV [11], EAX\nHLT")
    q.run()
    assert int.from_bytes(q.process.read(q.ram + 44, 4), "little") == 6
    # and QEMU's writes are seen by the guest on the next KVM_RUN
    q2 = QemuProcess.boot("MOV EAX, [20]\nHLT")
    q2.process.write(q2.ram + 80, (99).to_bytes(4, "little"))
    q2.run()
    assert q2.vcpu.ioctl(KVM_GET_REGS).rax == 99


def test_regs_roundtrip():
    q = QemuProcess.boot("NOP\nHLT")
    q.vcpu.ioctl(KVM_SET_REGS, KvmRegs(rax=5, rbx=6, rip=1, rflags=0x202))
    r = q.vcpu.ioctl(KVM_GET_REGS)
    assert (r.rax, r.rbx, r.rip, r.rflags & 0x200) == (5, 6, 1, 0x200)


def test_vmcall_handled_in_kernel_returns_enosys():
    q = QemuProcess.boot("MOV EAX, 9\nVMCALL\nHLT")
    assert q.run() == "HLT"
    assert q.vcpu.ioctl(KVM_GET_REGS).rax == (-1000) & 0xFFFFFFFF
    assert q.vcpu.in_kernel_exits == 1 and "HYPERCALL" not in q.exit_counts()


@settings(max_examples=25)
@given(st.lists(st.tuples(st.sampled_from(["ADD", "SUB", "XOR", "IMUL"]),
                          st.integers(0, 3), st.integers(-100, 100)), max_size=30))
def test_compute_matches_native_cpu(ops):
    regs = ["EAX", "EBX", "ECX", "EDX"]
    src = "\n".join(f"{m} {regs[r]}, {v}" for m, r, v in ops) + "\nHLT"
    q = QemuProcess.boot(src)
    assert q.run() == "HLT"
    c = CPU(assemble(src, isa="X86_VTX"), memory_words=16384)
    run_native(c)
    kr = q.vcpu.ioctl(KVM_GET_REGS)
    assert (kr.rax, kr.rcx, kr.rdx, kr.rbx) == tuple(c.regs[:4])


def test_same_program_same_trace():
    src = "MOV EAX, 65\nOUT 0x3F8, EAX\nMOV EBX, [0x40000]\nHLT"
    a, b = QemuProcess.boot(src), QemuProcess.boot(src)
    a.run(), b.run()
    assert a.trace == b.trace and a.serial.output == b.serial.output


# -- the VMX layer underneath KVM_RUN -------------------------------------------------

def test_vcpu_creation_prepares_vmcs_and_first_run_launches():
    q = QemuProcess.boot("MOV EAX, 1\nOUT 0x80, EAX\nHLT")
    v = q.vcpu
    assert v.vmx.log == ["VMXON", "VMCLEAR", "VMPTRLD"]
    assert not v.vmcs.launched
    v.ioctl(KVM_RUN)
    assert v.vmx.log[-1] == "VMLAUNCH" and v.vmcs.launched
    assert v.vmx.mode == "root"           # after the exit, KVM runs in root mode
    v.ioctl(KVM_RUN)                      # VMRESUME (no second VMLAUNCH)
    assert v.vmx.log.count("VMLAUNCH") == 1


def test_kvm_exit_reasons_come_from_vm_exits():
    q = QemuProcess.boot("OUT 0x3F8, EAX\nMOV EAX, [0x40000]\nHLT")
    q.run()
    assert [r.vm_exit for r in q.trace] == ["IO_INSTRUCTION (#30)", "EPT_VIOLATION (#48)",
                                            "HLT (#12)"]
    assert q.vcpu.vmcs.exit_qualification == {}


def test_not_every_vm_exit_reaches_user_space():
    # WRMSR exits (no MSR bitmaps) but kvm.ko handles it; VMCALL too
    q = QemuProcess.boot("MOV ECX, 0x10\nWRMSR\nRDMSR\nVMCALL\nMOV CR4, EAX\nHLT")
    assert q.run() == "HLT"
    v = q.vcpu
    assert v.vm_exits == {"WRMSR": 1, "RDMSR": 1, "VMCALL": 1, "CR_ACCESS": 1, "HLT": 1}
    assert q.exit_counts() == {"HLT": 1}
    assert v.in_kernel_exits == 4


def test_cr3_load_does_not_exit_with_ept_and_budget_is_external_interrupt():
    q = QemuProcess.boot("MOV EAX, 0x1000\nMOV CR3, EAX\nloop: JMP loop", run_budget=50)
    assert q.vcpu.ioctl(KVM_RUN) == -4
    assert q.vcpu.vm_exits == {"EXTERNAL_INTERRUPT": 1}


# -- random API sequences: only documented errors, invariants hold ---------------------

api_ops = st.lists(st.one_of(
    st.tuples(st.just("region"), st.integers(0, 3), st.integers(0, 40), st.integers(0, 20)),
    st.tuples(st.just("vcpu"), st.integers(0, 9)),
    st.tuples(st.just("run"), st.integers(0, 9)),
    st.tuples(st.just("regs"), st.integers(0, 9), st.integers(0, 6)),
), max_size=20)

GUEST = assemble("MOV EAX, [0x400]\nADD EAX, 1\nMOV [0x400], EAX\nOUT 0x80, EAX\n"
                 "MOV EBX, [0x40000]\nHLT", isa="X86_VTX")


@settings(max_examples=40)
@given(api_ops)
def test_random_api_sequences_raise_only_kvm_errors(ops):
    p, fd, vm = vm_and_process()
    buf = p.mmap_anonymous(64 * 4096)
    for op in ops:
        try:
            if op[0] == "region":
                _, slot, page, npages = op
                vm.ioctl(KVM_SET_USER_MEMORY_REGION,
                         region(slot, page * 4096, npages * 4096, buf + slot * 16 * 4096))
            elif op[0] == "vcpu":
                v = vm.ioctl(KVM_CREATE_VCPU, op[1])
                v.load_program(GUEST)
                p.mmap(v, fd.ioctl(KVM_GET_VCPU_MMAP_SIZE))
            elif op[0] == "run" and op[1] in vm.vcpus:
                v = vm.vcpus[op[1]]
                assert v.ioctl(KVM_RUN) in (0, -4)
                assert v._run.reason_name in K.EXIT_REASONS.values()
            elif op[0] == "regs" and op[1] in vm.vcpus:
                vm.vcpus[op[1]].ioctl(KVM_SET_REGS, KvmRegs(rip=op[2]))
        except KvmError as e:
            assert e.errno in ("EINVAL", "EEXIST", "EFAULT")
        spans = sorted((s.guest_phys_addr, s.guest_phys_addr + s.memory_size)
                       for s in vm.slots.values())
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_loading_a_new_program_replaces_the_compiled_code():
    q = QemuProcess.boot("MOV EAX, 1\nHLT")
    q.run()
    q.vcpu.load_program(assemble("MOV EAX, 2\nHLT", isa="X86_VTX"))
    q.vcpu.ioctl(KVM_RUN)
    assert q.vcpu.ioctl(KVM_GET_REGS).rax == 2


def test_readonly_slots_are_refused_not_silently_wrong():
    p, _, vm = vm_and_process()
    a = p.mmap_anonymous(4096)
    with pytest.raises(KvmError, match="READONLY"):
        vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(0, 0, 4096, a, flags=K.KVM_MEM_READONLY))
    assert vm.slots == {}


def test_dirty_log_reports_pages_the_guest_wrote_once():
    # word 0x400 = byte 0x1000 (page 1); word 0x1400 = byte 0x5000 (page 5)
    q = QemuProcess.boot("MOV EAX, 7\nMOV [0x400], EAX\nMOV [0x1400], EAX\nHLT")
    p, vm = q.process, q.vm
    vm.ioctl(KVM_SET_USER_MEMORY_REGION, region(0, 0, 0, q.ram, 0))  # delete ...
    vm.ioctl(KVM_SET_USER_MEMORY_REGION,                            # ... and re-add logged
             region(0, 0, 0x10000, q.ram, flags=K.KVM_MEM_LOG_DIRTY_PAGES))
    p.write(q.ram + 0x3000, b"\x01")      # a write by user space is not logged
    q.run()
    log = K.KvmDirtyLog(0)
    assert vm.ioctl(K.KVM_GET_DIRTY_LOG, log) == 0
    # the stack page at the top of RAM is untouched (no PUSH); pages 1 and 5 are dirty
    assert log.pages() == [1, 5]
    vm.ioctl(K.KVM_GET_DIRTY_LOG, log)
    assert log.pages() == []              # the log was cleared


def test_dirty_log_needs_the_flag():
    q = QemuProcess.boot("HLT")
    with pytest.raises(KvmError, match="ENOENT"):
        q.vm.ioctl(K.KVM_GET_DIRTY_LOG, K.KvmDirtyLog(0))
    with pytest.raises(TypeError, match="arg"):
        q.vm.ioctl(K.KVM_GET_DIRTY_LOG, 0)
