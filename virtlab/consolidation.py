"""Server consolidation (*Serverkonsolidierung*): many servers, few hosts.

The lecture's first benefit of virtualization: "Weniger Hardware notwendig,
bessere Hardwareauslastung durch Serverkonsolidierung" — today's servers are
mostly far from busy — and "weniger Leistungsaufnahme für Rechner und
Klimatisierung".  Its drawbacks: 5–10 % overhead, and a host failure takes
several VMs down (see :mod:`virtlab.availability`).

Model
-----
* A :class:`Server` has a CPU demand (cores) and a memory demand (GiB) for
  each hour of a day (24 values).  :func:`make_servers` draws a seeded mix of
  typical daily shapes (web by day, batch by night, office hours, ...).
* Before consolidation each server runs on its own machine (``legacy``
  :class:`HostSpec`); after, every server is a VM on a shared host.  The
  virtualization ``overhead`` (lecture: 5–10 %) is added to each VM's demand.
* Placement policies (pluggable by name, default ``"ffd"``):

  - ``"ffd"`` — first-fit decreasing on *peak* demand: each VM reserves its
    daily peak, the classic static sizing;
  - ``"best_fit"`` — best-fit decreasing on peak demand: the fitting host with
    the least room left;
  - ``"complementary"`` — packs by *complementary peaks*: the host whose
    combined hourly peak grows least, so a night-time batch job shares a
    host with a day-time web server.

  Every policy checks every hour: no host ever carries more than its
  capacity (property-tested).  ``anti_affinity=True`` keeps servers of the
  same ``group`` (replicas of one service) on different hosts.
* Energy: a linear power model per machine, ``idle + (peak - idle) * u`` for
  CPU utilization ``u``, times a cooling factor (facility watts per IT watt,
  the idea behind PUE).  The default watts and cooling factor are
  **illustrative**, not measured values.

Examples
--------
>>> servers = make_servers(20, seed=1)
>>> p = consolidate(servers, policy="ffd")
>>> p.hosts_before, p.hosts_after < 20
(20, True)
>>> p.cpu_util_after > p.cpu_util_before
True
>>> p.energy_after_kwh < p.energy_before_kwh
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .balloon import GUEST_RESERVE, VMSpec
from .errors import check_bool, check_choice, check_int, check_number, check_str, check_type
from .rng import derive_seed, make_rng

__all__ = [
    "HOURS", "KINDS", "POLICIES", "HostLoad", "HostSpec", "LEGACY", "Placement", "Server",
    "check_placement", "consolidate", "make_servers", "power_watts", "tenant_servers",
    "tenants_per_host", "memory_squeeze",
]

#: Hours in the demand profiles.
HOURS = 24
#: Placement policies understood by :func:`consolidate`.
POLICIES = ("ffd", "best_fit", "complementary")


def _shape(kind: str, h: int) -> float:
    """Daily load shape in [0, 1] for a server kind (hour ``h`` of 0..23)."""
    if kind == "web":            # day and evening, peak around 20:00
        return max(0.0, math.sin(math.pi * (h - 8) / 15)) if 8 <= h <= 23 else 0.0
    if kind == "batch":          # night jobs 0:00-6:00
        return 1.0 if h < 6 else 0.0
    if kind == "office":         # working hours
        return 1.0 if 8 <= h < 17 else 0.0
    if kind == "backup":         # short burst after midnight
        return 1.0 if 1 <= h < 4 else 0.0
    # "db": steady with a midday bump
    return 0.6 + 0.4 * max(0.0, math.sin(math.pi * (h - 7) / 12)) if 7 <= h <= 19 else 0.6


#: Server kinds and their typical (illustrative) size: peak cores, peak GiB,
#: share of the peak that is always there.
KINDS = {
    "web": (3.0, 6.0, 0.15),
    "batch": (4.0, 12.0, 0.05),
    "office": (2.0, 8.0, 0.1),
    "backup": (2.0, 4.0, 0.05),
    "db": (2.5, 24.0, 0.5),
}


@dataclass(frozen=True)
class Server:
    """One server's demand over a day.

    Attributes
    ----------
    name : str
    cpu : tuple of float
        Cores demanded in each of the 24 hours.
    memory : tuple of float
        GiB demanded in each hour.
    kind : str
        Label of the daily shape (``"web"``, ``"batch"``, ... or ``"custom"``).
    group : str or None
        Service this server is a replica of (for anti-affinity).

    Examples
    --------
    >>> s = Server("s", cpu=(1.0,) * 24, memory=(2.0,) * 24)
    >>> s.peak_cpu, s.peak_memory
    (1.0, 2.0)
    >>> Server("s", cpu=(1.0,), memory=(2.0,) * 24)
    Traceback (most recent call last):
    ...
    ValueError: cpu must have 24 hourly values, got 1
    """

    name: str
    cpu: tuple[float, ...]
    memory: tuple[float, ...]
    kind: str = "custom"
    group: str | None = None

    def __post_init__(self):
        check_str("name", self.name)
        for label in ("cpu", "memory"):
            values = getattr(self, label)
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
                raise TypeError(f"{label} must be a sequence of {HOURS} numbers, "
                                f"got {type(values).__name__}")
            if len(values) != HOURS:
                raise ValueError(f"{label} must have {HOURS} hourly values, got {len(values)}")
            clean = tuple(check_number(f"{label}[{h}]", v, minimum=0, maximum=1e9)
                          for h, v in enumerate(values))
            object.__setattr__(self, label, clean)
        check_str("kind", self.kind)
        if self.group is not None:
            check_str("group", self.group)

    @property
    def peak_cpu(self) -> float:
        """Largest hourly CPU demand (cores)."""
        return max(self.cpu)

    @property
    def peak_memory(self) -> float:
        """Largest hourly memory demand (GiB)."""
        return max(self.memory)


@dataclass(frozen=True)
class HostSpec:
    """A physical machine type: capacity and a linear power model.

    The default numbers are **illustrative**: a server with 16 cores and
    128 GiB drawing 170 W idle and 340 W at full CPU load.

    Examples
    --------
    >>> HostSpec().cpus, HostSpec().memory_gb
    (16.0, 128.0)
    >>> HostSpec(idle_watts=500, peak_watts=400)
    Traceback (most recent call last):
    ...
    ValueError: idle_watts must be <= peak_watts (500.0 > 400.0)
    """

    cpus: float = 16.0
    memory_gb: float = 128.0
    idle_watts: float = 170.0
    peak_watts: float = 340.0

    def __post_init__(self):
        for name, top in (("cpus", 1e6), ("memory_gb", 1e9)):
            object.__setattr__(self, name, check_number(name, getattr(self, name), minimum=0,
                                                        strict_minimum=True, maximum=top))
        for name in ("idle_watts", "peak_watts"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), minimum=0,
                                                        maximum=1e7))
        if self.idle_watts > self.peak_watts:
            raise ValueError(f"idle_watts must be <= peak_watts "
                             f"({self.idle_watts} > {self.peak_watts})")


#: The machine each server had to itself before consolidation (illustrative:
#: an older 8-core, 32 GiB server, 150 W idle, 250 W at full load).
LEGACY = HostSpec(cpus=8.0, memory_gb=32.0, idle_watts=150.0, peak_watts=250.0)


def power_watts(spec: HostSpec, cpu_utilization: float) -> float:
    """Linear power model: ``idle + (peak - idle) * u``, ``u`` clipped to [0, 1].

    Examples
    --------
    >>> power_watts(HostSpec(), 0.5)
    255.0
    """
    check_type("spec", spec, HostSpec)
    return _power(spec, check_number("cpu_utilization", cpu_utilization, minimum=0))


def _power(spec: HostSpec, u: float) -> float:
    # unchecked inner loop of power_watts (inputs come from validated models)
    u = 1.0 if u > 1.0 else (0.0 if u < 0.0 else u)
    return spec.idle_watts + (spec.peak_watts - spec.idle_watts) * u


def make_servers(n: int, seed: int = 0, *, kinds: Sequence[str] | None = None,
                 replicas: int = 2) -> tuple[Server, ...]:
    """A seeded mix of ``n`` servers with typical daily demand shapes.

    Servers come in services of ``replicas`` copies with similar demand; the
    copies share a ``group`` (for anti-affinity).  Sizes and shapes are
    illustrative (see :data:`KINDS`).

    Examples
    --------
    >>> s = make_servers(4, seed=3)
    >>> len(s), s[0].group == s[1].group
    (4, True)
    >>> make_servers(4, seed=3) == s
    True
    """
    n = check_int("n", n, minimum=1, maximum=100_000)
    replicas = check_int("replicas", replicas, minimum=1, maximum=100)
    if kinds is None:
        kinds = tuple(KINDS)
    if isinstance(kinds, str) or not isinstance(kinds, Sequence) or not kinds:
        raise TypeError("kinds must be a non-empty sequence of kind names")
    for k in kinds:
        check_choice("kinds", k, KINDS)
    rng = make_rng(seed)
    out: list[Server] = []
    service = 0
    while len(out) < n:
        kind = kinds[rng.randrange(len(kinds))]
        peak_cpu, peak_mem, base = KINDS[kind]
        scale_c = rng.uniform(0.5, 1.2)
        scale_m = rng.uniform(0.5, 1.2)
        shift = rng.randrange(-1, 2)
        group = f"{kind}{service:02d}"
        for r in range(replicas):
            if len(out) >= n:
                break
            jitter = rng.uniform(0.9, 1.1)
            cpu = tuple(round(peak_cpu * scale_c * jitter
                              * (base + (1 - base) * _shape(kind, (h - shift) % HOURS)), 3)
                        for h in range(HOURS))
            mem_base = 0.6
            mem = tuple(round(peak_mem * scale_m * jitter
                              * (mem_base + (1 - mem_base) * _shape(kind, (h - shift) % HOURS)), 3)
                        for h in range(HOURS))
            out.append(Server(f"{group}-{chr(97 + r)}" if replicas > 1 else group,
                              cpu, mem, kind, group))
        service += 1
    return tuple(out)


@dataclass(frozen=True)
class HostLoad:
    """One consolidated host: its VMs and their summed hourly demand.

    Attributes
    ----------
    index : int
    vms : tuple of str
    cpu : tuple of float
        Cores demanded per hour (overhead included).
    memory : tuple of float
        GiB demanded per hour (overhead included).
    """

    index: int
    vms: tuple[str, ...]
    cpu: tuple[float, ...]
    memory: tuple[float, ...]


@dataclass(frozen=True)
class Placement:
    """Result of a consolidation: which VM runs where, and what it costs.

    Attributes
    ----------
    policy : str
    servers : tuple of Server
        The input servers (demand without overhead).
    hosts : tuple of HostLoad
    host, legacy : HostSpec
    overhead, cooling : float
    hosts_before, hosts_after : int
        Machines before (one per server) and after.
    cpu_util_before, cpu_util_after : float
        Mean CPU utilization of the machines over the day (0..1).
    mem_util_before, mem_util_after : float
        Mean memory utilization.
    energy_before_kwh, energy_after_kwh : float
        Energy per day including cooling (illustrative watts).
    """

    policy: str
    servers: tuple[Server, ...]
    hosts: tuple[HostLoad, ...]
    host: HostSpec
    legacy: HostSpec
    overhead: float
    cooling: float
    hosts_before: int
    hosts_after: int
    cpu_util_before: float
    cpu_util_after: float
    mem_util_before: float
    mem_util_after: float
    energy_before_kwh: float
    energy_after_kwh: float
    assignment: Mapping[str, int] = field(default_factory=dict, compare=False)

    @property
    def energy_saving(self) -> float:
        """Fraction of the daily energy saved by consolidating (0..1).

        Examples
        --------
        >>> 0 < consolidate(make_servers(10)).energy_saving < 1
        True
        """
        if self.energy_before_kwh <= 0:
            return 0.0
        return 1 - self.energy_after_kwh / self.energy_before_kwh

    @property
    def vms_per_host(self) -> float:
        """Mean number of VMs per host (what one host failure takes down)."""
        return len(self.servers) / self.hosts_after if self.hosts_after else 0.0

    def metrics(self) -> dict[str, float]:
        """The numbers an operator watches, as a flat dict.

        Examples
        --------
        >>> m = consolidate(make_servers(6)).metrics()
        >>> m["hosts_before"], sorted(m)[:2]
        (6, ['cpu_util_after', 'cpu_util_before'])
        """
        return {"hosts_before": self.hosts_before, "hosts_after": self.hosts_after,
                "vms_per_host": self.vms_per_host,
                "cpu_util_before": self.cpu_util_before, "cpu_util_after": self.cpu_util_after,
                "mem_util_before": self.mem_util_before, "mem_util_after": self.mem_util_after,
                "energy_before_kwh": self.energy_before_kwh,
                "energy_after_kwh": self.energy_after_kwh,
                "energy_saving": self.energy_saving}


# -- placement -------------------------------------------------------------------

class _Bin:
    """A host being filled (mutable, private to one consolidate() call)."""

    __slots__ = ("cpu", "mem", "vms", "groups", "peak_cpu", "peak_mem")

    def __init__(self):
        self.cpu = [0.0] * HOURS
        self.mem = [0.0] * HOURS
        self.vms: list[str] = []
        self.groups: set[str] = set()
        self.peak_cpu = 0.0      # sum of the VMs' peaks (static reservation)
        self.peak_mem = 0.0

    def fits_hourly(self, cpu, mem, cap_c, cap_m) -> bool:
        for a, b in zip(self.cpu, cpu):
            if a + b > cap_c:
                return False
        for a, b in zip(self.mem, mem):
            if a + b > cap_m:
                return False
        return True

    def add(self, name, group, cpu, mem, pc, pm):
        self.cpu = [a + b for a, b in zip(self.cpu, cpu)]
        self.mem = [a + b for a, b in zip(self.mem, mem)]
        self.vms.append(name)
        if group is not None:
            self.groups.add(group)
        self.peak_cpu += pc
        self.peak_mem += pm


def _scaled(servers, overhead):
    f = 1 + overhead
    return [(s.name, s.group, [c * f for c in s.cpu], [m * f for m in s.memory])
            for s in servers]


def _check_servers(servers) -> tuple[Server, ...]:
    if isinstance(servers, (str, bytes)) or not isinstance(servers, Sequence):
        raise TypeError(f"servers must be a sequence of Server, got {type(servers).__name__}")
    if not servers:
        raise ValueError("servers must not be empty")
    names = set()
    for i, s in enumerate(servers):
        check_type(f"servers[{i}]", s, Server)
        if s.name in names:
            raise ValueError(f"servers must have unique names; {s.name!r} appears twice")
        names.add(s.name)
    return tuple(servers)


def _summarise(policy, servers, bins, host, legacy, overhead, cooling) -> Placement:
    hosts = tuple(HostLoad(i, tuple(b.vms), tuple(b.cpu), tuple(b.mem))
                  for i, b in enumerate(bins))
    n = len(servers)
    util_b = sum(sum(s.cpu) / legacy.cpus for s in servers) / (n * HOURS)
    mem_b = sum(sum(s.memory) / legacy.memory_gb for s in servers) / (n * HOURS)
    util_a = sum(sum(h.cpu) / host.cpus for h in hosts) / (len(hosts) * HOURS)
    mem_a = sum(sum(h.memory) / host.memory_gb for h in hosts) / (len(hosts) * HOURS)
    e_b = sum(_power(legacy, c / legacy.cpus) for s in servers for c in s.cpu)
    e_a = sum(_power(host, c / host.cpus) for h in hosts for c in h.cpu)
    assignment = {vm: h.index for h in hosts for vm in h.vms}
    return Placement(policy, servers, hosts, host, legacy, overhead, cooling, n, len(hosts),
                     util_b, util_a, mem_b, mem_a, e_b * cooling / 1000, e_a * cooling / 1000,
                     assignment)


def _check_common(servers, host, legacy, overhead, cooling):
    servers = _check_servers(servers)
    host = check_type("host", host, HostSpec)
    legacy = check_type("legacy", legacy, HostSpec)
    overhead = check_number("overhead", overhead, minimum=0.0, maximum=1.0)
    cooling = check_number("cooling", cooling, minimum=1.0, maximum=10.0)
    return servers, host, legacy, overhead, cooling


def consolidate(servers: Sequence[Server], policy: str = "ffd", *, host: HostSpec = HostSpec(),
                legacy: HostSpec = LEGACY, overhead: float = 0.07, cooling: float = 1.5,
                anti_affinity: bool = False) -> Placement:
    """Place servers as VMs on as few hosts as the policy manages.

    Parameters
    ----------
    servers : sequence of Server
        Unique names; each must fit on an empty host.
    policy : str
        ``"ffd"`` (default), ``"best_fit"`` or ``"complementary"``
        (see the module docstring).
    host : HostSpec
        The consolidation host type.
    legacy : HostSpec
        The one-server-per-machine baseline (for "before").
    overhead : float
        Virtualization overhead added to each VM's CPU and memory demand
        (lecture: 0.05–0.10; default 0.07).
    cooling : float
        Facility watts per IT watt (>= 1; default 1.5, illustrative).
    anti_affinity : bool
        Keep servers of one ``group`` on different hosts.

    Raises
    ------
    ValueError
        If a server does not fit on an empty host (its demand, overhead
        included, exceeds the host's capacity), naming the server.

    Examples
    --------
    Two servers with complementary peaks share a host only when the policy
    looks at the hours:

    >>> day = Server("day", [10.0 if 8 <= h < 20 else 1.0 for h in range(24)], [8.0] * 24)
    >>> night = Server("night", [1.0 if 8 <= h < 20 else 10.0 for h in range(24)], [8.0] * 24)
    >>> consolidate([day, night], "ffd", overhead=0).hosts_after
    2
    >>> consolidate([day, night], "complementary", overhead=0).hosts_after
    1
    """
    servers, host, legacy, overhead, cooling = _check_common(servers, host, legacy,
                                                            overhead, cooling)
    check_choice("policy", policy, POLICIES)
    check_bool("anti_affinity", anti_affinity)
    cap_c, cap_m = host.cpus, host.memory_gb
    items = _scaled(servers, overhead)
    for name, _, cpu, mem in items:
        pc, pm = max(cpu), max(mem)
        if pc > cap_c or pm > cap_m:
            raise ValueError(
                f"servers: {name!r} needs {pc:.1f} cores and {pm:.1f} GiB at its peak "
                f"(with {overhead:.0%} overhead) but a host has {cap_c:g} cores and "
                f"{cap_m:g} GiB")
    # largest first, by the bigger of the two normalised peaks (ties: by name)
    items.sort(key=lambda it: (-max(max(it[2]) / cap_c, max(it[3]) / cap_m), it[0]))
    # Hosts that cannot take even the smallest VM in some hour are closed for good;
    # this keeps the candidate list short and the cost close to linear in n.
    min_c = [min(it[2][h] for it in items) for h in range(HOURS)]
    min_m = [min(it[3][h] for it in items) for h in range(HOURS)]
    min_pc = min(max(it[2]) for it in items)
    min_pm = min(max(it[3]) for it in items)
    static = policy in ("ffd", "best_fit")
    bins: list[_Bin] = []
    open_bins: list[_Bin] = []
    eps = 1e-9
    for name, group, cpu, mem in items:
        pc, pm = max(cpu), max(mem)
        best, best_key = None, None
        for b in open_bins:
            if anti_affinity and group is not None and group in b.groups:
                continue
            if static and (b.peak_cpu + pc > cap_c + eps or b.peak_mem + pm > cap_m + eps):
                continue
            if not b.fits_hourly(cpu, mem, cap_c + eps, cap_m + eps):
                continue
            if policy == "ffd":
                best = b
                break
            if policy == "best_fit":
                key = max((cap_c - b.peak_cpu - pc) / cap_c, (cap_m - b.peak_mem - pm) / cap_m)
            else:   # complementary: smallest growth of the combined hourly peak
                old = max(max(b.cpu) / cap_c, max(b.mem) / cap_m)
                new = max(max(a + x for a, x in zip(b.cpu, cpu)) / cap_c,
                          max(a + x for a, x in zip(b.mem, mem)) / cap_m)
                key = (round(new - old, 9), -old)
            if best_key is None or key < best_key:
                best, best_key = b, key
        if best is None:
            best = _Bin()
            bins.append(best)
            open_bins.append(best)
        best.add(name, group, cpu, mem, pc, pm)
        if (any(cap_c - a < m for a, m in zip(best.cpu, min_c))
                or any(cap_m - a < m for a, m in zip(best.mem, min_m))
                or (static and (cap_c - best.peak_cpu < min_pc
                                or cap_m - best.peak_mem < min_pm))):
            open_bins.remove(best)
    return _summarise(policy, servers, bins, host, legacy, overhead, cooling)


def check_placement(servers: Sequence[Server], assignment: Mapping[str, int], *,
                    host: HostSpec = HostSpec(), legacy: HostSpec = LEGACY,
                    overhead: float = 0.07, cooling: float = 1.5) -> Placement:
    """Validate a hand-made placement and summarise it like :func:`consolidate`.

    Parameters
    ----------
    assignment : mapping of str to int
        Server name → host index (0, 1, ...); every server exactly once.

    Raises
    ------
    ValueError
        If a host would carry more CPU or memory than it has in any hour, or
        the assignment misses or invents servers.

    Examples
    --------
    >>> a = Server("a", [10.0] * 24, [8.0] * 24)
    >>> b = Server("b", [10.0] * 24, [8.0] * 24)
    >>> check_placement([a, b], {"a": 0, "b": 1}, overhead=0).hosts_after
    2
    >>> check_placement([a, b], {"a": 0, "b": 0}, overhead=0)
    Traceback (most recent call last):
    ...
    ValueError: assignment puts 20.0 cores on host 0 at 00:00 but a host has 16 cores
    """
    servers, host, legacy, overhead, cooling = _check_common(servers, host, legacy,
                                                            overhead, cooling)
    check_type("assignment", assignment, Mapping)
    names = {s.name for s in servers}
    missing = sorted(names - set(assignment))
    extra = sorted(set(assignment) - names)
    if missing:
        raise ValueError(f"assignment misses server(s) {missing}")
    if extra:
        raise ValueError(f"assignment names unknown server(s) {extra}")
    for name, idx in assignment.items():
        check_int(f"assignment[{name!r}]", idx, minimum=0, maximum=10**6)
    used = sorted(set(assignment.values()))
    renumber = {old: new for new, old in enumerate(used)}
    bins = [_Bin() for _ in used]
    for name, group, cpu, mem in _scaled(servers, overhead):
        bins[renumber[assignment[name]]].add(name, group, cpu, mem, max(cpu), max(mem))
    for old, b in zip(used, bins):
        for label, series, cap, unit in (("cores", b.cpu, host.cpus, "cores"),
                                         ("GiB", b.mem, host.memory_gb, "GiB")):
            for h, v in enumerate(series):
                if v > cap + 1e-9:
                    raise ValueError(f"assignment puts {v:.1f} {label} on host {old} at "
                                     f"{h:02d}:00 but a host has {cap:g} {unit}")
    return _summarise("manual", servers, bins, host, legacy, overhead, cooling)


def tenant_servers(tenants: int = 3, per_tenant: int = 6, seed: int = 0) -> tuple[Server, ...]:
    """Servers of several cloud tenants (*Mandanten*), names prefixed by tenant.

    Each tenant gets its own seeded mix (:func:`make_servers` with a sub-seed);
    names and anti-affinity groups are ``"t1:web00-a"`` and ``"t1:web00"``.

    Examples
    --------
    >>> s = tenant_servers(2, 3, seed=1)
    >>> len(s), s[0].name.split(":")[0], s[-1].name.split(":")[0]
    (6, 't1', 't2')
    """
    tenants = check_int("tenants", tenants, minimum=1, maximum=1000)
    per_tenant = check_int("per_tenant", per_tenant, minimum=1, maximum=10_000)
    out = []
    for t in range(1, tenants + 1):
        for s in make_servers(per_tenant, seed=derive_seed(seed, f"tenant{t}")):
            out.append(Server(f"t{t}:{s.name}", s.cpu, s.memory, s.kind, f"t{t}:{s.group}"))
    return tuple(out)


def tenants_per_host(placement: Placement, sep: str = ":") -> list[int]:
    """How many tenants share each host (tenant = name prefix before ``sep``).

    More tenants per host means more strangers behind the same hypervisor —
    the isolation question of multi-tenant clouds.

    Examples
    --------
    >>> p = consolidate(tenant_servers(3, 4, seed=0))
    >>> max(tenants_per_host(p)) <= 3
    True
    """
    check_type("placement", placement, Placement)
    check_str("sep", sep)
    return [len({vm.split(sep)[0] for vm in h.vms}) for h in placement.hosts]


def memory_squeeze(placement: Placement, host: int, overcommit: float = 1.25,
                   pages_per_gib: int = 4):
    """Turn one host of a placement into a ballooning scenario (:mod:`virtlab.balloon`).

    The provider sizes each VM 25 % above its daily memory peak (illustrative)
    and then *overcommits*: the host gets ``configured / overcommit`` frames.
    Each VM's working set is its mean memory demand; the balloon targets ask
    every VM for its share (by size) of the missing memory, so that the
    targets together cover ``configured − frames``.  Sizes are scaled to ``pages_per_gib`` model pages per
    GiB so the page-level simulation stays small.

    Returns
    -------
    (host_frames, vms) : (int, tuple of virtlab.balloon.VMSpec)
        Ready for ``virtlab.balloon.simulate(host_frames, vms, policy=...)``.

    Examples
    --------
    >>> p = consolidate(make_servers(12, seed=1))
    >>> frames, vms = memory_squeeze(p, 0)
    >>> sum(v.memory for v in vms) > frames
    True
    >>> sum(v.memory - v.balloon_target for v in vms) <= frames
    True
    >>> frames == sum(v.memory for v in vms) // 1.25
    True
    """
    check_type("placement", placement, Placement)
    host = check_int("host", host, minimum=0, maximum=len(placement.hosts) - 1)
    overcommit = check_number("overcommit", overcommit, minimum=1.0, maximum=4.0)
    pages_per_gib = check_int("pages_per_gib", pages_per_gib, minimum=1, maximum=256)
    by_name = {s.name: s for s in placement.servers}
    rows = []
    for name in placement.hosts[host].vms:
        s = by_name[name]
        f = 1 + placement.overhead
        memory = max(GUEST_RESERVE + 8, math.ceil(s.peak_memory * f * 1.25 * pages_per_gib))
        working = min(memory - GUEST_RESERVE - 2,
                      round(sum(s.memory) / HOURS * f * pages_per_gib))
        cache = max(0, min(memory - GUEST_RESERVE - working - 1, round(0.1 * memory)))
        rows.append([name, memory, working, cache])
    configured = sum(r[1] for r in rows)
    frames = max(1, math.floor(configured / overcommit))
    need = configured - frames
    # every VM gives back its share of what is missing, in proportion to its size
    targets = [min(r[1] - GUEST_RESERVE, math.ceil(need * r[1] / configured)) for r in rows]
    vms = tuple(VMSpec(name, memory=memory, working_set=working, file_pages=cache,
                       shared_pages=min(working, round(0.15 * working)),
                       replacement=("lru", "fifo", "random")[k % 3], balloon_target=t)
                for k, ((name, memory, working, cache), t) in enumerate(zip(rows, targets)))
    return frames, vms
