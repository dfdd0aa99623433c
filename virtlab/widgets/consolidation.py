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
from ..i18n import N_, _
from ..viz import consolidation as viz_cons
from .base import WidgetApp

__all__ = ["ConsolidationLab", "FailureLab", "consolidation_lab", "failure_lab",
           "policy_options"]


@lru_cache(maxsize=32)
def _placement(servers: int, policy: str, overhead: float, seed: int,
               anti_affinity: bool = False) -> cons.Placement:
    # Results are immutable: moving the failed-host slider reuses the placement.
    return cons.consolidate(cons.make_servers(servers, seed=seed), policy, overhead=overhead,
                            anti_affinity=anti_affinity)


@lru_cache(maxsize=32)
def _expected(placement: cons.Placement, spares: int, restart: bool) -> av.AvailabilityReport:
    return av.expected_impact(placement, spares=spares, restart=restart)


#: labels of the placement policies that are words (the values stay the model's)
_POLICY_LABELS = {"complementary": N_("complementary")}


def policy_options() -> list[tuple[str, str]]:
    """The placement policies as dropdown options: (label in the current language, value)."""
    return [(_(_POLICY_LABELS[p]) if p in _POLICY_LABELS else p, p) for p in cons.POLICIES]


def _metrics_table(p: cons.Placement) -> str:
    rows = [(_("machines"), p.hosts_before, p.hosts_after),
            (_("mean CPU utilization"), f"{p.cpu_util_before:.0%}", f"{p.cpu_util_after:.0%}"),
            (_("mean memory utilization"), f"{p.mem_util_before:.0%}",
             f"{p.mem_util_after:.0%}"),
            (_("energy per day incl. cooling"), f"{p.energy_before_kwh:,.0f} kWh",
             f"{p.energy_after_kwh:,.0f} kWh"),
            (_("VMs per host"), 1, f"{p.vms_per_host:.1f}")]
    body = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in rows)
    before, after = _("before (one machine each)"), _("after")
    note = _("Watts, cooling factor and server sizes are illustrative.")
    return (f"<table><tr><th></th><th>{before}</th><th>{after}</th></tr>{body}</table>"
            f"<p><i>{note}</i></p>")


class ConsolidationLab(WidgetApp):
    """Number of servers, policy, overhead → hosts, utilization, energy."""

    title = N_("Server consolidation (Serverkonsolidierung)")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, servers: int = 40, policy: str = "ffd", overhead: float = 0.07,
                 seed: int = 0):
        check_int("servers", servers, 2, 200)
        check_choice("policy", policy, cons.POLICIES)
        check_number("overhead", overhead, 0.0, 0.3)
        check_int("seed", seed, 0, 50)
        super().__init__({
            "servers": W.IntSlider(value=servers, min=2, max=200, description=_("servers")),
            "policy": W.Dropdown(options=policy_options(), value=policy,
                                 description=_("policy")),
            "overhead": W.FloatSlider(value=overhead, min=0.0, max=0.3, step=0.01,
                                      description=_("overhead"), readout_format=".0%"),
            "seed": W.IntSlider(value=seed, min=0, max=50, description=_("seed")),
        })

    def compute(self, servers, policy, overhead, seed):
        return _placement(servers, policy, overhead, seed)

    def draw(self, result):
        # a scene, written as SVG without matplotlib (issue 21); before/after
        # numbers: the table
        return viz_cons.placement_heatmap_scene(result)

    def describe(self, result):
        return _metrics_table(result)


class FailureLab(WidgetApp):
    """Fail one host: what goes down, what restarts where, what is lost."""

    title = N_("A host fails (Ausfall eines Serverrechners)")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

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
            "servers": W.IntSlider(value=servers, min=2, max=120, description=_("servers")),
            "policy": W.Dropdown(options=policy_options(), value=policy,
                                 description=_("policy")),
            "failed_host": W.IntSlider(value=failed_host, min=0, max=30,
                                       description=_("failed host")),
            "anti_affinity": W.Checkbox(value=anti_affinity, description=_("anti-affinity")),
            "spares": W.IntSlider(value=spares, min=0, max=3, description=_("spare hosts")),
            "restart": W.Checkbox(value=restart, description=_("restart elsewhere (HA)")),
            "seed": W.IntSlider(value=seed, min=0, max=50, description=_("seed")),
        })

    def compute(self, servers, policy, failed_host, anti_affinity, spares, restart, seed):
        p = _placement(servers, policy, 0.07, seed, anti_affinity)
        if failed_host >= p.hosts_after:
            raise ValueError(f"failed_host must be < {p.hosts_after} "
                             f"(this placement uses {p.hosts_after} hosts)")
        impact = av.host_failure(p, failed_host, spares=spares, restart=restart)
        return p, impact, _expected(p, spares, restart)

    def draw(self, result):
        return viz_cons.host_map_scene(result[0], result[1])   # a scene (issue 21)

    def describe(self, result):
        p, impact, r = result
        out = ", ".join(impact.services_out) or _("none")
        now = _("{down} VMs down, {restarted} restarted, {lost} lost; services with no "
                "replica left: {out}.").format(down=len(impact.vms_down),
                                               restarted=len(impact.restarted),
                                               lost=len(impact.lost), out=out)
        mean = _("Averaged over every host failing once: {down} VMs down, <b>{lost} VMs "
                 "lost</b>, {out} services out per failure (before consolidation: 1 server "
                 "per failure).").format(down=f"{r.vms_down:.1f}", lost=f"{r.vms_lost:.1f}",
                                         out=f"{r.services_out:.1f}")
        return f"<p>{now}</p><p>{mean}</p>"


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
