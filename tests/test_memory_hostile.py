"""Hostile input for the memory models: clear ValueError/TypeError naming the parameter,
and nothing changed afterwards."""

import math

import pytest
from hypothesis import given, strategies as st

from virtlab.mmu import (X86_32_2LEVEL, X86_64, GuestVM, NativeMMU, NestedMMU, PageTable,
                         PhysicalMemory, ShadowMMU, TLB)
from virtlab.mmu.costs import CostTable, Workload, crossover, sweep

junk = st.one_of(st.none(), st.text(max_size=3), st.floats(allow_nan=True),
                 st.booleans(), st.lists(st.integers(), max_size=2),
                 st.integers(-10**30, -1), st.integers(10**20, 10**30))


def expect_named(fn, name):
    with pytest.raises((ValueError, TypeError)) as exc:
        fn()
    assert name in str(exc.value), str(exc.value)


@given(junk)
def test_physical_memory_frames(value):
    expect_named(lambda: PhysicalMemory(value), "frames")


@given(junk)
def test_tlb_entries(value):
    expect_named(lambda: TLB(value), "entries")


def snapshot(mem, pt):
    return (dict(mem._words), mem.free_frames, pt.mappings())


@given(st.one_of(junk, st.integers(1, 4095).map(lambda o: 0x1000 + o),
                 st.just(1 << 48), st.just(-4096)))
def test_map_bad_vaddr_changes_nothing(vaddr):
    mem = PhysicalMemory(64)
    pt = PageTable(mem, X86_64)
    pt.map(0x1000, 1)
    before = snapshot(mem, pt)
    expect_named(lambda: pt.map(vaddr, 2), "vaddr")
    assert snapshot(mem, pt) == before


@given(st.one_of(junk, st.just(1 << 20)))
def test_map_bad_pfn_changes_nothing(pfn):
    mem = PhysicalMemory(64)
    pt = PageTable(mem, X86_32_2LEVEL)          # 4-byte entries: pfn < 2**20
    before = snapshot(mem, pt)
    expect_named(lambda: pt.map(0x5000, pfn), "pfn")
    assert snapshot(mem, pt) == before


def test_unaligned_and_out_of_range_addresses():
    mem = PhysicalMemory(4)
    expect_named(lambda: mem.read_word(2), "addr")
    expect_named(lambda: mem.read_word(4 * 4096), "addr")
    expect_named(lambda: mem.write_word(-8, 1), "addr")
    expect_named(lambda: mem.write_word(8, -1), "value")
    expect_named(lambda: mem.free_frame(9), "pfn")
    assert mem.reads == 0 and mem.writes == 0


def test_out_of_range_frames_for_guest_backing():
    host = PhysicalMemory(64)
    vm = GuestVM(host, 16)
    free = host.free_frames
    expect_named(lambda: vm.host_map(16), "gpfn")
    expect_named(lambda: vm.host_map(-1), "gpfn")
    expect_named(lambda: vm.host_map(1, hpfn=64), "hpfn")
    expect_named(lambda: vm.host_map(1, hpfn=vm.host_table.root), "hpfn")
    expect_named(lambda: GuestVM(host, 0), "guest_frames")
    expect_named(lambda: GuestVM(host, -3), "guest_frames")
    assert host.free_frames == free


@pytest.mark.parametrize("cls", [ShadowMMU, NestedMMU])
@given(vaddr=st.one_of(junk, st.just(1 << 48)), access=st.sampled_from(["r", "w", "x", 1]),
       user=st.sampled_from([True, False, 1, None]))
def test_translate_bad_arguments_leave_counters(cls, vaddr, access, user):
    vm = GuestVM(PhysicalMemory(512), 32)
    gpt = vm.new_page_table(X86_64)
    gpt.map(0x1000, 1)
    vm.host_map(1)
    mmu = cls(vm, gpt)
    mmu.translate(0x1000)
    before = mmu.stats()
    with pytest.raises((ValueError, TypeError)) as exc:
        mmu.translate(vaddr, access, user)
    assert any(n in str(exc.value) for n in ("vaddr", "access", "user"))
    assert mmu.stats() == before


def test_native_mmu_refuses_foreign_table():
    a, b = PhysicalMemory(8), PhysicalMemory(8)
    expect_named(lambda: NativeMMU(a, PageTable(b)), "page_table")
    expect_named(lambda: NativeMMU("mem"), "memory")


@given(st.sampled_from(["tlb_misses_per_s", "pt_updates_per_s", "context_switches_per_s",
                        "page_faults_per_s"]),
       st.one_of(st.floats(max_value=-1e-9), st.just(math.nan), st.just(math.inf),
                 st.just(1e12), st.text(max_size=2)))
def test_workload_knobs(knob, value):
    expect_named(lambda: Workload(**{knob: value}), knob)


def test_cost_table_and_knob_names():
    expect_named(lambda: CostTable(guest_levels=0), "guest_levels")
    expect_named(lambda: CostTable(ref_cycles=-1), "ref_cycles")
    expect_named(lambda: crossover(knob="bogus"), "knob")
    expect_named(lambda: sweep("pt_updates_per_s", []), "values")
    expect_named(lambda: sweep("pt_updates_per_s", [-5]), "values")
