"""Hostile input for hypervisor stacks, KVM API and their widgets."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab.hypervisor.stacks import (
    Component, HypervisorStack, IoStep, StackCosts, compare_stacks, get_stack, io_cost,
)

BAD_INTS = [None, "4", 4.0, math.nan, math.inf, True, [4], -1, 2**70]


def _raises_named(exc_info, name):
    assert name in str(exc_info.value), str(exc_info.value)


@pytest.mark.parametrize("kind", [None, 1, "", "TYPE1", "type 1", "type3", ["type1"]])
def test_get_stack_bad_kind(kind):
    with pytest.raises((ValueError, TypeError)) as e:
        get_stack(kind)
    _raises_named(e, "kind")


@pytest.mark.parametrize("size", BAD_INTS + [0, 1 << 21])
def test_io_cost_bad_size(size):
    with pytest.raises((ValueError, TypeError)) as e:
        io_cost(get_stack("type1"), size_kib=size)
    _raises_named(e, "size_kib")


@pytest.mark.parametrize("stack", [None, "type1", 3, object()])
def test_io_cost_bad_stack(stack):
    with pytest.raises(TypeError) as e:
        io_cost(stack)
    _raises_named(e, "stack")


def test_io_cost_bad_costs():
    with pytest.raises(TypeError) as e:
        io_cost(get_stack("type1"), costs={"vm_exit": 1})
    _raises_named(e, "costs")


@pytest.mark.parametrize("field", ["vm_exit", "world_switch", "copy_kib", "device"])
@pytest.mark.parametrize("value", BAD_INTS)
def test_stack_costs_bad_values(field, value):
    with pytest.raises((ValueError, TypeError)) as e:
        StackCosts(**{field: value})
    _raises_named(e, field)


@pytest.mark.parametrize("kinds", [(), ("type1", "nope"), "type1x", None, (1,)])
def test_compare_io_bad_kinds(kinds):
    with pytest.raises((ValueError, TypeError)) as e:
        compare_stacks(kinds=kinds)
    _raises_named(e, "kinds")


def test_component_and_step_validation():
    with pytest.raises(ValueError, match="kind"):
        Component("a", "A", "toaster", None, "-")
    with pytest.raises(TypeError, match="runs_on"):
        Component("a", "A", "app", 3, "-")
    with pytest.raises(ValueError, match="category"):
        IoStep("a", "x", "teleport")
    with pytest.raises((ValueError, TypeError), match="count"):
        IoStep("a", "x", "driver", 0)


def test_stack_validation_cycles_duplicates_unknown():
    hw = Component("hw", "HW", "hardware", None, "-")
    a = Component("a", "A", "host_os", "b", "-")
    b = Component("b", "B", "host_os", "a", "-")
    with pytest.raises(ValueError, match="cycle"):
        HypervisorStack("x", "X", (), (hw, a, b), ())
    with pytest.raises(ValueError, match="duplicate"):
        HypervisorStack("x", "X", (), (hw, hw), ())
    c = Component("c", "C", "host_os", "zz", "-")
    with pytest.raises(ValueError, match="unknown component"):
        HypervisorStack("x", "X", (), (hw, c), ())
    with pytest.raises(ValueError, match="io_path"):
        HypervisorStack("x", "X", (), (hw,), (IoStep("ghost", "x", "driver"),))
    with pytest.raises(TypeError, match="components"):
        HypervisorStack("x", "X", (), [hw], ())
    with pytest.raises(ValueError, match="name"):
        get_stack("type1").component("nope")


@given(st.one_of(st.integers(), st.floats(allow_nan=True), st.text(max_size=5),
                 st.none(), st.booleans()))
def test_io_cost_size_never_crashes_oddly(size):
    try:
        r = io_cost(get_stack("kvm"), size_kib=size)
    except (ValueError, TypeError) as e:
        assert "size_kib" in str(e)
    else:
        assert isinstance(size, int) and 1 <= size <= 1 << 20
        assert r.total > 0


# -- KVM -----------------------------------------------------------------------

from virtlab.hypervisor.kvm import (  # noqa: E402
    KVM_CREATE_VCPU, KVM_CREATE_VM, KVM_RUN, KVM_SET_REGS, KVM_SET_USER_MEMORY_REGION,
    HostProcess, KvmRegs, QemuProcess, UserMemoryRegion,
)


def _vm():
    p = HostProcess()
    return p, p.open("/dev/kvm").ioctl(KVM_CREATE_VM, 0)


@pytest.mark.parametrize("field", ["slot", "flags", "guest_phys_addr", "memory_size",
                                   "userspace_addr"])
@pytest.mark.parametrize("value", [None, "0", 1.5, math.nan, -4096, True, 2**70])
def test_memory_region_bad_fields(field, value):
    p, vm = _vm()
    a = p.mmap_anonymous(4096)
    kw = dict(slot=0, flags=0, guest_phys_addr=0, memory_size=4096, userspace_addr=a)
    kw[field] = value
    with pytest.raises((ValueError, TypeError)) as e:
        vm.ioctl(KVM_SET_USER_MEMORY_REGION, UserMemoryRegion(**kw))
    assert field in str(e.value)
    assert vm.slots == {}


@pytest.mark.parametrize("arg", [None, {"slot": 0}, (0, 0, 0, 4096, 0)])
def test_memory_region_wrong_arg_type(arg):
    _, vm = _vm()
    with pytest.raises(TypeError, match="arg"):
        vm.ioctl(KVM_SET_USER_MEMORY_REGION, arg)


@pytest.mark.parametrize("flags", [4, 0x80000000])
def test_memory_region_unknown_flags(flags):
    p, vm = _vm()
    a = p.mmap_anonymous(4096)
    with pytest.raises(ValueError, match="flags"):
        vm.ioctl(KVM_SET_USER_MEMORY_REGION, UserMemoryRegion(0, flags, 0, 4096, a))


@pytest.mark.parametrize("request_", [None, "KVM_RUN", -1, 1.0, 2**40])
def test_ioctl_bad_request(request_):
    _, vm = _vm()
    with pytest.raises((ValueError, TypeError), match="request"):
        vm.ioctl(request_)


@pytest.mark.parametrize("vid", [None, -1, 1.0, 8, 2**40, "0"])
def test_create_vcpu_bad_id(vid):
    _, vm = _vm()
    with pytest.raises((ValueError, TypeError)):
        vm.ioctl(KVM_CREATE_VCPU, vid)
    assert vm.vcpus == {}


def test_set_regs_bad_values_leave_state():
    q = QemuProcess.boot("NOP\nHLT")
    with pytest.raises((ValueError, TypeError), match="rax"):
        q.vcpu.ioctl(KVM_SET_REGS, KvmRegs(rax=-1))
    with pytest.raises(ValueError, match="rip"):
        q.vcpu.ioctl(KVM_SET_REGS, KvmRegs(rip=99))
    with pytest.raises(TypeError, match="arg"):
        q.vcpu.ioctl(KVM_SET_REGS, {"rax": 1})
    assert q.run() == "HLT"


def test_run_without_program_or_memory():
    p, vm = _vm()
    vcpu = vm.ioctl(KVM_CREATE_VCPU, 0)
    assert vcpu.ioctl(KVM_RUN) == 0
    assert vcpu._run.reason_name == "FAIL_ENTRY"


@pytest.mark.parametrize("kw,name", [({"ram_size": 1000}, "ram_size"),
                                     ({"ram_size": 4097}, "ram_size"),
                                     ({"ram_size": 2.0}, "ram_size"),
                                     ({"run_budget": 0}, "run_budget"),
                                     ({"run_budget": math.inf}, "run_budget"),
                                     ({"mmio_base": 0}, "mmio_base"),
                                     ({"mmio_base": -8}, "mmio_base"),
                                     ({"process": "p"}, "process"),
                                     ({"dirty_log": "yes"}, "dirty_log")])
def test_qemu_bad_arguments(kw, name):
    with pytest.raises((ValueError, TypeError)) as e:
        QemuProcess.boot("HLT", **kw)
    assert name in str(e.value)


def test_qemu_bad_program_and_source():
    with pytest.raises(TypeError, match="program"):
        QemuProcess("HLT")
    with pytest.raises(ValueError, match="line 2"):
        QemuProcess.boot("NOP\nFROB EAX")
    with pytest.raises((ValueError, TypeError), match="source"):
        QemuProcess.boot(None)
    q = QemuProcess.boot("HLT")
    for bad in (0, -1, None, 1.5):
        with pytest.raises((ValueError, TypeError), match="max_exits"):
            q.run(max_exits=bad)


# -- widget factories ---------------------------------------------------------------

from virtlab.widgets.binary_translation import binary_translation_lab  # noqa: E402
from virtlab.widgets.debugger import step_debugger  # noqa: E402
from virtlab.widgets.hardware import hardware_lab  # noqa: E402
from virtlab.widgets.hypervisor_types import hypervisor_types_lab  # noqa: E402


@pytest.mark.parametrize("factory,kw,name", [
    (hypervisor_types_lab, {"stack": "type3"}, "stack"),
    (hypervisor_types_lab, {"size_kib": 0}, "size_kib"),
    (hypervisor_types_lab, {"world_switch": math.nan}, "world_switch"),
    (hypervisor_types_lab, {"vm_exit": -5}, "vm_exit"),
    (step_debugger, {"technique": "warp"}, "technique"),
    (step_debugger, {"program": None}, "program"),
    (binary_translation_lab, {"iterations": 0}, "iterations"),
    (binary_translation_lab, {"block": 7}, "block"),
    (binary_translation_lab, {"iterations": 2.5}, "iterations"),
    (hardware_lab, {"vm_exit": 10**9}, "vm_exit"),
    (hardware_lab, {"ept": "yes"}, "ept"),
])
def test_widget_factories_reject_bad_arguments(factory, kw, name):
    with pytest.raises((ValueError, TypeError)) as e:
        factory(**kw)
    assert name in str(e.value)


def test_debugger_step_after_halt_is_harmless():
    app = step_debugger("native", "loop")
    app.run()
    n = app.state.steps
    app.step()
    assert app.state.status == "halted" and app.error is None and app.state.steps == n + 1
