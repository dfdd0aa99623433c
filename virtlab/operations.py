"""Operating a consolidated data centre: maintenance by live migration and the dashboard.

This module sits above :mod:`virtlab.availability` and :mod:`virtlab.migration`
and joins them: :func:`maintenance` takes a host out of service, finds room for
its VMs as an HA restart would (:func:`~virtlab.availability.host_failure`) and
migrates them live (:func:`~virtlab.migration.evacuate`); :func:`dashboard`
collects what an operator watches from the models' results as data
(:class:`Metric`); :func:`virtlab.viz.text.metric_text` formats a metric
for display.

Examples
--------
>>> from virtlab.consolidation import consolidate, make_servers
>>> p = consolidate(make_servers(12, seed=1))
>>> m = maintenance(p, 0, 1000, spares=1)
>>> moved = [x for x in dashboard(p, maintenance=m) if x.area == "maintenance"][0]
>>> moved.metric, moved.value == len(p.hosts[0].vms)
('VMs moved off host 0', True)
"""

from __future__ import annotations

from dataclasses import dataclass

from .availability import AvailabilityReport, host_failure
from .consolidation import Placement, tenants_per_host
from .errors import check_choice, check_number, check_type
from .i18n import N_, _
from .migration import BANDWIDTH_MBIT_RANGE, METHODS, Evacuation, evacuate

__all__ = ["AREAS", "DIRTY_PROFILES", "Maintenance", "maintenance", "Metric", "dashboard"]

#: Dirty rate (Mbit/s) and writable working set (fraction of memory) per server kind
#: (illustrative).
DIRTY_PROFILES = {"web": (100.0, 0.05), "db": (400.0, 0.15), "batch": (800.0, 0.3),
                  "office": (50.0, 0.05), "backup": (200.0, 0.1), "custom": (100.0, 0.1)}


@dataclass(frozen=True)
class Maintenance:
    """Emptying one host of a consolidated placement by live migration.

    Attributes
    ----------
    host : int
        The host taken out for maintenance.
    moves : tuple of (str, str)
        VM and its new place (``"host 2"``, ``"spare 0"``).
    stuck : tuple of str
        VMs for which no host had room in every hour (they would need a spare
        or must be shut down).
    evacuation : Evacuation
        The live migrations of the moved VMs, back to back.
    """

    host: int
    moves: tuple[tuple[str, str], ...]
    stuck: tuple[str, ...]
    evacuation: Evacuation


def maintenance(placement, host: int, bandwidth_mbit: float = 1000.0, *,
                spares: int = 0, method: str = "pre-copy", **options) -> Maintenance:
    """Take ``host`` out of service: find room for its VMs and migrate them live.

    Targets are chosen as for a restart after a failure
    (:func:`~virtlab.availability.host_failure` with ``restart=True``); each
    moved VM is migrated with its memory at its daily peak and the dirtying
    behaviour of its kind (:data:`DIRTY_PROFILES`, illustrative).

    Examples
    --------
    >>> from virtlab.consolidation import consolidate, make_servers
    >>> p = consolidate(make_servers(12, seed=1))
    >>> m = maintenance(p, 0, 1000, spares=1)
    >>> m.stuck, len(m.moves) == len(p.hosts[0].vms)
    ((), True)
    >>> m.evacuation.max_downtime_s < 1
    True
    """
    check_type("placement", placement, Placement)
    check_choice("method", method, METHODS)
    lo, hi = BANDWIDTH_MBIT_RANGE
    bandwidth_mbit = check_number("bandwidth_mbit", bandwidth_mbit, minimum=lo, maximum=hi)
    impact = host_failure(placement, host, spares=spares, restart=True)
    by_name = {s.name: s for s in placement.servers}
    vms = []
    for name, _ in impact.restarted:
        s = by_name[name]
        rate, frac = DIRTY_PROFILES.get(s.kind, DIRTY_PROFILES["custom"])
        mem = max(1.0, s.peak_memory * 1024)
        vms.append((name, mem, rate, mem * frac))
    evac = evacuate(vms, bandwidth_mbit, method, **options)
    return Maintenance(host, impact.restarted, impact.lost, evac)


