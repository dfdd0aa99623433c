"""Application virtualization / containers (*Anwendungsvirtualisierung*) vs VMs.

The lecture: no additional guest operating system, everything runs in the
host OS; isolated run-time environments in a closed *container*; good for
providers that scale hosted servers and web services.  Examples: Solaris
containers, OpenVZ, FreeBSD jails, Linux-VServer, Docker.

On Linux a container is a group of processes that share the host kernel but
see their own **namespaces** (pid, net, mnt, uts, ipc, user — plus cgroup
and time on newer kernels) and are held to **cgroup** limits (CPU, memory,
number of processes).  A VM instead boots its own guest kernel on virtual
hardware.  This module models both sides:

* :class:`ContainerHost` — processes, containers with namespaces and cgroup
  limits; :meth:`ContainerHost.ps` shows what a viewer sees, and
  :meth:`ContainerHost.enforce` what the cgroup limits do to a demand.
* :func:`compare` — footprint, start-up time and density of *n* instances as
  containers vs as VMs (:class:`Costs`; the default numbers are
  **illustrative** orders of magnitude, not measurements).
* :func:`blast_radius` — what a kernel bug, a fork bomb, a memory hog or an
  application crash reaches in each.
* :data:`EXAMPLES` — the lecture's examples, one line each;
  :data:`ATTACK_SURFACE` — hypervisor and host-OS footprints with sources,
  for the security part of the summary.
* :func:`namespace_rows` — formats the real namespaces of a process as found
  by :func:`virtlab.environment.probe` (the model itself never reads /proc).

Examples
--------
>>> c = compare(instances=20, app_mb=200)
>>> c.container.total_mb < c.vm.total_mb, c.container.start_s < c.vm.start_s
(True, True)
>>> blast_radius("container", "kernel bug").scope
'host'
>>> blast_radius("vm", "kernel bug").scope
'instance'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import check_bool, check_choice, check_int, check_number, check_str, check_type
from .i18n import N_, _

__all__ = ["ATTACK_SURFACE", "CgroupVerdict", "Comparison", "ContainerHost", "Costs", "EXAMPLES", "INCIDENTS",
           "KINDS", "NAMESPACES", "Reach", "SCOPES", "SideMetrics", "blast_radius", "compare",
           "namespace_rows", "scope_label", "example_rows", "attack_surface_rows"]

#: The namespaces the lecture's container picture needs (Linux has cgroup and time too).
NAMESPACES = ("pid", "net", "mnt", "uts", "ipc", "user")
#: Deployment kinds.
KINDS = ("container", "vm")
#: Incidents :func:`blast_radius` knows.
INCIDENTS = ("app crash", "memory hog", "fork bomb", "kernel bug", "hypervisor bug")
#: What an incident can reach (:attr:`Reach.scope`), smallest first, with display labels
#: (the keys stay English in every language; :func:`scope_label` translates).
SCOPES = {"process": N_("process"), "instance": N_("instance"), "host": N_("host")}


# -- footprint, start-up, density ----------------------------------------------------------

@dataclass(frozen=True)
class Costs:
    """Per-instance costs of the two approaches (illustrative defaults).

    Attributes
    ----------
    guest_os_mb : float
        Memory a VM's own kernel and base system take (container: none).
    vm_overhead_mb : float
        Hypervisor-side memory per VM (device models, page tables, ...).
    container_overhead_mb : float
        Run-time memory per container (shim process, namespaces, cgroup).
    vm_boot_s : float
        Booting a guest OS.
    container_start_s : float
        Creating namespaces and cgroups and exec'ing the application.
    host_reserved_mb : float
        Memory the host itself keeps (host OS or hypervisor).

    Examples
    --------
    >>> Costs().guest_os_mb
    256.0
    """

    guest_os_mb: float = 256.0
    vm_overhead_mb: float = 32.0
    container_overhead_mb: float = 4.0
    vm_boot_s: float = 20.0
    container_start_s: float = 0.5
    host_reserved_mb: float = 2048.0

    def __post_init__(self):
        for name in ("guest_os_mb", "vm_overhead_mb", "container_overhead_mb",
                     "host_reserved_mb"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), minimum=0,
                                                        maximum=1e9))
        for name in ("vm_boot_s", "container_start_s"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), minimum=0,
                                                        maximum=1e6))


@dataclass(frozen=True)
class SideMetrics:
    """Footprint, start-up and density of one approach.

    Attributes
    ----------
    kind : str
    per_instance_mb : float
    total_mb : float
        For the requested number of instances.
    start_s : float
        Time to start one instance.
    density : int
        How many instances fit into the host's memory.
    kernels : int
        Kernels running for the requested instances (host kernel included).
    """

    kind: str
    per_instance_mb: float
    total_mb: float
    start_s: float
    density: int
    kernels: int


@dataclass(frozen=True)
class Comparison:
    """Containers vs VMs for the same application and host."""

    instances: int
    app_mb: float
    host_memory_gb: float
    container: SideMetrics
    vm: SideMetrics

    def rows(self) -> list[tuple[str, str, str]]:
        """(metric, container, VM) rows for a table, labelled in the current language.

        Examples
        --------
        >>> compare(instances=2).rows()[0]
        ('memory per instance', '204 MiB', '488 MiB')
        """
        c, v = self.container, self.vm
        return [(_("memory per instance"), f"{c.per_instance_mb:.0f} MiB",
                 f"{v.per_instance_mb:.0f} MiB"),
                (_("memory for {n}").format(n=self.instances), f"{c.total_mb / 1024:.1f} GiB",
                 f"{v.total_mb / 1024:.1f} GiB"),
                (_("start-up"), f"{c.start_s:g} s", f"{v.start_s:g} s"),
                (_("density on {gib} GiB").format(gib=f"{self.host_memory_gb:g}"),
                 str(c.density), str(v.density)),
                (_("kernels running"), str(c.kernels), str(v.kernels))]


def compare(instances: int = 10, app_mb: float = 200.0, host_memory_gb: float = 64.0,
            costs: Costs | None = None) -> Comparison:
    """Footprint, start-up time and density: ``instances`` copies of one app.

    Examples
    --------
    >>> c = compare(instances=10, app_mb=200, host_memory_gb=64)
    >>> c.container.per_instance_mb, c.vm.per_instance_mb
    (204.0, 488.0)
    >>> c.container.density, c.vm.density        # (65536 - 2048) // per instance
    (311, 130)
    >>> c.container.kernels, c.vm.kernels
    (1, 11)
    """
    instances = check_int("instances", instances, minimum=1, maximum=1_000_000)
    app_mb = check_number("app_mb", app_mb, minimum=0, maximum=1e9)
    host_memory_gb = check_number("host_memory_gb", host_memory_gb, minimum=0,
                                  strict_minimum=True, maximum=1e7)
    costs = Costs() if costs is None else check_type("costs", costs, Costs)
    room = max(0.0, host_memory_gb * 1024 - costs.host_reserved_mb)

    def side(kind, per, start, kernels):
        density = int(room // per) if per > 0 else 0
        return SideMetrics(kind, per, per * instances, start, density, kernels)

    c = side("container", app_mb + costs.container_overhead_mb, costs.container_start_s, 1)
    v = side("vm", app_mb + costs.guest_os_mb + costs.vm_overhead_mb, costs.vm_boot_s,
             instances + 1)
    return Comparison(instances, app_mb, host_memory_gb, c, v)


# -- isolation ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reach:
    """What an incident in one instance reaches.

    ``scope`` is ``"process"`` (only the faulty application), ``"instance"``
    (its container or VM), or ``"host"`` (every instance on the host): a key
    of :data:`SCOPES`, English in every language.  ``why`` is display text in
    the language that was current when :func:`blast_radius` built it.
    """

    kind: str
    incident: str
    scope: str
    why: str


_REACH = {
    ("container", "app crash"): ("process", N_("the process dies; the kernel cleans up")),
    ("vm", "app crash"): ("process", N_("the process dies; its guest kernel cleans up")),
    ("container", "memory hog", True): ("instance", N_("the memory cgroup's limit triggers the "
                                           "OOM killer inside this container only")),
    ("container", "memory hog", False): ("host", N_("no memory limit: the host runs out and its "
                                            "OOM killer may pick processes of any container")),
    ("vm", "memory hog"): ("instance", N_("the VM owns a fixed amount of memory; its own guest "
                              "kernel has to cope")),
    ("container", "fork bomb", True): ("instance", N_("the pids cgroup caps the number of "
                                          "processes of this container")),
    ("container", "fork bomb", False): ("host", N_("without a pids limit the bomb fills the "
                                           "shared kernel's process table")),
    ("vm", "fork bomb"): ("instance", N_("it fills the guest kernel's process table; the vCPUs "
                             "stay within the VM's share")),
    ("container", "kernel bug"): ("host", N_("all containers share the host kernel: a kernel "
                                     "exploit or panic hits every one")),
    ("vm", "kernel bug"): ("instance", N_("each VM has its own guest kernel; only this guest "
                              "is hit")),
    ("container", "hypervisor bug"): ("host", N_("containers have no hypervisor; the shared "
                                         "host kernel plays its part")),
    ("vm", "hypervisor bug"): ("host", N_("the hypervisor is shared by every VM: an escape "
                                  "reaches all of them")),
}


def blast_radius(kind: str, incident: str, *, limits: bool = True) -> Reach:
    """What an incident in one container or VM reaches.

    Parameters
    ----------
    kind : str
        ``"container"`` or ``"vm"``.
    incident : str
        One of :data:`INCIDENTS`.
    limits : bool
        Whether the containers have cgroup limits (memory, pids); VMs are
        limited by construction.

    Examples
    --------
    >>> blast_radius("container", "fork bomb", limits=False).scope
    'host'
    >>> blast_radius("container", "fork bomb").scope
    'instance'
    >>> blast_radius("vm", "fork bomb").scope
    'instance'
    """
    check_choice("kind", kind, KINDS)
    check_choice("incident", incident, INCIDENTS)
    check_bool("limits", limits)
    key = (kind, incident, limits) if (kind, incident, limits) in _REACH else (kind, incident)
    scope, why = _REACH[key]
    return Reach(kind, incident, scope, _(why))


def scope_label(scope: str) -> str:
    """The display label of a :attr:`Reach.scope` key in the current language.

    Examples
    --------
    >>> scope_label("instance")
    'instance'
    >>> from virtlab import set_language
    >>> previous = set_language("de")
    >>> scope_label("host"), blast_radius("vm", "kernel bug").scope
    ('Wirt', 'instance')
    >>> _ = set_language(previous)
    """
    check_choice("scope", scope, SCOPES)
    return _(SCOPES[scope])


def example_rows() -> list[tuple[str, int, str, str, str]]:
    """:data:`EXAMPLES` with each one-line description in the current language.

    Examples
    --------
    >>> example_rows()[-1][:2], example_rows()[-1][3] == EXAMPLES[-1][3]
    (('Docker', 2013), True)
    """
    return [(name, year, platform, _(line), source)
            for name, year, platform, line, source in EXAMPLES]


def attack_surface_rows() -> list[tuple[str, int, str, str, str]]:
    """:data:`ATTACK_SURFACE` with the measure and its status in the current language.

    Examples
    --------
    >>> attack_surface_rows()[0][:3]
    ('VMware ESXi 3.5 (embedded)', 32, 'disk footprint')
    """
    return [(what, mb, _(measure), source, _(status))
            for what, mb, measure, source, status in ATTACK_SURFACE]


# -- containers as process groups with namespaces and cgroups ---------------------------------

@dataclass(frozen=True)
class _Container:
    name: str
    namespaces: frozenset
    hostname: str
    cpu_limit: float | None
    memory_limit_mb: float | None
    pids_limit: int | None


@dataclass(frozen=True)
class CgroupVerdict:
    """What a container's cgroup does to a demand (see :meth:`ContainerHost.enforce`)."""

    container: str
    cpu_granted: float
    cpu_throttled: float
    memory_mb: float
    oom_killed: bool
    forks_refused: int


