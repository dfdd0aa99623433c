"""Page walks: reference counts of native, shadow and nested translation (facts.md §3)."""

import pytest

from virtlab.mmu import (X86_32_2LEVEL, X86_64, X86_64_5LEVEL, GuestVM, NativeMMU, NestedMMU,
                         PageFault, PageTable, PagingMode, PhysicalMemory, ShadowMMU, TLB,
                         compose, nested_walk_refs)
from virtlab.mmu.page_table import PTE_A, PTE_D


def _vm(gmode, hmode, pages=(1, 2, 3)):
    host = PhysicalMemory(4096)
    vm = GuestVM(host, guest_frames=512, host_mode=hmode)
    gpt = vm.new_page_table(gmode)
    for i, gpfn in enumerate(pages):
        gpt.map(0x400000 + i * 0x1000, gpfn)
        vm.host_map(gpfn)
    return host, vm, gpt


@pytest.mark.parametrize("gmode,hmode,expected", [
    (X86_64, X86_64, 24),            # the number in Stojkovic et al. / Bhargava et al.
    (X86_64_5LEVEL, X86_64_5LEVEL, 35),
    (X86_32_2LEVEL, X86_32_2LEVEL, 8),             # (2+1)(2+1)-1
    (X86_32_2LEVEL, X86_64, 14),            # 2*4+2+4
])
def test_nested_tlb_miss_costs_nm_plus_n_plus_m(gmode, hmode, expected):
    host, vm, gpt = _vm(gmode, hmode)
    mmu = NestedMMU(vm, gpt)
    before = host.reads
    mmu.translate(0x400123)
    assert mmu.last_refs == expected == host.reads - before
    assert nested_walk_refs(gmode.levels, hmode.levels) == expected
    assert mmu.stats().data_accesses == 1       # counted separately, not in the 24


def test_tlb_hit_costs_zero_references():
    host, vm, gpt = _vm(X86_64, X86_64)
    mmu = NestedMMU(vm, gpt)
    mmu.translate(0x400000)
    before = host.reads
    assert mmu.translate(0x400fff) == mmu.translate(0x400000) + 0xfff
    assert mmu.last_refs == 0 and host.reads == before
    assert mmu.stats().tlb_hits == 2


@pytest.mark.parametrize("gmode", [X86_32_2LEVEL, X86_64, X86_64_5LEVEL])
def test_shadow_tlb_miss_costs_guest_levels(gmode):
    host, vm, gpt = _vm(gmode, X86_64)
    mmu = ShadowMMU(vm, gpt)
    mmu.translate(0x400000, "w")        # hidden fault fills the shadow entry
    mmu.tlb.flush()
    before = host.reads
    mmu.translate(0x400000, "w")
    assert mmu.last_refs == gmode.levels == host.reads - before


@pytest.mark.parametrize("mode", [X86_32_2LEVEL, X86_64])
def test_native_tlb_miss_costs_levels(mode):
    mem = PhysicalMemory(64)
    pt = PageTable(mem, mode)
    pt.map(0x1000, 3)
    mmu = NativeMMU(mem, pt)
    assert mmu.translate(0x1004) == 3 * 4096 + 4
    assert mmu.last_refs == mode.levels


def test_guest_pt_writes_trap_under_shadow_not_nested():
    host, vm, gpt = _vm(X86_64, X86_64)
    shadow = ShadowMMU(vm, gpt)
    shadow.translate(0x400000)
    traps = shadow.stats().pt_write_traps
    gpt.map(0x401000, 7)                        # an existing leaf table is written
    assert shadow.stats().pt_write_traps == traps + 1
    assert shadow.stats().trap_cycles > 0

    host2, vm2, gpt2 = _vm(X86_64, X86_64)
    nested = NestedMMU(vm2, gpt2)
    nested.translate(0x400000)
    gpt2.map(0x401000, 7)
    gpt2.map(0x7000_0000, 8)
    nested.write_cr3(gpt2)
    assert nested.stats().traps == 0
    assert nested.stats().cr3_traps == 0


