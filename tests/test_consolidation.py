"""Server consolidation: placement policies, capacity, utilization, energy."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtlab import consolidation as cons
from virtlab.consolidation import HostSpec, Server, check_placement, consolidate, make_servers

FLAT = [1.0] * 24


def flat(name, cpu, mem, group=None):
    return Server(name, [cpu] * 24, [mem] * 24, group=group)


hourly = st.lists(st.floats(min_value=0, max_value=16), min_size=24, max_size=24)
hourly_mem = st.lists(st.floats(min_value=0, max_value=128), min_size=24, max_size=24)


@st.composite
def server_sets(draw):
    n = draw(st.integers(1, 25))
    groups = draw(st.integers(1, 8))
    return [Server(f"s{i}", draw(hourly), draw(hourly_mem), group=f"g{i % groups}")
            for i in range(n)]


@settings(max_examples=40)
@given(server_sets(), st.sampled_from(cons.POLICIES), st.booleans(),
       st.floats(min_value=0, max_value=0.1))
def test_no_host_ever_exceeds_capacity(servers, policy, apart, overhead):
    host = HostSpec(cpus=16 * 1.1, memory_gb=128 * 1.1)
    p = consolidate(servers, policy, host=host, overhead=overhead, anti_affinity=apart)
    placed = [vm for h in p.hosts for vm in h.vms]
    assert sorted(placed) == sorted(s.name for s in servers)          # each exactly once
    for h in p.hosts:
        assert max(h.cpu) <= host.cpus + 1e-6
        assert max(h.memory) <= host.memory_gb + 1e-6
        if apart:
            groups = [s.group for s in servers if s.name in h.vms]
            assert len(groups) == len(set(groups))
    # lower bound: the busiest hour's total demand needs at least this many hosts
    f = 1 + overhead
    need = max(sum(s.cpu[t] for s in servers) * f / host.cpus for t in range(24))
    assert p.hosts_after >= math.ceil(need - 1e-9)
    assert p.hosts_after <= len(servers)


@settings(max_examples=25)
@given(server_sets(), st.sampled_from(cons.POLICIES))
def test_overhead_is_added_to_every_demand(servers, policy):
    p = consolidate(servers, policy, host=HostSpec(cpus=20, memory_gb=150), overhead=0.1)
    total_in = sum(sum(s.cpu) for s in servers)
    total_out = sum(sum(h.cpu) for h in p.hosts)
    assert total_out == pytest.approx(total_in * 1.1)


def test_server_too_big_for_a_host_is_refused_by_name():
    big = flat("bigdb", 15.5, 8)
    with pytest.raises(ValueError, match="bigdb"):
        consolidate([big], overhead=0.05)            # 16.3 cores > 16
    assert consolidate([big], overhead=0.0).hosts_after == 1


def test_complementary_peaks_share_a_host_static_sizing_cannot():
    day = Server("day", [10.0 if 8 <= h < 20 else 1.0 for h in range(24)], [8.0] * 24)
    night = Server("night", [1.0 if 8 <= h < 20 else 10.0 for h in range(24)], [8.0] * 24)
    assert consolidate([day, night], "ffd", overhead=0).hosts_after == 2
    assert consolidate([day, night], "best_fit", overhead=0).hosts_after == 2
    p = consolidate([day, night], "complementary", overhead=0)
    assert p.hosts_after == 1
    assert max(p.hosts[0].cpu) == 11.0


def test_best_fit_picks_the_fullest_host():
    # 9 cores on host 0, 5 on host 1; a 6-core VM fits both; best fit takes host 0
    servers = [flat("a", 9, 1), flat("b", 8, 1), flat("c", 6, 1)]
    ff = consolidate(servers, "ffd", overhead=0)
    bf = consolidate(servers, "best_fit", overhead=0)
    # decreasing order a(9), b(8), c(6): a->0, b->1 (9+8>16); c fits 0 (15) and 1 (14)
    assert ff.assignment["c"] == 0 and bf.assignment["c"] == 0
    servers = [flat("a", 9, 1), flat("b", 8, 1), flat("c", 7, 1), flat("d", 1, 1)]
    # a->0, b->1, c: 0 has 7 left -> fits exactly; d: ffd -> host 1 (first with room)
    bf = consolidate(servers, "best_fit", overhead=0)
    assert bf.assignment["c"] == 0 and bf.hosts_after == 2


def test_utilization_and_energy_by_hand():
    s = flat("s", 2.0, 8.0)
    p = consolidate([s], overhead=0.0, cooling=1.5)
    assert p.cpu_util_before == pytest.approx(2 / 8)          # legacy: 8 cores
    assert p.cpu_util_after == pytest.approx(2 / 16)          # host: 16 cores
    assert p.mem_util_before == pytest.approx(8 / 32)
    # legacy 150 W idle, 250 W peak at u=0.25 -> 175 W; 24 h x 1.5 cooling
    assert p.energy_before_kwh == pytest.approx(175 * 24 * 1.5 / 1000)
    # host 170/340 W at u=0.125 -> 191.25 W
    assert p.energy_after_kwh == pytest.approx(191.25 * 24 * 1.5 / 1000)


def test_power_model_is_linear_and_clipped():
    spec = HostSpec(cpus=4, memory_gb=8, idle_watts=100, peak_watts=200)
    assert cons.power_watts(spec, 0) == 100
    assert cons.power_watts(spec, 0.25) == 125
    assert cons.power_watts(spec, 5) == 200


def test_consolidation_saves_hosts_and_energy_on_the_default_mix():
    servers = make_servers(40, seed=0)
    results = {pol: consolidate(servers, pol) for pol in cons.POLICIES}
    for p in results.values():
        assert p.hosts_after < 40 / 3
        assert p.cpu_util_after > 2 * p.cpu_util_before
        assert p.energy_after_kwh < p.energy_before_kwh / 2
    # night batch/backup jobs complement day-time web/office peaks
    assert results["complementary"].hosts_after < results["ffd"].hosts_after


def test_manual_placement_is_checked_every_hour():
    day = Server("day", [10.0 if 8 <= h < 20 else 1.0 for h in range(24)], [8.0] * 24)
    also_day = Server("day2", [10.0 if 12 <= h < 14 else 1.0 for h in range(24)], [8.0] * 24)
    with pytest.raises(ValueError, match="at 12:00"):
        check_placement([day, also_day], {"day": 0, "day2": 0}, overhead=0)
    with pytest.raises(ValueError, match="misses"):
        check_placement([day, also_day], {"day": 0}, overhead=0)
    with pytest.raises(ValueError, match="unknown"):
        check_placement([day], {"day": 0, "ghost": 0}, overhead=0)
    ok = check_placement([day, also_day], {"day": 0, "day2": 5}, overhead=0)
    assert ok.hosts_after == 2 and ok.assignment == {"day": 0, "day2": 1}


def test_make_servers_is_seeded():
    assert make_servers(30, seed=9) == make_servers(30, seed=9)
    assert make_servers(30, seed=9) != make_servers(30, seed=10)
    assert len({s.name for s in make_servers(50)}) == 50


def test_consolidation_is_deterministic():
    s = make_servers(30, seed=2)
    for pol in cons.POLICIES:
        assert consolidate(s, pol).assignment == consolidate(s, pol).assignment


@given(st.integers(2, 30), st.integers(0, 20), st.floats(min_value=1.0, max_value=3.0))
def test_memory_squeeze_targets_cover_the_overcommit(n, seed, overcommit):
    from virtlab.balloon import GUEST_RESERVE
    p = consolidate(make_servers(n, seed=seed))
    frames, vms = cons.memory_squeeze(p, 0, overcommit)
    assert [v.name for v in vms] == list(p.hosts[0].vms)
    configured = sum(v.memory for v in vms)
    assert frames == max(1, math.floor(configured / overcommit))
    for v in vms:
        assert 0 <= v.balloon_target <= v.memory - GUEST_RESERVE
        assert v.working_set + v.file_pages <= v.memory - GUEST_RESERVE
    capped = any(v.balloon_target == v.memory - GUEST_RESERVE for v in vms)
    if not capped:       # each VM gives ceil(its share): together at least what is missing
        assert sum(v.balloon_target for v in vms) >= configured - frames


def test_tenant_servers_seeded_and_prefixed():
    a = cons.tenant_servers(3, 5, seed=7)
    assert a == cons.tenant_servers(3, 5, seed=7)
    assert a != cons.tenant_servers(3, 5, seed=8)
    assert len({s.name for s in a}) == 15
    assert all(s.name.startswith(s.group.split(":")[0] + ":") for s in a)
    p = consolidate(a, anti_affinity=True)
    assert sum(cons.tenants_per_host(p)) >= 3 and max(cons.tenants_per_host(p)) <= 3
