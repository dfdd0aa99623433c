"""Scenario runs: counts from reasoning, determinism for the seeded experiments."""

from hypothesis import given, settings, strategies as st

from virtlab.mmu.scenario import address_chain, demo_vm, side_by_side, tlb_experiment


def test_tlb_compulsory_misses_only_when_everything_fits():
    # 16 pages, 64 entries, no switches: each page misses exactly once
    r = tlb_experiment(entries=64, pages=16, accesses=2000, switch_every=0)
    assert r.misses == 16 and r.hits == 2000 - 16
    # two address spaces that both fit, tagged: 2 x 16 compulsory misses, no flushes
    t = tlb_experiment(entries=64, pages=16, accesses=2000, switch_every=100, tagged=True)
    assert t.misses == 32 and t.flushes == 0
    # untagged: flushed at each of the 19 switches before the end -> refills each time
    u = tlb_experiment(entries=64, pages=16, accesses=2000, switch_every=100, tagged=False)
    assert u.flushes == 20 and u.misses > t.misses
    assert u.misses <= 16 * 20


def test_tlb_miss_costs_per_technique():
    r = tlb_experiment(entries=8, pages=64, accesses=500)
    assert r.refs_native == 4 * r.misses and r.refs_nested == 24 * r.misses


@settings(max_examples=15)
@given(st.integers(0, 1000), st.sampled_from([0, 7, 40]), st.sampled_from([0, 25, 60]),
       st.sampled_from([2, 4]), st.booleans())
def test_side_by_side_counts(seed, update_every, switch_every, levels, tagged):
    r = side_by_side(150, pages=12, tlb_entries=8, update_every=update_every,
                     switch_every=switch_every, guest_levels=levels, tagged=tagged, seed=seed)
    assert r.translations_agree
    nat, sh, ne = r.stats["native"], r.stats["shadow"], r.stats["nested"]
    n = levels
    assert nat.pt_refs == n * nat.tlb_misses                 # every native miss: n refs
    assert ne.pt_refs == (n * 4 + n + 4) * ne.tlb_misses     # every nested miss: n*m+n+m
    assert sh.pt_refs <= n * (sh.tlb_misses + sh.hidden_faults)
    assert ne.traps == 0 and nat.traps == 0
    assert sh.cr3_traps == (150 // switch_every if switch_every else 0)   # counters start after boot
    if update_every:
        assert sh.pt_write_traps >= 150 // update_every
    assert r.cycles["nested"] == ne.pt_refs * 15.0


def test_side_by_side_and_tlb_experiment_are_deterministic():
    assert side_by_side(200, seed=4) == side_by_side(200, seed=4)
    assert side_by_side(200, seed=4) != side_by_side(200, seed=5)
    assert tlb_experiment(seed=2, switch_every=0) == tlb_experiment(seed=2, switch_every=0)
    assert tlb_experiment(seed=2) != tlb_experiment(seed=3)


def test_address_chain_of_demo_vm():
    vm, gpt = demo_vm()
    chain = address_chain(gpt, vm)
    assert [link.gpfn for link in chain.links] == [3, 4, 5, 6, 7]
    assert chain.links[-1].hpfn is None
    assert [link.writable for link in chain.links] == [True, False, True, True, True]
    assert [link.user for link in chain.links] == [True, True, True, False, True]


def test_outcomes_conformance_helper():
    import pytest

    from virtlab.mmu import NestedMMU, ShadowMMU
    from virtlab.mmu.scenario import outcomes
    vm1, g1 = demo_vm()
    vm2, g2 = demo_vm()
    rows = outcomes({"shadow": ShadowMMU(vm1, g1), "nested": NestedMMU(vm2, g2)},
                    [(0x400000, "w", True), (0x7fff000, "r", True), (0x8000000, "r", False),
                     (0x999000, "r", False)])
    assert all(r.agree for r in rows)
    assert [r.results["nested"] for r in rows[1:]] == ["user", "not-present", "not-present"]
    with pytest.raises(TypeError, match="mmus"):
        outcomes({}, [])
    with pytest.raises(ValueError, match="accesses"):
        outcomes({"n": NestedMMU(vm2, g2)}, [0x1000])
