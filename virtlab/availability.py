"""Availability after consolidation (*Verfügbarkeit, Ausfallsicherheit*).

The lecture's drawback: "Bei Ausfall eines Serverrechners fallen gleich
mehrere virtuelle Rechner aus" — hence "hohe Anforderungen an Ausfallkonzepte
und Redundanz".  This module injects a host failure into a
:class:`virtlab.consolidation.Placement`:

* every VM on the failed host goes down;
* with ``restart=True`` the VMs are restarted elsewhere (an HA cluster), first
  on the ``spares`` empty standby hosts (N+1 spare capacity for
  ``spares=1``), then in the free capacity of the surviving hosts — only
  where every hour of their demand fits;
* VMs that find no room stay *lost* until the host is repaired;
* a *service* (the replicas sharing a ``group``) is *out* when all its
  replicas are lost; anti-affinity placement keeps replicas apart so one
  failure never takes a whole service out.

:func:`expected_impact` averages over "each host fails once, equally likely";
:func:`compare_measures` lines up "separate servers", "consolidated", and
consolidated with anti-affinity, N+1 spare and restart.

Examples
--------
>>> from virtlab.consolidation import consolidate, make_servers
>>> servers = make_servers(24, seed=2)
>>> plain = consolidate(servers)
>>> expected_impact(plain).vms_lost == plain.vms_per_host
True
>>> safe = consolidate(servers, anti_affinity=True)
>>> expected_impact(safe, spares=1, restart=True).vms_lost
0.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .consolidation import HOURS, LEGACY, POLICIES, HostSpec, Placement, Server, consolidate
from .errors import check_bool, check_choice, check_int, check_type

__all__ = ["AvailabilityReport", "FailureImpact", "compare_measures", "expected_impact",
           "host_failure"]


@dataclass(frozen=True)
class FailureImpact:
    """What one host failure does.

    Attributes
    ----------
    failed_host : int
    vms_down : tuple of str
        All VMs that were on the failed host (they all stop at once).
    restarted : tuple of (str, str)
        VM name and where it was restarted (``"spare 0"``, ``"host 3"``).
    lost : tuple of str
        VMs that could not be restarted anywhere.
    services_out : tuple of str
        Groups none of whose replicas is running after the failure.
    """

    failed_host: int
    vms_down: tuple[str, ...]
    restarted: tuple[tuple[str, str], ...]
    lost: tuple[str, ...]
    services_out: tuple[str, ...]


@dataclass(frozen=True)
class AvailabilityReport:
    """Expected impact of one host failure (every host equally likely).

    Attributes
    ----------
    label : str
    hosts : int
        Hosts in service (spares not counted).
    spares : int
    vms_down : float
        Expected VMs that stop when a host fails.
    vms_lost : float
        Expected VMs that stay down (no restart or no room).
    services_out : float
        Expected services with no replica running.
    worst_vms_lost : int
        The worst single host failure.
    """

    label: str
    hosts: int
    spares: int
    vms_down: float
    vms_lost: float
    services_out: float
    worst_vms_lost: int


def _check_placement(placement):
    return check_type("placement", placement, Placement)


def host_failure(placement: Placement, failed_host: int, *, spares: int = 0,
                 restart: bool = False) -> FailureImpact:
    """Fail one host of ``placement`` and restart its VMs where they fit.

    Parameters
    ----------
    placement : Placement
    failed_host : int
        Index of the host that fails.
    spares : int
        Empty standby hosts of the same type (N+1: ``spares=1``).
    restart : bool
        Restart the failed VMs elsewhere (HA); without it they stay down.

    Examples
    --------
    >>> from virtlab.consolidation import consolidate, make_servers
    >>> p = consolidate(make_servers(12, seed=1))
    >>> f = host_failure(p, 0)
    >>> f.vms_down == p.hosts[0].vms and f.lost == f.vms_down
    True
    >>> host_failure(p, 0, spares=1, restart=True).lost
    ()
    """
    placement = _check_placement(placement)
    failed_host = check_int("failed_host", failed_host, minimum=0,
                            maximum=len(placement.hosts) - 1)
    spares = check_int("spares", spares, minimum=0, maximum=1000)
    check_bool("restart", restart)
    by_name = {s.name: s for s in placement.servers}
    f = 1 + placement.overhead
    cap_c, cap_m = placement.host.cpus, placement.host.memory_gb
    down = placement.hosts[failed_host].vms
    restarted: list[tuple[str, str]] = []
    lost: list[str] = []
    if restart:
        # targets: spares first (empty), then surviving hosts with their current load
        targets = [(f"spare {i}", [0.0] * HOURS, [0.0] * HOURS) for i in range(spares)]
        targets += [(f"host {h.index}", list(h.cpu), list(h.memory))
                    for h in placement.hosts if h.index != failed_host]
        order = sorted(down, key=lambda n: (-max(by_name[n].cpu), n))
        for name in order:
            s = by_name[name]
            cpu = [c * f for c in s.cpu]
            mem = [m * f for m in s.memory]
            for label, tc, tm in targets:
                if all(a + b <= cap_c + 1e-9 for a, b in zip(tc, cpu)) and \
                        all(a + b <= cap_m + 1e-9 for a, b in zip(tm, mem)):
                    for h in range(HOURS):
                        tc[h] += cpu[h]
                        tm[h] += mem[h]
                    restarted.append((name, label))
                    break
            else:
                lost.append(name)
    else:
        lost = list(down)
    lost_set = set(lost)
    groups: dict[str, list[str]] = {}
    for s in placement.servers:
        if s.group is not None:
            groups.setdefault(s.group, []).append(s.name)
    out = tuple(sorted(g for g, members in groups.items()
                       if all(m in lost_set for m in members)))
    return FailureImpact(failed_host, tuple(down), tuple(restarted), tuple(lost), out)


def expected_impact(placement: Placement, *, spares: int = 0, restart: bool = False,
                    label: str = "") -> AvailabilityReport:
    """Average :func:`host_failure` over every host failing once.

    Examples
    --------
    >>> from virtlab.consolidation import consolidate, make_servers
    >>> p = consolidate(make_servers(16, seed=4))
    >>> r = expected_impact(p)
    >>> r.vms_down == r.vms_lost == len(p.servers) / p.hosts_after
    True
    """
    placement = _check_placement(placement)
    impacts = [host_failure(placement, h.index, spares=spares, restart=restart)
               for h in placement.hosts]
    n = len(impacts)
    return AvailabilityReport(label or placement.policy, len(placement.hosts), spares,
                              sum(len(i.vms_down) for i in impacts) / n,
                              sum(len(i.lost) for i in impacts) / n,
                              sum(len(i.services_out) for i in impacts) / n,
                              max(len(i.lost) for i in impacts))


def compare_measures(servers: Sequence[Server], policy: str = "ffd", *,
                     host: HostSpec = HostSpec(), legacy: HostSpec = LEGACY,
                     overhead: float = 0.07) -> tuple[AvailabilityReport, ...]:
    """Expected loss per host failure: before consolidation and with each measure.

    Rows: separate servers (one per machine); consolidated; + anti-affinity;
    + anti-affinity, N+1 spare and restart.

    Examples
    --------
    >>> from virtlab.consolidation import make_servers
    >>> rows = compare_measures(make_servers(20, seed=5))
    >>> [r.label for r in rows]
    ['separate servers', 'consolidated', '+ anti-affinity', '+ N+1 spare & restart']
    >>> rows[0].vms_lost, rows[-1].vms_lost
    (1.0, 0.0)
    """
    check_choice("policy", policy, POLICIES)
    plain = consolidate(servers, policy, host=host, legacy=legacy, overhead=overhead)
    apart = consolidate(servers, policy, host=host, legacy=legacy, overhead=overhead,
                        anti_affinity=True)
    n = len(plain.servers)
    # one server per machine: a failure takes exactly one server down; a service is
    # out only if it has a single replica
    sizes: dict[str, int] = {}
    for s in plain.servers:
        if s.group is not None:
            sizes[s.group] = sizes.get(s.group, 0) + 1
    singles = sum(1 for s in plain.servers if s.group is not None and sizes[s.group] == 1)
    before = AvailabilityReport("separate servers", n, 0, 1.0, 1.0, singles / n, 1)
    return (before,
            expected_impact(plain, label="consolidated"),
            expected_impact(apart, label="+ anti-affinity"),
            expected_impact(apart, spares=1, restart=True, label="+ N+1 spare & restart"))
