"""Hypervisor types as data (virtlab.hypervisor.stacks): lecture facts and cost invariants."""

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab.hypervisor.stacks import (
    STACK_KINDS, Component, HypervisorStack, IoStep, StackCosts, all_stacks, check_stack,
    compare_stacks, get_stack, io_cost, vmi_stacks,
)

COST_FIELDS = [f for f in StackCosts.__dataclass_fields__]
costs_st = st.builds(StackCosts, **{f: st.integers(0, 50_000) for f in COST_FIELDS})


def test_lecture_examples_per_type():
    # Lecture slides "Typ-1-Hypervisor", "Typ-2-Hypervisor", "Paravirtualisierung".
    t1 = get_stack("type1").examples
    assert any("XenServer" in e for e in t1)
    assert any("ESX" in e for e in t1)
    assert any("Hyper-V" in e for e in t1)
    assert get_stack("type2").examples == ("VMware Workstation",)
    assert get_stack("paravirtual").examples == ("Xen",)


def test_type1_vmm_directly_on_hardware():
    s = get_stack("type1")
    assert s.component("vmm").kind == "hypervisor"
    assert s.component("vmm").runs_on == "hw"
    assert s.needs_hw_support  # lecture: "x86: unmöglich" without processor support


def test_type2_vmm_is_process_on_host_os():
    s = get_stack("type2")
    vmm = s.component("vmm")
    assert vmm.kind == "vmm_process"
    assert s.component(vmm.runs_on).kind == "host_os"
    # the host application sits next to the VMM on the host OS
    assert s.component("hostapp").runs_on == vmm.runs_on
    # guests are on the VMM, not on the host OS directly
    assert s.component("guest1").runs_on == "vmm"


def test_paravirtual_rings_match_lecture_figure():
    s = get_stack("paravirtual")
    assert s.component("xen").privilege == "ring 0"
    for g in ("guest1", "guest2"):
        assert s.component(g).kind == "pv_guest_os"  # modified guest
        assert s.component(g).privilege == "ring 1"
    assert s.component("app1a").privilege == "ring 3"
    assert not s.full_virtualization
    # the guests reach the hypervisor only through the hypercall API
    assert s.component("guest1").runs_on == "api"
    assert s.component("api").kind == "interface"


def test_kvm_stack_linux_is_the_hypervisor():
    s = get_stack("kvm")
    assert s.component("linux").kind == "hypervisor"
    assert "kvm" in s.component("linux").label
    assert [c.name for c in s.path_to_hardware("guest1")] == \
        ["guest1", "qemu1", "devkvm", "linux", "hw"]
    assert "non-root" in s.component("guest1").privilege
    assert "root" in s.component("qemu1").privilege


@pytest.mark.parametrize("stack", all_stacks() + vmi_stacks(), ids=lambda s: s.kind)
def test_every_stack_is_a_tree_over_one_hardware(stack):
    g = stack.graph()
    assert nx.is_tree(g.to_undirected())
    hw = [n for n, d in g.nodes(data=True) if d["kind"] == "hardware"]
    assert len(hw) == 1
    assert g.out_degree(hw[0]) == 0
    assert all(g.out_degree(n) == 1 for n in g if n != hw[0])
    assert check_stack(stack) == []


def test_type2_pays_world_switches_and_an_extra_copy():
    """Probe the two paths one price at a time (all other prices 0), so the expected
    counts come from the hosted architecture, not from re-typing the path data."""
    from dataclasses import fields

    def probe(category):
        costs = StackCosts(**{f.name: int(f.name == category) for f in fields(StackCosts)})
        return io_cost(get_stack("type1"), costs).total, io_cost(get_stack("type2"), costs).total

    # The hosted VMM leaves the host kernel's world and comes back: 2 world switches.
    assert probe("world_switch") == (0, 2)
    # Its device model is a host process: the host scheduler switches to it and back,
    # and it reaches the disk through one host system call.
    assert probe("context_switch")[1] - probe("context_switch")[0] == 2
    assert probe("host_syscall")[1] - probe("host_syscall")[0] == 1
    # The data passes one more buffer (guest -> VMM process -> host kernel -> device).
    t1, t2 = io_cost(get_stack("type1")), io_cost(get_stack("type2"))
    assert t2.copies == t1.copies + 1
    # Both stacks drive the same disk once.
    assert probe("device") == (1, 1)
    # Pricing is linear in the steps: the full total is the sum of the probes.
    full = StackCosts()
    assert t2.total == sum(probe(f.name)[1] * getattr(full, f.name) for f in fields(StackCosts))


