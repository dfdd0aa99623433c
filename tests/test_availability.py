"""Availability: host failures, anti-affinity, N+1 spare and restart."""

from hypothesis import given
from hypothesis import strategies as st

from virtlab.availability import compare_measures, expected_impact, host_failure
from virtlab.consolidation import Server, consolidate, make_servers


def test_failure_takes_every_vm_of_the_host_down():
    p = consolidate(make_servers(20, seed=3))
    for h in p.hosts:
        f = host_failure(p, h.index)
        assert f.vms_down == h.vms
        assert f.lost == h.vms and f.restarted == ()


def test_expected_loss_is_vms_per_host_without_measures():
    p = consolidate(make_servers(30, seed=1))
    r = expected_impact(p)
    assert r.vms_down == r.vms_lost == 30 / p.hosts_after
    assert r.worst_vms_lost == max(len(h.vms) for h in p.hosts)


@given(st.integers(2, 40), st.integers(0, 50), st.sampled_from(["ffd", "best_fit",
                                                                  "complementary"]))
def test_n_plus_one_spare_with_restart_loses_nothing(n, seed, policy):
    # the failed host's VMs fitted on one host, so they fit on the empty spare
    p = consolidate(make_servers(n, seed=seed), policy, anti_affinity=True)
    for h in p.hosts:
        f = host_failure(p, h.index, spares=1, restart=True)
        assert f.lost == ()
        assert sorted(name for name, _ in f.restarted) == sorted(h.vms)
        assert f.services_out == ()


@given(st.integers(2, 40), st.integers(0, 50))
def test_anti_affinity_keeps_every_service_alive(n, seed):
    p = consolidate(make_servers(n, seed=seed, replicas=2), anti_affinity=True)
    sizes = {}
    for s in p.servers:
        sizes[s.group] = sizes.get(s.group, 0) + 1
    for h in p.hosts:
        out = host_failure(p, h.index).services_out
        assert all(sizes[g] == 1 for g in out)       # only single-replica services


def test_restart_without_spare_needs_room_on_survivors():
    full = [Server(f"v{i}", [15.0] * 24, [8.0] * 24) for i in range(3)]
    p = consolidate(full, overhead=0)                # one VM per 16-core host, all full
    f = host_failure(p, 0, restart=True)
    assert f.lost == ("v0",) and f.restarted == ()
    f = host_failure(p, 0, restart=True, spares=1)
    assert f.restarted == (("v0", "spare 0"),)


def test_compare_measures_story():
    rows = compare_measures(make_servers(40, seed=0))
    before, plain, apart, safe = rows
    assert before.vms_lost == 1.0
    assert plain.vms_lost > 3 * before.vms_lost         # consolidation concentrates risk
    assert plain.services_out > 0
    assert apart.services_out == 0
    assert safe.vms_lost == 0 and safe.spares == 1
