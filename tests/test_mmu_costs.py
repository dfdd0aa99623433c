"""Cost model: per-event counts agree with the executable MMUs; crossover is where costs meet."""

import math

import pytest
from hypothesis import given, strategies as st

from virtlab.mmu import X86_64, GuestVM, NestedMMU, PhysicalMemory, ShadowMMU
from virtlab.mmu.costs import CostTable, Workload, compare, crossover, sweep


def _setup(cls):
    vm = GuestVM(PhysicalMemory(2048), guest_frames=256)
    gpt = vm.new_page_table(X86_64)
    for i in range(4):
        gpt.map(0x10000 + i * 4096, i)
        vm.host_map(i)
    vm.host_map(9)
    mmu = cls(vm, gpt)
    for i in range(4):
        mmu.translate(0x10000 + i * 4096, "w")
    mmu.reset_counters()
    return vm, gpt, mmu


def test_shadow_event_counts_match_cost_model():
    vm, gpt, mmu = _setup(ShadowMMU)
    # one guest PT update of a live mapping = 1 write trap, then 1 hidden fault on next use
    gpt.map(0x10000, 9)
    mmu.translate(0x10000, "w")
    s = mmu.stats()
    assert (s.pt_write_traps, s.hidden_faults) == (1, 1)
    # a context switch (CR3 write) = 1 trap
    mmu.write_cr3(gpt)
    assert mmu.stats().cr3_traps == 1
    # TLB miss on a shadowed page = guest levels references
    mmu.tlb.flush()
    mmu.translate(0x11000, "w")
    assert mmu.last_refs == CostTable().refs_per_miss("shadow")


def test_nested_event_counts_match_cost_model():
    vm, gpt, mmu = _setup(NestedMMU)
    gpt.map(0x10000, 9)
    mmu.invlpg(0x10000)
    mmu.write_cr3(gpt)
    mmu.translate(0x10000, "w")
    s = mmu.stats()
    assert s.traps == 0
    assert mmu.last_refs == CostTable().refs_per_miss("nested") == 24


def test_costs_by_hand():
    w = Workload(tlb_misses_per_s=1000, pt_updates_per_s=10, context_switches_per_s=5,
                 page_faults_per_s=3)
    c = CostTable(clock_hz=1e9, ref_cycles=10, trap_cycles=1000)
    nat, sh, ne = compare(w, c)
    assert nat.total == 1000 * 4 * 10
    assert sh.total == 1000 * 4 * 10 + (2 * 10 + 5 + 3) * 1000
    assert ne.total == 1000 * 24 * 10
    assert nat.overhead == 0
    assert math.isclose(ne.overhead, (240000 - 40000) / 1e9)


@given(st.sampled_from(["pt_updates_per_s", "context_switches_per_s", "page_faults_per_s",
                        "tlb_misses_per_s"]),
       st.floats(0, 2e6), st.floats(0, 2e5), st.floats(0, 2e4), st.floats(0, 2e4))
def test_crossover_is_where_costs_meet(knob, misses, updates, switches, faults):
    from dataclasses import replace
    w = Workload(misses, updates, switches, faults)
    x = crossover(w, knob=knob)
    if x is None:
        return
    _, sh, ne = compare(replace(w, **{knob: x}))
    assert math.isclose(sh.total, ne.total, rel_tol=1e-9, abs_tol=1e-3)


def test_sweep_shows_crossover_in_pt_update_rate():
    x = crossover(Workload())
    s = sweep("pt_updates_per_s", [x * 0.5, x * 1.5])
    assert s["shadow"][0] < s["nested"][0]
    assert s["shadow"][1] > s["nested"][1]


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_bad_workload(bad):
    with pytest.raises(ValueError, match="pt_updates_per_s"):
        Workload(pt_updates_per_s=bad)