class ContainerHost:
    """One kernel, many process groups: containers as namespaces + cgroups.

    Examples
    --------
    >>> host = ContainerHost(hostname="server")
    >>> _ = host.spawn(None, "sshd")
    >>> host.add_container("web", hostname="web1", memory_limit_mb=512)
    >>> _ = host.spawn("web", "nginx"); _ = host.spawn("web", "worker")
    >>> host.ps("web")                    # own pid namespace: numbered from 1
    [(1, 'nginx'), (2, 'worker')]
    >>> [name for _, name in host.ps()]   # the host sees everything
    ['init', 'sshd', 'nginx', 'worker']
    >>> host.uname("web"), host.uname()
    ('web1', 'server')
    """

    def __init__(self, hostname: str = "host", cpus: float = 8.0, memory_mb: float = 16384.0):
        self.hostname = check_str("hostname", hostname)
        self.cpus = check_number("cpus", cpus, minimum=0, strict_minimum=True, maximum=1e6)
        self.memory_mb = check_number("memory_mb", memory_mb, minimum=0, strict_minimum=True,
                                      maximum=1e12)
        self._containers: dict[str, _Container] = {}
        self._procs: list[tuple[int, str, str | None]] = [(1, "init", None)]

    @property
    def containers(self) -> tuple[str, ...]:
        """Container names in creation order."""
        return tuple(self._containers)

    def add_container(self, name: str, *, namespaces: Iterable[str] = NAMESPACES,
                      hostname: str | None = None, cpu_limit: float | None = None,
                      memory_limit_mb: float | None = None,
                      pids_limit: int | None = None) -> None:
        """Create a container: the namespaces it gets and its cgroup limits."""
        check_str("name", name)
        if name in self._containers:
            raise ValueError(f"name must be new; container {name!r} exists")
        if isinstance(namespaces, str):
            raise TypeError("namespaces must be a collection of namespace names, not a string")
        ns = frozenset(check_choice("namespaces", n, NAMESPACES) for n in namespaces)
        host_name = self.hostname if hostname is None else check_str("hostname", hostname)
        if "uts" not in ns and hostname is not None and hostname != self.hostname:
            raise ValueError("hostname can only differ from the host's with a uts namespace")
        if cpu_limit is not None:
            cpu_limit = check_number("cpu_limit", cpu_limit, minimum=0, strict_minimum=True,
                                     maximum=self.cpus)
        if memory_limit_mb is not None:
            memory_limit_mb = check_number("memory_limit_mb", memory_limit_mb, minimum=0,
                                           strict_minimum=True, maximum=self.memory_mb)
        if pids_limit is not None:
            pids_limit = check_int("pids_limit", pids_limit, minimum=1, maximum=4_194_304)
        self._containers[name] = _Container(name, ns, host_name, cpu_limit, memory_limit_mb,
                                            pids_limit)

    def _check_viewer(self, container):
        if container is not None:
            check_str("container", container)
            if container not in self._containers:
                raise ValueError(f"container must be an existing container or None; "
                                 f"no container {container!r}")

    def spawn(self, container: str | None, command: str) -> int:
        """Start a process in ``container`` (None: on the host); return its host PID."""
        self._check_viewer(container)
        check_str("command", command)
        pid = self._procs[-1][0] + 1
        self._procs.append((pid, command, container))
        return pid

    def ps(self, viewer: str | None = None) -> list[tuple[int, str]]:
        """(PID, command) as seen from ``viewer`` (None: the host).

        With its own pid namespace a container sees only its processes,
        numbered from 1; without one it sees the host's process list.
        """
        self._check_viewer(viewer)
        if viewer is None or "pid" not in self._containers[viewer].namespaces:
            return [(pid, cmd) for pid, cmd, _ in self._procs]
        own = [cmd for _, cmd, c in self._procs if c == viewer]
        return list(enumerate(own, start=1))

    def uname(self, viewer: str | None = None) -> str:
        """The hostname ``viewer`` sees (uts namespace)."""
        self._check_viewer(viewer)
        return self.hostname if viewer is None else self._containers[viewer].hostname

    def shares_with_host(self, container: str) -> tuple[str, ...]:
        """Namespaces the container does *not* have of its own (shared with the host).

        Examples
        --------
        >>> h = ContainerHost(); h.add_container("c", namespaces=["pid", "mnt"])
        >>> h.shares_with_host("c")
        ('net', 'uts', 'ipc', 'user')
        """
        self._check_viewer(container)
        if container is None:
            raise ValueError("container must name a container, not None")
        return tuple(n for n in NAMESPACES if n not in self._containers[container].namespaces)

    def enforce(self, container: str, cpu_demand: float, memory_demand_mb: float,
                forks: int = 0) -> CgroupVerdict:
        """Apply the container's cgroup limits to a demand.

        CPU above ``cpu_limit`` is throttled; memory above ``memory_limit_mb``
        triggers the OOM killer inside the container; processes beyond
        ``pids_limit`` cannot be forked.

        Examples
        --------
        >>> h = ContainerHost()
        >>> h.add_container("c", cpu_limit=1.5, memory_limit_mb=256, pids_limit=100)
        >>> v = h.enforce("c", cpu_demand=4, memory_demand_mb=300, forks=1000)
        >>> v.cpu_granted, v.cpu_throttled, v.oom_killed, v.forks_refused
        (1.5, 2.5, True, 900)
        """
        self._check_viewer(container)
        if container is None:
            raise ValueError("container must name a container, not None")
        cpu_demand = check_number("cpu_demand", cpu_demand, minimum=0, maximum=1e9)
        memory_demand_mb = check_number("memory_demand_mb", memory_demand_mb, minimum=0,
                                        maximum=1e15)
        forks = check_int("forks", forks, minimum=0, maximum=10**12)
        c = self._containers[container]
        cap = min(self.cpus, c.cpu_limit) if c.cpu_limit is not None else self.cpus
        granted = min(cpu_demand, cap)
        limit = c.memory_limit_mb if c.memory_limit_mb is not None else self.memory_mb
        oom = memory_demand_mb > limit
        running = sum(1 for _, _, owner in self._procs if owner == container)
        refused = max(0, running + forks - c.pids_limit) if c.pids_limit is not None else 0
        return CgroupVerdict(container, granted, cpu_demand - granted,
                             min(memory_demand_mb, limit), oom, min(refused, forks))