def test_shadow_cr3_write_traps_and_flushes_untagged_tlb():
    host, vm, gpt = _vm(X86_64, X86_64)
    mmu = ShadowMMU(vm, gpt)
    mmu.translate(0x400000)
    assert len(mmu.tlb) == 1
    mmu.write_cr3(gpt)
    assert mmu.stats().cr3_traps == 2 and len(mmu.tlb) == 0


def test_tagged_tlb_survives_address_space_switch():
    mem = PhysicalMemory(256)
    a, b = PageTable(mem), PageTable(mem)
    a.map(0x1000, 10)
    b.map(0x1000, 20)
    mmu = NativeMMU(mem, a, tlb=TLB(16, tagged=True), asid=1)
    assert mmu.translate(0x1000) >> 12 == 10
    mmu.write_cr3(b, asid=2)
    assert mmu.translate(0x1000) >> 12 == 20
    mmu.write_cr3(a, asid=1)
    assert mmu.translate(0x1000) >> 12 == 10 and mmu.last_refs == 0   # still cached
    untagged = NativeMMU(mem, a)
    untagged.translate(0x1000)
    untagged.write_cr3(b)
    untagged.write_cr3(a)
    untagged.translate(0x1000)
    assert untagged.last_refs == 4                                      # flushed


def test_hidden_fault_vs_true_guest_fault():
    host, vm, gpt = _vm(X86_64, X86_64)
    mmu = ShadowMMU(vm, gpt)
    mmu.translate(0x400000)
    s = mmu.stats()
    assert s.hidden_faults == 1 and s.guest_faults == 0
    with pytest.raises(PageFault) as exc:
        mmu.translate(0x900000)
    assert exc.value.fault.stage == "guest" and exc.value.fault.reason == "not-present"
    s = mmu.stats()
    assert s.hidden_faults == 1 and s.guest_faults == 1


def test_dirty_and_accessed_bits_native_shadow_nested():
    for cls in (ShadowMMU, NestedMMU):
        host, vm, gpt = _vm(X86_64, X86_64)
        mmu = cls(vm, gpt)
        mmu.translate(0x400000, "r")
        entry = gpt.entry(0x400000)
        assert entry & PTE_A and not entry & PTE_D, cls
        mmu.translate(0x400000, "w")     # first write: walk again, set D
        assert gpt.entry(0x400000) & PTE_D, cls


def test_shadow_resyncs_after_guest_remap():
    host, vm, gpt = _vm(X86_64, X86_64, pages=(1, 2))
    vm.host_map(9)
    mmu = ShadowMMU(vm, gpt)
    old = mmu.translate(0x400000)
    gpt.map(0x400000, 9)               # traps, stale shadow entry dropped
    new = mmu.translate(0x400000)
    assert new >> 12 == vm.host_lookup(9)[0] != old >> 12


def test_permission_faults_and_host_write_protection():
    host, vm, gpt = _vm(X86_64, X86_64, pages=())
    gpt.map(0x1000, 4, writable=False)
    gpt.map(0x2000, 5, user=False)
    gpt.map(0x3000, 6)
    vm.host_map(4)
    vm.host_map(5)
    vm.host_map(6, writable=False)
    for cls in (ShadowMMU, NestedMMU):
        mmu = cls(vm, gpt)
        for va, acc, user, reason, stage in [(0x1000, "w", False, "write", "guest"),
                                             (0x2000, "r", True, "user", "guest"),
                                             (0x3000, "w", False, "write", "host")]:
            with pytest.raises(PageFault) as exc:
                mmu.translate(va, acc, user)
            assert (exc.value.fault.reason, exc.value.fault.stage) == (reason, stage), cls
        assert mmu.translate(0x3000, "r") >> 12 == vm.host_lookup(6)[0]


def test_composed_table_matches_guest_then_host():
    host, vm, gpt = _vm(X86_32_2LEVEL, X86_64)
    ct = compose(gpt, vm)
    mmu = NativeMMU(ct.memory, ct)
    for i, gpfn in enumerate((1, 2, 3)):
        assert mmu.translate(0x400000 + i * 4096) >> 12 == vm.host_lookup(gpfn)[0]


