"""Ballooning and overcommit: invariants (hypothesis), reclaim behaviour, determinism."""

from dataclasses import replace

from hypothesis import given, settings, strategies as st

from virtlab.balloon import POLICIES, REPLACEMENTS, BalloonHost, VMSpec, simulate


@st.composite
def vm_specs(draw, index):
    memory = draw(st.integers(8, 64))
    ws = draw(st.integers(0, 80))
    return VMSpec(f"vm{index}", memory=memory, working_set=ws,
                  file_pages=draw(st.integers(0, 40)),
                  shared_pages=draw(st.integers(0, ws)),
                  replacement=draw(st.sampled_from(REPLACEMENTS)),
                  balloon_target=draw(st.integers(0, memory - 4)),
                  accesses=draw(st.integers(0, 40)),
                  skew=draw(st.sampled_from([1.0, 3.0])))


@settings(max_examples=40)
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(*[vm_specs(i) for i in range(n)])),
       st.integers(8, 160), st.sampled_from(POLICIES), st.integers(1, 20),
       st.lists(st.tuples(st.integers(0, 2), st.integers(0, 60)), max_size=4),
       st.integers(0, 2**32))
def test_invariants_hold_every_step(vms, frames, policy, rate, retargets, seed):
    host = BalloonHost(frames, list(vms), policy=policy, rate=rate, scan_rate=8, seed=seed)
    for step in range(12):
        if step == 5:
            for i, pages in retargets:
                g = host.guests[i % len(host.guests)]
                host.set_target(g.spec.name, min(pages, g.spec.memory - 4))
        host.step()
        acct = host.check()            # no frame with two owners, frames conserved
        assert acct.conserved
        assert (acct.guest_used + acct.guest_free + acct.balloon_held + acct.shared
                + acct.host_free) == frames
        for name, v in acct.per_vm.items():
            assert v["used"] + v["free"] + v["balloon"] == v["memory"]
        assert acct.balloon_held == 0   # ballooned frames always go back to the host


def test_balloon_reaches_target_and_frees_host_frames():
    vm = VMSpec("a", memory=64, working_set=20, accesses=50)
    host = BalloonHost(128, [vm], seed=1)
    host.run(10)
    before = host.snapshot()
    assert before["a"]["balloon"] == 0
    host.set_target("a", 40)             # 64 - 40 = 24 >= the 20 used pages: only free pages go
    host.run(5)
    after = host.snapshot()
    assert after["a"]["balloon"] == 40
    assert after["a"]["guest_swap_out"] == before["a"]["guest_swap_out"] == 0
    assert after["a"]["resident"] <= 64 - 40
    assert after["host_free"] == 128 - after["a"]["resident"]
    host.check()


def test_deflate_returns_pages_to_guest_free_list():
    host = BalloonHost(128, [VMSpec("a", memory=64, working_set=10, balloon_target=30)])
    host.run(4)
    free_before = host.snapshot()["a"]["guest_free"]
    host.set_target("a", 0)
    host.run(3)
    s = host.snapshot()["a"]
    assert s["balloon"] == 0 and s["guest_free"] == free_before + 30
    host.check()


def test_hypervisor_never_swaps_when_balloons_make_room():
    # sum(memory - target) = 3 * 80 = 240 <= 256 frames; rate high enough to inflate at once
    vms = [VMSpec(f"vm{i}", 128, 60, file_pages=80, balloon_target=48) for i in range(3)]
    t = simulate(256, vms, policy="balloon", steps=30, rate=128, check=True)
    tot = t.totals()
    assert tot["hv_swap_out"] == 0 and tot["double_paging"] == 0
    assert all(b[-1] == 48 for b in t.balloon.values())
    assert tot["guest_swap_out"] > 0      # the guests page by their own choice instead


def test_double_paging_needs_hypervisor_swapping():
    # the guest is short of memory itself (working set > memory) and the hypervisor swaps too
    vm = VMSpec("a", memory=40, working_set=60, balloon_target=16, accesses=80, skew=1.0)
    s = simulate(64, [vm], policy="swap", steps=40, check=True).totals()
    b = simulate(64, [vm], policy="balloon", steps=40, check=True).totals()
    assert s["double_paging"] > 0 and s["hv_swap_out"] > 0
    assert b["double_paging"] == 0 and b["hv_swap_out"] == 0


def test_hypervisor_does_not_depend_on_guest_replacement_policy():
    """Ballooning works the same whatever the guest's policy: the hypervisor's side
    (balloon sizes, host free frames) is identical; only the guest's choices differ."""
    base = [VMSpec("a", 64, 50, file_pages=30, balloon_target=24, accesses=60)]
    traces = [simulate(200, [replace(base[0], replacement=r)], policy="balloon", steps=25,
                       check=True) for r in REPLACEMENTS]
    assert len({t.balloon["a"] for t in traces}) == 1
    assert len({t.resident["a"][-1] for t in traces}) == 1
    assert len({t.counters["a"]["guest_swap_out"] for t in traces}) > 1


def test_hypervisor_swapping_hurts_hot_pages_more_than_ballooning():
    vms = [VMSpec(f"vm{i}", 128, 60, file_pages=80, balloon_target=44) for i in range(3)]
    io = {}
    for policy in ("balloon", "swap"):
        tot = simulate(256, vms, policy=policy, steps=40, check=True).totals()
        io[policy] = (tot["guest_swap_out"] + tot["guest_swap_in"] + tot["disk_reads"]
                      + tot["hv_swap_out"] + tot["hv_swap_in"])
    assert io["balloon"] < io["swap"]


def test_page_sharing_merges_identical_pages():
    vms = [VMSpec(f"vm{i}", 64, 40, shared_pages=20, balloon_target=10) for i in range(3)]
    t = simulate(100, vms, policy="sharing", steps=30, scan_rate=64, check=True)
    assert t.shared[-1] > 0
    none = simulate(100, [replace(v, shared_pages=0) for v in vms], policy="sharing",
                    steps=30, scan_rate=64)
    assert none.shared[-1] == 0
    assert t.totals()["hv_swap_out"] < none.totals()["hv_swap_out"]


def test_same_seed_same_trace_different_seed_differs():
    vms = [VMSpec("a", 64, 50, file_pages=20, balloon_target=20, replacement="random"),
           VMSpec("b", 64, 40, balloon_target=10)]
    for policy in POLICIES:
        a = simulate(96, vms, policy=policy, steps=20, seed=5)
        b = simulate(96, vms, policy=policy, steps=20, seed=5)
        assert a == b
    c = simulate(96, vms, policy="swap", steps=20, seed=6)
    assert c != simulate(96, vms, policy="swap", steps=20, seed=5)


def test_tiny_host_where_every_frame_is_shared_still_makes_progress():
    vms = [VMSpec(f"v{i}", 16, 8, shared_pages=8, accesses=20, skew=1.0) for i in range(3)]
    for frames in (1, 3, 8):
        host = BalloonHost(frames, vms, policy="sharing", scan_rate=64)
        for _ in range(20):
            host.step()
            assert host.check().total == frames
