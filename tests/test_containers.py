"""Containers vs VMs: namespaces, cgroups, footprint, density, isolation."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab import containers as ct
from virtlab.containers import ContainerHost, Costs, blast_radius, compare


def test_pid_namespace_hides_other_processes():
    h = ContainerHost()
    h.spawn(None, "sshd")
    h.add_container("a")
    h.add_container("b", namespaces=["net", "mnt"])          # no pid namespace
    h.spawn("a", "nginx")
    h.spawn("b", "redis")
    assert h.ps("a") == [(1, "nginx")]
    assert [c for _, c in h.ps("b")] == ["init", "sshd", "nginx", "redis"]
    assert [p for p, _ in h.ps()] == [1, 2, 3, 4]            # host PIDs are unique


def test_uts_namespace_needed_for_own_hostname():
    h = ContainerHost(hostname="srv")
    h.add_container("a", hostname="web")
    assert h.uname("a") == "web" and h.uname() == "srv"
    with pytest.raises(ValueError, match="uts"):
        h.add_container("b", namespaces=["pid"], hostname="other")
    assert h.containers == ("a",)                             # unchanged after refusal
    assert h.shares_with_host("a") == ()


def test_cgroup_limits_by_hand():
    h = ContainerHost(cpus=8, memory_mb=4096)
    h.add_container("c", cpu_limit=2, memory_limit_mb=1024, pids_limit=10)
    for _ in range(4):
        h.spawn("c", "worker")
    v = h.enforce("c", cpu_demand=3, memory_demand_mb=900, forks=20)
    assert (v.cpu_granted, v.cpu_throttled) == (2, 1)
    assert not v.oom_killed and v.memory_mb == 900
    assert v.forks_refused == 14                              # 4 running + 20 > 10
    h.add_container("free")
    v = h.enforce("free", cpu_demand=20, memory_demand_mb=5000, forks=10**6)
    assert v.cpu_granted == 8 and v.oom_killed and v.forks_refused == 0


@given(st.integers(1, 1000), st.floats(min_value=0, max_value=8192),
       st.floats(min_value=1, max_value=1024))
def test_containers_are_lighter_and_denser(n, app, host_gb):
    c = compare(instances=n, app_mb=app, host_memory_gb=host_gb)
    assert c.container.per_instance_mb < c.vm.per_instance_mb
    assert c.container.density >= c.vm.density
    assert c.container.start_s < c.vm.start_s
    assert c.container.kernels == 1 and c.vm.kernels == n + 1
    costs = Costs()
    assert c.vm.per_instance_mb - c.container.per_instance_mb == pytest.approx(
        costs.guest_os_mb + costs.vm_overhead_mb - costs.container_overhead_mb)


def test_density_by_hand():
    c = compare(instances=1, app_mb=100, host_memory_gb=4,
                costs=Costs(guest_os_mb=200, vm_overhead_mb=0, container_overhead_mb=0,
                            host_reserved_mb=1024))
    assert c.container.density == 30          # 3072 MiB / 100
    assert c.vm.density == 10                 # 3072 MiB / 300


def test_isolation_table_matches_the_lecture_story():
    assert blast_radius("container", "kernel bug").scope == "host"
    assert blast_radius("vm", "kernel bug").scope == "instance"
    assert blast_radius("vm", "hypervisor bug").scope == "host"
    assert blast_radius("container", "fork bomb", limits=False).scope == "host"
    assert blast_radius("container", "fork bomb", limits=True).scope == "instance"
    assert blast_radius("container", "memory hog", limits=False).scope == "host"
    for kind in ct.KINDS:
        for inc in ct.INCIDENTS:
            for lim in (True, False):
                r = blast_radius(kind, inc, limits=lim)
                assert r.scope in ("process", "instance", "host") and r.why
        # a VM never reaches further than a container for the same incident
    order = {"process": 0, "instance": 1, "host": 2}
    for inc in ct.INCIDENTS:
        for lim in (True, False):
            assert order[blast_radius("vm", inc).scope] <= \
                order[blast_radius("container", inc, limits=lim).scope]


def test_examples_are_the_lectures_five():
    names = " ".join(e[0] for e in ct.EXAMPLES)
    for word in ("Solaris", "OpenVZ", "FreeBSD", "VServer", "Docker"):
        assert word in names
    assert all(len(e) == 5 and e[4] for e in ct.EXAMPLES)


def test_attack_surface_keeps_the_32mb_claim_labelled():
    esxi = ct.ATTACK_SURFACE[0]
    assert esxi[1] == 32 and "claimed" in esxi[4]
    assert all(row[3] and row[4] for row in ct.ATTACK_SURFACE)


def test_namespace_rows_from_real_probe_never_raise():
    from virtlab import environment
    rows = ct.namespace_rows(environment.probe().namespaces)
    assert rows and all(len(r) == 2 for r in rows)
