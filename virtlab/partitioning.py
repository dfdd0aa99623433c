"""Partitioning (*Partitionierung*): one machine split into partitions by firmware.

The lecture: a known approach from the mainframe world — the whole system is
partitioned into subsystems with runnable OS instances (VMs); resources
(processor, main memory, I/O system) are assigned to the VMs by the
hardware/firmware.  On IBM mainframes this is LPAR under PR/SM: a logical
partition gets **dedicated** CPUs, or a **weight** in the pool of **shared**
CPUs, plus its own memory and I/O channels.

This module models that firmware check and what sharing buys:

* :func:`assign` validates a configuration against the :class:`Machine` and
  refuses over-assignment with a message naming the resource;
  :class:`Firmware` does the same step by step (a refused change leaves the
  configuration as it was).
* :func:`entitlements` gives each partition's CPU share: dedicated CPUs, or
  ``pool * weight / sum(weights)`` of the shared pool.
* :func:`compare_static_shared` runs the same fluctuating demand against
  static partitions (each capped at its entitlement) and against one shared,
  work-conserving pool (weighted max-min fair, :func:`water_fill`).
* :data:`TIMELINE` is the CTSS → CP/CMS → VM/370 → z/VM line as data.

Examples
--------
>>> m = Machine(cpus=8, memory_gb=64, channels=16)
>>> a = assign(m, [Partition("prod", 32, 8, dedicated_cpus=4),
...                Partition("test", 16, 4, weight=1), Partition("dev", 8, 2, weight=1)])
>>> a.pool_cpus, entitlements(a)
(4, {'prod': 4.0, 'test': 2.0, 'dev': 2.0})
>>> assign(m, [Partition("big", 80, 1, weight=1)])
Traceback (most recent call last):
...
ValueError: partitions over-assign memory: 80 GiB requested, the machine has 64 GiB
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import check_int, check_number, check_str, check_type
from .rng import derive_seed, make_rng

__all__ = ["Assignment", "Firmware", "Machine", "Milestone", "Partition", "TIMELINE",
           "UtilizationResult", "assign", "compare_static_shared", "entitlements",
           "make_demand", "water_fill"]


@dataclass(frozen=True)
class Machine:
    """A partitionable machine.

    Examples
    --------
    >>> Machine().cpus
    8
    >>> Machine(cpus=0)
    Traceback (most recent call last):
    ...
    ValueError: cpus must be an integer in [1, 1024], got 0
    """

    cpus: int = 8
    memory_gb: int = 64
    channels: int = 16
    name: str = "mainframe"

    def __post_init__(self):
        check_int("cpus", self.cpus, minimum=1, maximum=1024)
        check_int("memory_gb", self.memory_gb, minimum=1, maximum=1 << 24)
        check_int("channels", self.channels, minimum=0, maximum=1 << 16)
        check_str("name", self.name)


@dataclass(frozen=True)
class Partition:
    """A logical partition: memory, I/O channels and either dedicated CPUs or a weight.

    Exactly one of ``dedicated_cpus`` (> 0) and ``weight`` (> 0) is set.

    Examples
    --------
    >>> Partition("prod", 16, 2, dedicated_cpus=2).mode
    'dedicated'
    >>> Partition("test", 8, 1, weight=3).mode
    'shared'
    >>> Partition("odd", 8, 1)
    Traceback (most recent call last):
    ...
    ValueError: partition 'odd' needs dedicated_cpus > 0 or weight > 0 (exactly one)
    """

    name: str
    memory_gb: int
    channels: int = 1
    dedicated_cpus: int = 0
    weight: int = 0

    def __post_init__(self):
        check_str("name", self.name)
        check_int("memory_gb", self.memory_gb, minimum=1, maximum=1 << 24)
        check_int("channels", self.channels, minimum=0, maximum=1 << 16)
        check_int("dedicated_cpus", self.dedicated_cpus, minimum=0, maximum=1024)
        check_int("weight", self.weight, minimum=0, maximum=999)
        if (self.dedicated_cpus > 0) == (self.weight > 0):
            raise ValueError(f"partition {self.name!r} needs dedicated_cpus > 0 or "
                             f"weight > 0 (exactly one)")

    @property
    def mode(self) -> str:
        """``"dedicated"`` or ``"shared"``."""
        return "dedicated" if self.dedicated_cpus else "shared"


@dataclass(frozen=True)
class Assignment:
    """A validated partitioning of a machine (what the firmware accepted).

    Attributes
    ----------
    machine : Machine
    partitions : tuple of Partition
    pool_cpus : int
        CPUs not dedicated to anyone: the shared pool.
    free_memory_gb, free_channels : int
        What is left unassigned.
    """

    machine: Machine
    partitions: tuple[Partition, ...]
    pool_cpus: int
    free_memory_gb: int
    free_channels: int

    def rows(self) -> list[tuple[str, str, float, int, int]]:
        """(name, mode, CPU entitlement, GiB, channels) per partition.

        Examples
        --------
        >>> assign(Machine(), [Partition("a", 8, 1, weight=1)]).rows()
        [('a', 'shared', 8.0, 8, 1)]
        """
        ent = entitlements(self)
        return [(p.name, p.mode, ent[p.name], p.memory_gb, p.channels)
                for p in self.partitions]


def assign(machine: Machine, partitions: Sequence[Partition]) -> Assignment:
    """Check a partitioning against the machine, as the firmware does.

    Raises
    ------
    ValueError
        On over-assignment of CPUs, memory or channels, on shared partitions
        without a shared pool, and on duplicate names.

    Examples
    --------
    >>> assign(Machine(cpus=4), [Partition("a", 1, dedicated_cpus=3),
    ...                          Partition("b", 1, dedicated_cpus=2)])
    Traceback (most recent call last):
    ...
    ValueError: partitions over-assign CPUs: 5 dedicated CPUs requested, the machine has 4
    """
    check_type("machine", machine, Machine)
    if isinstance(partitions, (str, bytes)) or not isinstance(partitions, Sequence):
        raise TypeError(f"partitions must be a sequence of Partition, "
                        f"got {type(partitions).__name__}")
    seen = set()
    for i, p in enumerate(partitions):
        check_type(f"partitions[{i}]", p, Partition)
        if p.name in seen:
            raise ValueError(f"partitions must have unique names; {p.name!r} appears twice")
        seen.add(p.name)
    dedicated = sum(p.dedicated_cpus for p in partitions)
    memory = sum(p.memory_gb for p in partitions)
    channels = sum(p.channels for p in partitions)
    if dedicated > machine.cpus:
        raise ValueError(f"partitions over-assign CPUs: {dedicated} dedicated CPUs requested, "
                         f"the machine has {machine.cpus}")
    if memory > machine.memory_gb:
        raise ValueError(f"partitions over-assign memory: {memory} GiB requested, "
                         f"the machine has {machine.memory_gb} GiB")
    if channels > machine.channels:
        raise ValueError(f"partitions over-assign I/O channels: {channels} requested, "
                         f"the machine has {machine.channels}")
    pool = machine.cpus - dedicated
    if pool == 0 and any(p.mode == "shared" for p in partitions):
        raise ValueError("partitions: shared partitions need a shared pool, but all "
                         f"{machine.cpus} CPUs are dedicated")
    return Assignment(machine, tuple(partitions), pool, machine.memory_gb - memory,
                      machine.channels - channels)


def entitlements(assignment: Assignment) -> dict[str, float]:
    """CPU entitlement per partition: its dedicated CPUs or its weighted pool share.

    Examples
    --------
    >>> a = assign(Machine(cpus=6), [Partition("a", 1, weight=2), Partition("b", 1, weight=1)])
    >>> entitlements(a)
    {'a': 4.0, 'b': 2.0}
    """
    check_type("assignment", assignment, Assignment)
    total_w = sum(p.weight for p in assignment.partitions)
    return {p.name: float(p.dedicated_cpus) if p.dedicated_cpus
            else assignment.pool_cpus * p.weight / total_w
            for p in assignment.partitions}


class Firmware:
    """A machine's partition configuration, changed one step at a time.

    Every change is validated with :func:`assign` first; a refused change
    leaves the configuration unchanged.

    Examples
    --------
    >>> fw = Firmware(Machine(cpus=4, memory_gb=16, channels=4))
    >>> fw.add(Partition("prod", 8, 2, dedicated_cpus=2))
    >>> fw.add(Partition("test", 12, 1, weight=1))
    Traceback (most recent call last):
    ...
    ValueError: partitions over-assign memory: 20 GiB requested, the machine has 16 GiB
    >>> [p.name for p in fw.partitions]
    ['prod']
    """

    def __init__(self, machine: Machine):
        self.machine = check_type("machine", machine, Machine)
        self._assignment = assign(machine, [])

    @property
    def partitions(self) -> tuple[Partition, ...]:
        """The accepted partitions."""
        return self._assignment.partitions

    @property
    def assignment(self) -> Assignment:
        """The current validated assignment."""
        return self._assignment

    def add(self, partition: Partition) -> None:
        """Add a partition (refused if it over-assigns anything)."""
        check_type("partition", partition, Partition)
        self._assignment = assign(self.machine, [*self.partitions, partition])

    def remove(self, name: str) -> None:
        """Remove the partition called ``name``."""
        check_str("name", name)
        if name not in {p.name for p in self.partitions}:
            raise ValueError(f"name must be an existing partition; no partition {name!r}")
        self._assignment = assign(self.machine, [p for p in self.partitions if p.name != name])

    def replace(self, partition: Partition) -> None:
        """Change the partition with the same name (refused if it over-assigns)."""
        check_type("partition", partition, Partition)
        if partition.name not in {p.name for p in self.partitions}:
            raise ValueError(f"partition must name an existing partition; "
                             f"no partition {partition.name!r}")
        self._assignment = assign(self.machine, [partition if p.name == partition.name else p
                                                 for p in self.partitions])


# -- static partitions vs a shared pool ---------------------------------------------------

def water_fill(capacity: float, demands: Sequence[float],
               weights: Sequence[float]) -> list[float]:
    """Weighted max-min fair, work-conserving split of ``capacity``.

    Each partition gets at most its demand; capacity a partition does not
    need is shared among the others in proportion to their weights.

    Examples
    --------
    >>> water_fill(6, [1, 5, 5], [1, 1, 1])     # 1 is enough for the first
    [1.0, 2.5, 2.5]
    >>> water_fill(6, [9, 9], [2, 1])
    [4.0, 2.0]
    >>> water_fill(6, [1, 1], [1, 1])           # more than enough: idle capacity
    [1.0, 1.0]
    """
    capacity = check_number("capacity", capacity, minimum=0)
    if len(demands) != len(weights):
        raise ValueError(f"demands and weights must have the same length "
                         f"({len(demands)} != {len(weights)})")
    d = [check_number(f"demands[{i}]", x, minimum=0) for i, x in enumerate(demands)]
    w = [check_number(f"weights[{i}]", x, minimum=0, strict_minimum=True)
         for i, x in enumerate(weights)]
    alloc = [0.0] * len(d)
    active = set(range(len(d)))
    left = capacity
    while active and left > 1e-12:
        total_w = sum(w[i] for i in active)
        satisfied = [i for i in active if d[i] - alloc[i] <= left * w[i] / total_w + 1e-12]
        if not satisfied:
            for i in active:
                alloc[i] += left * w[i] / total_w
            break
        for i in satisfied:
            left -= d[i] - alloc[i]
            alloc[i] = d[i]
            active.discard(i)
    return [float(a) for a in alloc]


def make_demand(names: Sequence[str], steps: int = 96, seed: int = 0, *,
                mean: float = 1.5, burst: float = 3.0) -> dict[str, tuple[float, ...]]:
    """Seeded fluctuating CPU demand per partition (CPUs per time step).

    Each series is a mean level plus occasional bursts, drawn independently
    per partition (sub-seeds from :func:`virtlab.rng.derive_seed`), so bursts
    rarely coincide — the situation where sharing pays off.

    Examples
    --------
    >>> d = make_demand(["a", "b"], steps=4, seed=1)
    >>> sorted(d), len(d["a"])
    (['a', 'b'], 4)
    >>> make_demand(["a"], steps=4, seed=1)["a"] == d["a"]
    True
    """
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence) or not names:
        raise TypeError("names must be a non-empty sequence of partition names")
    for i, n in enumerate(names):
        check_str(f"names[{i}]", n)
    steps = check_int("steps", steps, minimum=1, maximum=1_000_000)
    mean = check_number("mean", mean, minimum=0, maximum=1e6)
    burst = check_number("burst", burst, minimum=0, maximum=1e6)
    out = {}
    for name in names:
        rng = make_rng(derive_seed(seed, f"partition:{name}"))
        level, series = 0.0, []
        for _ in range(steps):
            if rng.random() < 0.08:            # a burst starts
                level = burst * rng.uniform(0.5, 1.0)
            level *= 0.8                        # and decays
            series.append(round(max(0.0, mean * rng.uniform(0.4, 1.2) + level), 4))
        out[name] = tuple(series)
    return out


@dataclass(frozen=True)
class UtilizationResult:
    """Static partitions vs one shared pool under the same demand.

    Attributes
    ----------
    cpus : float
    names : tuple of str
    demand, static, shared : dict of str to tuple of float
        Demanded and served CPUs per step and partition.
    static_util, shared_util : float
        Served CPU time / available CPU time (0..1).
    static_unmet, shared_unmet : float
        Fraction of the demanded CPU time that was not served.
    """

    cpus: float
    names: tuple[str, ...]
    demand: dict
    static: dict
    shared: dict
    static_util: float
    shared_util: float
    static_unmet: float
    shared_unmet: float


def compare_static_shared(cpus: float, demand: dict[str, Sequence[float]],
                          weights: dict[str, float] | None = None) -> UtilizationResult:
    """Serve the same demand with static partitions and with a shared pool.

    Static: partition ``i`` owns ``cpus * w_i / sum(w)`` CPUs and can use no
    more, even when the others idle.  Shared: all CPUs form one pool split by
    :func:`water_fill` in every step.

    Examples
    --------
    >>> r = compare_static_shared(4, {"a": [4, 0], "b": [0, 4]})
    >>> r.static_util, r.shared_util
    (0.5, 1.0)
    """
    cpus = check_number("cpus", cpus, minimum=0, strict_minimum=True, maximum=1e6)
    check_type("demand", demand, dict)
    if not demand:
        raise ValueError("demand must name at least one partition")
    names = tuple(demand)
    lengths = {len(v) for v in demand.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError("demand series must be non-empty and of equal length")
    steps = lengths.pop()
    series = {n: [check_number(f"demand[{n!r}]", x, minimum=0) for x in demand[n]]
              for n in names}
    if weights is None:
        weights = {n: 1.0 for n in names}
    check_type("weights", weights, dict)
    if set(weights) != set(names):
        raise ValueError("weights must have exactly the partitions of demand as keys")
    w = [check_number(f"weights[{n!r}]", weights[n], minimum=0, strict_minimum=True)
         for n in names]
    total_w = sum(w)
    own = [cpus * x / total_w for x in w]
    static = {n: [] for n in names}
    shared = {n: [] for n in names}
    for t in range(steps):
        d = [series[n][t] for n in names]
        for n, x, c in zip(names, d, own):
            static[n].append(min(x, c))
        for n, x in zip(names, water_fill(cpus, d, w)):
            shared[n].append(x)
    want = sum(sum(v) for v in series.values())
    got_static = sum(sum(v) for v in static.values())
    got_shared = sum(sum(v) for v in shared.values())
    avail = cpus * steps
    return UtilizationResult(
        cpus, names, {n: tuple(series[n]) for n in names},
        {n: tuple(v) for n, v in static.items()}, {n: tuple(v) for n, v in shared.items()},
        got_static / avail, got_shared / avail,
        (1 - got_static / want) if want else 0.0, (1 - got_shared / want) if want else 0.0)


# -- history ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Milestone:
    """One step of the mainframe line the lecture names.

    ``source`` says where the date comes from; ``[S]`` marks a secondary
    source (an encyclopedia article), not checked against a primary one.
    """

    year: int
    name: str
    what: str
    source: str


#: CTSS → CP/CMS → VM/370 → z/VM, plus PR/SM (firmware partitions).  The lecture
#: simplifies "CTSS was developed further by IBM into VM/CMS": CP/CMS was built at
#: IBM's Cambridge Scientific Center, drawing on the CTSS experience.
TIMELINE = (
    Milestone(1961, "CTSS", "MIT's Compatible Time-Sharing System, first demonstrated "
              "(time-sharing, not yet VMs)", "[S] Wikipedia, History of CP/CMS"),
    Milestone(1967, "CP-40/CMS", "IBM Cambridge Scientific Center: the first virtual "
              "machines, one per user", "[S] Wikipedia, CP-40"),
    Milestone(1968, "CP-67/CMS", "CP/CMS on the System/360-67, used at customer sites",
              "[S] Wikipedia, CP/CMS"),
    Milestone(1972, "VM/370", "IBM's product: a VM per user on System/370",
              "[S] Wikipedia, VM (operating system)"),
    Milestone(1988, "PR/SM (LPAR)", "firmware partitions on the IBM 3090: dedicated or "
              "shared CPUs by weight", "[S] Wikipedia, PR/SM"),
    Milestone(2000, "z/VM", "VM for 64-bit zSeries (z/Architecture), still sold",
              "[S] Wikipedia, z/VM"),
)
