"""Apps for notebook 04: consolidation and a host failure.

Examples
--------
>>> app = consolidation_lab(servers=20)
>>> app.result.hosts_before
20
>>> app.controls["policy"].value = "complementary"
>>> app.result.policy
'complementary'
>>> f = failure_lab(servers=20)
>>> f.result[1].lost == f.result[1].vms_down
True
"""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as W

from .. import availability as av
from .. import consolidation as cons
from ..errors import check_bool, check_choice, check_int, check_number
from ..viz import consolidation as viz_cons
from .base import WidgetApp

__all__ = ["ConsolidationLab", "FailureLab", "consolidation_lab", "failure_lab"]


@lru_cache(maxsize=32)
def _placement(servers: int, policy: str, overhead: float, seed: int,
               anti_affinity: bool = False) -> cons.Placement:
    # Results are immutable: moving the failed-host slider reuses the placement.
    return cons.consolidate(cons.make_servers(servers, seed=seed), policy, overhead=overhead,
                            anti_affinity=anti_affinity)


@lru_cache(maxsize=32)
def _expected(placement: cons.Placement, spares: int, restart: bool) -> av.AvailabilityReport:
    return av.expected_impact(placement, spares=spares, restart=restart)


def _metrics_table(p: cons.Placement) -> str:
    return ("<table><tr><th></th><th>before (one machine each)</th><th>after</th></tr>"
            f"<tr><td>machines</td><td>{p.hosts_before}</td><td>{p.hosts_after}</td></tr>"
            f"<tr><td>mean CPU utilization</td><td>{p.cpu_util_before:.0%}</td>"
            f"<td>{p.cpu_util_after:.0%}</td></tr>"
            f"<tr><td>mean memory utilization</td><td>{p.mem_util_before:.0%}</td>"
            f"<td>{p.mem_util_after:.0%}</td></tr>"
            f"<tr><td>energy per day incl. cooling</td><td>{p.energy_before_kwh:,.0f} kWh</td>"
            f"<td>{p.energy_after_kwh:,.0f} kWh</td></tr>"
            f"<tr><td>VMs per host</td><td>1</td><td>{p.vms_per_host:.1f}</td></tr></table>"
            "<p><i>Watts, cooling factor and server sizes are illustrative.</i></p>")


class ConsolidationLab(WidgetApp):
    """Number of servers, policy, overhead → hosts, utilization, energy."""

    title = "Server consolidation (Serverkonsolidierung)"

    def __init__(self, servers: int = 40, policy: str = "ffd", overhead: float = 0.07,
                 seed: int = 0):
        check_int("servers", servers, 2, 200)
        check_choice("policy", policy, cons.POLICIES)
        check_number("overhead", overhead, 0.0, 0.3)
        check_int("seed", seed, 0, 50)
        super().__init__({
            "servers": W.IntSlider(value=servers, min=2, max=200, description="servers"),
            "policy": W.Dropdown(options=list(cons.POLICIES), value=policy,
                                 description="policy"),
            "overhead": W.FloatSlider(value=overhead, min=0.0, max=0.3, step=0.01,
                                      description="overhead", readout_format=".0%"),
            "seed": W.IntSlider(value=seed, min=0, max=50, description="seed"),
        })

    def compute(self, servers, policy, overhead, seed):
        return _placement(servers, policy, overhead, seed)

    def draw(self, result):
        return viz_cons.placement_heatmap(result)     # before/after numbers: the table

    def describe(self, result):
        return _metrics_table(result)


class FailureLab(WidgetApp):
    """Fail one host: what goes down, what restarts where, what is lost."""

    title = "A host fails (Ausfall eines Serverrechners)"

    def __init__(self, servers: int = 40, policy: str = "ffd", failed_host: int = 0,
                 anti_affinity: bool = False, spares: int = 0, restart: bool = False,
                 seed: int = 0):
        check_int("servers", servers, 2, 120)
        check_choice("policy", policy, cons.POLICIES)
        check_int("failed_host", failed_host, 0, 30)
        check_bool("anti_affinity", anti_affinity)
        check_int("spares", spares, 0, 3)
        check_bool("restart", restart)
        check_int("seed", seed, 0, 50)
        super().__init__({
            "servers": W.IntSlider(value=servers, min=2, max=120, description="servers"),
            "policy": W.Dropdown(options=list(cons.POLICIES), value=policy,
                                 description="policy"),
            "failed_host": W.IntSlider(value=failed_host, min=0, max=30,
                                       description="failed host"),
            "anti_affinity": W.Checkbox(value=anti_affinity, description="anti-affinity"),
            "spares": W.IntSlider(value=spares, min=0, max=3, description="spare hosts"),
            "restart": W.Checkbox(value=restart, description="restart elsewhere (HA)"),
            "seed": W.IntSlider(value=seed, min=0, max=50, description="seed"),
        })

    def compute(self, servers, policy, failed_host, anti_affinity, spares, restart, seed):
        p = _placement(servers, policy, 0.07, seed, anti_affinity)
        if failed_host >= p.hosts_after:
            raise ValueError(f"failed_host must be < {p.hosts_after} "
                             f"(this placement uses {p.hosts_after} hosts)")
        impact = av.host_failure(p, failed_host, spares=spares, restart=restart)
        return p, impact, _expected(p, spares, restart)

    def draw(self, result):
        return viz_cons.host_map(result[0], result[1])

    def describe(self, result):
        p, impact, r = result
        out = ", ".join(impact.services_out) or "none"
        return (f"<p>{len(impact.vms_down)} VMs down, {len(impact.restarted)} restarted, "
                f"{len(impact.lost)} lost; services with no replica left: {out}.</p>"
                f"<p>Averaged over every host failing once: {r.vms_down:.1f} VMs down, "
                f"<b>{r.vms_lost:.1f} VMs lost</b>, {r.services_out:.1f} services out "
                f"per failure (before consolidation: 1 server per failure).</p>")


def consolidation_lab(servers: int = 40, policy: str = "ffd", overhead: float = 0.07,
                      seed: int = 0) -> ConsolidationLab:
    """The consolidation app (notebook 04)."""
    return ConsolidationLab(servers, policy, overhead, seed)


def failure_lab(servers: int = 40, policy: str = "ffd", failed_host: int = 0,
                anti_affinity: bool = False, spares: int = 0, restart: bool = False,
                seed: int = 0) -> FailureLab:
    """The host-failure app (notebook 04)."""
    return FailureLab(servers, policy, failed_host, anti_affinity, spares, restart, seed)


APPS = {"consolidation_lab": consolidation_lab, "failure_lab": failure_lab}