# -- data: the lecture's examples, attack surface ---------------------------------------------

#: The lecture's container examples: (name, year, platform, one line, source).
#: Years are first public releases from secondary sources ([S]).
EXAMPLES = (
    ("FreeBSD jails", 2000, "FreeBSD 4.0",
     N_("chroot grown up: own root, processes and IP address per jail"),
     "[S] Kamp & Watson, 'Jails: Confining the omnipotent root', SANE 2000"),
    ("Linux-VServer", 2001, "Linux (kernel patch)",
     N_("security contexts that separate process groups on one kernel"), "[S] Wikipedia"),
    ("Solaris containers (zones)", 2005, "Solaris 10",
     N_("zones for isolation plus resource management for limits"), "[S] Wikipedia"),
    ("OpenVZ", 2005, "Linux (kernel patch)",
     N_("virtual environments with their own root, users and network for hosting"),
     "[S] Wikipedia"),
    ("Docker", 2013, "Linux namespaces + cgroups",
     N_("image format and tooling that made containers an everyday tool"), "[S] Wikipedia"),
)

#: Size of what a tenant's VM ultimately trusts: (what, MB, measure, source, status).
#: Sizes are vendor claims or rough forum/blog figures, not measurements of ours.
#: Measure and status are English msgids (``N_``), translated where drawn.
ATTACK_SURFACE = (
    ("VMware ESXi 3.5 (embedded)", 32, N_("disk footprint"),
     "VMware marketing, quoted in Microsoft's 'Hypervisor Footprint Debate Part 1' blog (2009)",
     N_("as claimed by VMware; approximate")),
    ("VMware ESXi 3.5, running", 415, N_("memory in use, 1 VM powered off"),
     "Citrix community post 'How big is a 32MB hypervisor?' (2008)",
     N_("one measurement by a competitor")),
    ("VMware ESX 3.0 with service console", 1600, N_("install footprint"),
     "Microsoft virtualization blog (2007)", N_("approximate, by a competitor")),
    ("Windows Server 2008 Server Core", 1300, N_("install footprint (pre-release)"),
     "Microsoft virtualization blog (2007)", N_("approximate")),
    ("Windows Server 2008, full", 4400, N_("install footprint (pre-release)"),
     "Microsoft virtualization blog (2007)", N_("approximate")),
)


def namespace_rows(namespaces: Mapping[str, str]) -> list[tuple[str, str]]:
    """(namespace, identifier) rows for the namespaces of a real process.

    Pass ``virtlab.environment.probe().namespaces`` (read from
    ``/proc/self/ns`` on Linux).  Namespaces the lecture lists but the
    mapping lacks are shown as ``"not available"``; an empty mapping (not
    Linux, or /proc not readable) gives one explanatory row.

    Examples
    --------
    >>> namespace_rows({"pid": "pid:[4026531836]"})[0]
    ('pid', 'pid:[4026531836]')
    >>> namespace_rows({})
    [('namespaces', 'not available here (not Linux, or /proc not readable)')]
    """
    check_type("namespaces", namespaces, Mapping)
    if not namespaces:
        return [(_("namespaces"), _("not available here (not Linux, or /proc not readable)"))]
    rows = [(n, str(namespaces.get(n, _("not available")))) for n in NAMESPACES]
    rows += [(n, str(v)) for n, v in sorted(namespaces.items()) if n not in NAMESPACES]
    return rows
