"""Claims of notebook 05 (containers: OS-level virtualization)."""

from virtlab import containers

from . import claim


def _host():
    host = containers.ContainerHost(hostname="server", cpus=8, memory_mb=16384)
    host.spawn(None, "sshd")
    host.add_container("shop", hostname="shop", cpu_limit=2, memory_limit_mb=1024,
                       pids_limit=64)
    host.add_container("blog", namespaces=["mnt", "net"])
    for command in ("nginx", "php-fpm"):
        host.spawn("shop", command)
    host.spawn("blog", "ghost")
    return host


@claim("05", "With its own **pid namespace** a container sees only its own processes, "
             "numbered from 1; with its own **uts namespace** it has its own hostname. The "
             "host sees everything.")
def _():
    host = _host()
    assert host.ps("shop") == [(1, "nginx"), (2, "php-fpm")]
    assert host.uname("shop") == "shop" and host.uname("blog") == "server"
    assert {c for _, c in host.ps()} >= {"sshd", "nginx", "php-fpm", "ghost"}


@claim("05", "CPU beyond the limit is throttled, memory beyond it triggers the OOM killer "
             "*inside* the container, forks beyond the pids limit fail")
def _():
    v = _host().enforce("shop", cpu_demand=5, memory_demand_mb=1500, forks=100)
    assert v.cpu_granted == 2 and v.cpu_throttled == 3
    assert v.oom_killed
    assert v.forks_refused == 100 - (64 - 2)      # 62 free slots under the pids limit


@claim("05", "run the same 200 MiB application ten times on a 64 GiB host. The per-instance "
             "costs are **illustrative parameters** (a guest OS of 256 MiB, a VM boot of 20 "
             "s, a container start of 0.5 s)")
def _():
    c = containers.Costs()
    assert (c.guest_os_mb, c.vm_boot_s, c.container_start_s) == (256, 20, 0.5)
    comparison = containers.compare(instances=10, app_mb=200, host_memory_gb=64)
    assert comparison.container.start_s == 0.5 and comparison.vm.start_s == 20


@claim("05", "**Isolation** is where VMs win: every container shares one kernel, so a kernel "
             "bug reaches all of them; a VM has its own guest kernel, and only a bug in the "
             "hypervisor reaches all VMs")
def _():
    assert containers.blast_radius("container", "kernel bug").scope == "host"
    assert containers.blast_radius("vm", "kernel bug").scope == "instance"
    assert containers.blast_radius("vm", "hypervisor bug").scope == "host"
    vm_host_wide = [i for i in containers.INCIDENTS
                    if containers.blast_radius("vm", i).scope == "host"]
    assert vm_host_wide == ["hypervisor bug"]


@claim("05", "switch the cgroup limits off and watch a fork bomb or a memory hog reach the "
             "whole host")
def _():
    for incident in ("fork bomb", "memory hog"):
        assert containers.blast_radius("container", incident, limits=False).scope == "host"
        assert containers.blast_radius("container", incident).scope == "instance"


@claim("05", "no guest OS, hence small footprint, fast start-up and high density")
def _():
    c = containers.compare(instances=10, app_mb=200, host_memory_gb=64)
    assert c.container.per_instance_mb < c.vm.per_instance_mb
    assert c.container.start_s < c.vm.start_s
    assert c.container.density > c.vm.density


@claim("05", "a kernel bug or a fork bomb stays inside one VM; in containers only the limits "
             "you set keep a tenant from the others")
def _():
    for incident in ("kernel bug", "fork bomb"):
        assert containers.blast_radius("vm", incident).scope == "instance"
    assert containers.blast_radius("container", "fork bomb", limits=False).scope == "host"