def test_copy_cost_is_linear_in_size():
    for kind in STACK_KINDS:
        a = io_cost(get_stack(kind), size_kib=4)
        b = io_cost(get_stack(kind), size_kib=5)
        assert b.total - a.total == a.copies * StackCosts().copy_kib


def test_default_order_native_pv_type1_kvm_type2():
    r = compare_stacks()
    order = sorted(r, key=lambda k: r[k].total)
    assert order[0] == "native" and order[-1] == "type2"
    assert r["paravirtual"].total < r["type1"].total


@given(costs_st, st.integers(1, 4096))
def test_native_is_never_more_expensive(costs, size):
    r = compare_stacks(costs, size)
    for kind, c in r.items():
        assert c.total >= r["native"].total, kind
        assert c.total == sum(cyc for _, cyc in c.steps)
        assert c.total == sum(c.by_category.values())


@given(costs_st)
def test_type2_beats_type1_only_if_world_switch_is_cheaper_than_an_exit(costs):
    t1 = io_cost(get_stack("type1"), costs).total
    t2 = io_cost(get_stack("type2"), costs).total
    if costs.world_switch >= costs.vm_exit:
        assert t2 > t1 or (t2 == t1 and costs.world_switch == costs.vm_exit == 0)


def test_vmi_one_guest_three_back_ends():
    stacks = vmi_stacks()
    assert {s.component("guest").label for s in stacks} == {"VMI Linux"}
    libs = [s.component("lib").label for s in stacks]
    assert libs == ["HW-Interface-Library", "VMware-Library", "Xen-Library"]
    assert stacks[0].component("lib").runs_on == "hw"
    assert stacks[2].component("hyp").label == "Xen"


def test_check_stack_reports_problems():
    hw = Component("hw", "Hardware", "hardware", None, "-")
    g = Component("g", "Guest", "guest_os", "hw", "ring 0")
    s = HypervisorStack("x", "X", (), (hw, g), (IoStep("g", "driver", "driver"),))
    problems = check_stack(s)
    assert any("not an app" in p for p in problems)
    assert any("never reaches" in p for p in problems)
    assert any("hypervisor" in p for p in problems)


def test_stacks_are_cached_and_immutable():
    assert get_stack("kvm") is get_stack("kvm")
    with pytest.raises(AttributeError):
        get_stack("kvm").kind = "x"


def test_stack_costs_share_the_cpu_cost_table():
    from virtlab.hypervisor.costs import COSTS
    c = StackCosts()
    assert c.vm_exit == round(COSTS.vm_exit) == 2000  # SplitX [P]
    assert c.syscall == c.host_syscall == round(COSTS.native_trap)
    assert c.hypercall == round(COSTS.hypercall)
    assert StackCosts.from_cost_table(COSTS.replace(vm_exit=1360)).vm_exit == 1360
    assert StackCosts.from_cost_table(COSTS) == c


@pytest.mark.parametrize("kind", ["type1", "type2", "paravirtual", "kvm"])
def test_path_markers_leave_the_box_labels_readable(kind):
    # 09 [5] had the numbered markers on top of "Typ-2-Hypervisor", "Hardware", "ring 1"
    import matplotlib
    matplotlib.use("Agg")
    from virtlab.viz.hypervisor import stack_diagram
    fig = stack_diagram(get_stack(kind))
    fig.canvas.draw()            # places the markers' circles
    renderer = fig.canvas.get_renderer()
    texts = fig.axes[0].texts
    markers = [t for t in texts if t.get_text().isdigit() and t.get_bbox_patch() is not None]
    labels = [t for t in texts if t not in markers and t.get_text()]
    assert markers and labels
    for m in markers:
        box = m.get_bbox_patch().get_window_extent(renderer)
        for lab in labels:
            assert not box.overlaps(lab.get_window_extent(renderer)), (m.get_text(),
                                                                        lab.get_text())
