"""TLB: LRU replacement, flush, tags; hit/miss counting."""

from hypothesis import given, strategies as st

from virtlab.mmu import TLB


def test_lru_evicts_least_recently_used():
    tlb = TLB(3)
    for vpn in (1, 2, 3):
        tlb.insert(vpn, vpn, 7)
    assert tlb.lookup(1) is not None       # 1 is now most recent, 2 is LRU
    tlb.insert(4, 4, 7)
    assert tlb.lookup(2) is None
    assert [k[1] for k in tlb.contents()] == [3, 1, 4]


@given(st.integers(1, 8), st.lists(st.integers(0, 15), max_size=200))
def test_matches_reference_lru(cap, refs):
    tlb = TLB(cap)
    ref: list[int] = []
    hits = 0
    for vpn in refs:
        if vpn in ref:
            hits += 1
            ref.remove(vpn)
        elif len(ref) == cap:
            ref.pop(0)
        ref.append(vpn)
        if tlb.lookup(vpn) is None:
            tlb.insert(vpn, vpn, 7)
    assert tlb.hits == hits and tlb.misses == len(refs) - hits
    assert [k[1] for k in tlb.contents()] == ref
    assert len(tlb) <= cap


def test_untagged_ignores_tags_tagged_keeps_them_apart():
    u = TLB(4)
    u.insert(1, 10, 7, tag=1)
    assert u.lookup(1, tag=2) == (10, 7)      # untagged: a switch must flush
    t = TLB(4, tagged=True)
    t.insert(1, 10, 7, tag=1)
    assert t.lookup(1, tag=2) is None
    t.insert(1, 20, 7, tag=2)
    assert t.lookup(1, tag=1) == (10, 7) and t.lookup(1, tag=2) == (20, 7)


def test_flush_and_invalidate():
    t = TLB(8)
    for v in range(5):
        t.insert(v, v, 7)
    assert t.invalidate(2) == 1
    assert t.invalidate_range(3, 5) == 2
    t.flush()
    assert len(t) == 0 and t.stats().flushes == 1