def test_walk_steps_order_for_figures():
    host, vm, gpt = _vm(X86_64, X86_64)
    steps = NestedMMU(vm, gpt).walk_steps(0x400000)
    assert len(steps) == 24
    assert [s.stage for s in steps].count("guest") == 4
    assert [s.guest_level for s in steps if s.stage == "host"][-4:] == [0, 0, 0, 0]


def test_custom_paging_mode():
    mode = PagingMode("toy 3-level", levels=3, bits_per_level=4, entry_size=8)
    host, vm, gpt = _vm(mode, mode)
    mmu = NestedMMU(vm, gpt)
    gpt2 = vm.new_page_table(mode)
    gpt2.map(0x5000, 1)
    mmu.write_cr3(gpt2)
    mmu.translate(0x5000)
    assert mmu.last_refs == 3 * 3 + 3 + 3


# -- large pages ---------------------------------------------------------------------

def test_native_large_page_walk_stops_one_level_early():
    mem = PhysicalMemory(64)
    pt = PageTable(mem, X86_64)
    pt.map(0x40000000, pfn=512, large=True)               # 2 MiB page at 1 GiB
    mmu = NativeMMU(mem, pt)
    assert mmu.translate(0x40123456) == 512 * 4096 + 0x123456
    assert mmu.last_refs == 3
    assert pt.lookup(0x40123000) == (512 + 0x123, pt.lookup(0x40000000)[1])


def test_nested_large_pages_shorten_the_2d_walk():
    # guest large page: n = 3 effective levels -> 3*4 + 3 + 4 = 19
    host = PhysicalMemory(8192)
    vm = GuestVM(host, guest_frames=2048)
    gpt = vm.new_page_table(X86_64)
    gpt.map(0x200000, 512, large=True)
    vm.host_map(512 + 7)
    mmu = NestedMMU(vm, gpt)
    assert mmu.translate(0x207010) >> 12 == vm.host_lookup(519)[0]
    assert mmu.last_refs == 19
    # host large page as well for the data: the final host walk has 3 levels -> 18
    gpt.map(0x400000, 1024, large=True)
    base = vm.host_map_large(1024)
    mmu.invlpg(0x400000)
    assert mmu.translate(0x401000) >> 12 == base + 1
    assert mmu.last_refs == 3 * 4 + 3 + 3


def test_shadow_shadows_guest_large_pages_4k_wise():
    host = PhysicalMemory(8192)
    vm = GuestVM(host, guest_frames=2048)
    gpt = vm.new_page_table(X86_64)
    gpt.map(0x200000, 512, large=True, writable=False)
    vm.host_map(513)
    mmu = ShadowMMU(vm, gpt)
    assert mmu.translate(0x201000) >> 12 == vm.host_lookup(513)[0]
    mmu.tlb.flush()
    mmu.translate(0x201000)
    assert mmu.last_refs == 4                  # the shadow maps the 4 KiB piece
    with pytest.raises(PageFault) as exc:
        mmu.translate(0x201000, "w")
    assert (exc.value.fault.reason, exc.value.fault.stage, exc.value.fault.level) == \
        ("write", "guest", 2)


def test_large_page_argument_checks():
    mem = PhysicalMemory(64)
    pt = PageTable(mem, X86_64)
    with pytest.raises(ValueError, match="vaddr"):
        pt.map(0x201000, 512, large=True)
    with pytest.raises(ValueError, match="pfn"):
        pt.map(0x200000, 513, large=True)
    pt.map(0x200000, 512, large=True)
    with pytest.raises(ValueError, match="large page"):
        pt.map(0x201000, 7)                    # a 4 KiB page inside the large one
    with pytest.raises(ValueError, match="large page"):
        pt.unmap(0x201000)
    pt.map(0x600000, 3)
    with pytest.raises(ValueError, match="page table below"):
        pt.map(0x600000, 1024, large=True)
    assert pt.unmap(0x200000) and pt.lookup(0x200000) is None