#: The dashboard's areas (:attr:`Metric.area`, keys that stay English) and their labels.
AREAS = {"capacity": N_("capacity"), "energy": N_("energy"), "isolation": N_("isolation"),
         "availability": N_("availability"), "maintenance": N_("maintenance")}


@dataclass(frozen=True)
class Metric:
    """One line of the operator's dashboard, as data.

    Attributes
    ----------
    area : str
        A key of :data:`AREAS` (``"capacity"``), English in every language;
        :attr:`area_label` is its display label.
    metric : str
        What is measured (``"hosts in use"``): display text in the language that
        was current when :func:`dashboard` built it.
    value : int, float or tuple of float
        A count, a mean, fractions (``unit="%"``, e.g. CPU and memory) or a
        quantity in ``unit``.
    unit : str
        ``""`` (a count or a mean), ``"%"`` (fractions 0..1), ``"kWh"``, ``"s"``,
        ``"ms"`` or ``"GiB"``.
    before : float or None
        The value before consolidation, where the lecture compares the two.
    """

    area: str
    metric: str
    value: int | float | tuple[float, ...]
    unit: str = ""
    before: float | None = None

    @property
    def area_label(self) -> str:
        """The area in the current language (``"Kapazität"`` for ``"capacity"`` in German)."""
        return _(AREAS.get(self.area, self.area))


def dashboard(placement: Placement, report: AvailabilityReport | None = None,
              maintenance: Maintenance | None = None) -> list[Metric]:
    """What an operator watches, from the models' results.

    The areas are keys (:data:`AREAS`); the metrics' names are built in the
    current language (:func:`virtlab.set_language`).

    Parameters
    ----------
    placement : Placement
    report : AvailabilityReport, optional
        From :func:`virtlab.availability.expected_impact`.
    maintenance : Maintenance, optional
        From :func:`maintenance`.

    Examples
    --------
    >>> from virtlab.consolidation import consolidate, make_servers
    >>> rows = dashboard(consolidate(make_servers(10)))
    >>> rows[0]
    Metric(area='capacity', metric='hosts in use', value=2, unit='', before=None)
    """
    p = check_type("placement", placement, Placement)
    peak_c = max(max(h.cpu) for h in p.hosts) / p.host.cpus
    peak_m = max(max(h.memory) for h in p.hosts) / p.host.memory_gb
    rows = [Metric("capacity", _("hosts in use"), p.hosts_after),
            Metric("capacity", _("VMs per host"), float(p.vms_per_host)),
            Metric("capacity", _("mean CPU / memory utilization"),
                   (p.cpu_util_after, p.mem_util_after), "%"),
            Metric("capacity", _("busiest host-hour CPU / memory"), (peak_c, peak_m), "%"),
            Metric("energy", _("kWh per day incl. cooling (illustrative)"), p.energy_after_kwh,
                   "kWh", p.energy_before_kwh),
            Metric("isolation", _("most tenants on one host"), max(tenants_per_host(p)))]
    if report is not None:
        check_type("report", report, AvailabilityReport)
        rows += [Metric("availability", _("VMs down per host failure"), float(report.vms_down)),
                 Metric("availability", _("VMs lost per host failure"), float(report.vms_lost)),
                 Metric("availability", _("services out per host failure"),
                        float(report.services_out))]
    if maintenance is not None:
        m = check_type("maintenance", maintenance, Maintenance)
        e = m.evacuation
        rows += [Metric("maintenance", _("VMs moved off host {host}").format(host=m.host),
                        len(m.moves)),
                 Metric("maintenance", _("VMs with no room elsewhere"), len(m.stuck)),
                 Metric("maintenance", _("time to empty the host"), e.total_time_s, "s"),
                 Metric("maintenance", _("worst downtime of one VM"), e.max_downtime_s * 1000,
                        "ms"),
                 Metric("maintenance", _("data sent"), e.data_sent_mb / 1024, "GiB")]
    return rows
