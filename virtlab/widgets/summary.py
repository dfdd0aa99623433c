"""App for notebook 14: a small multi-tenant cloud, run by an operator.

Several tenants' servers are consolidated with anti-affinity; one host is
taken out for maintenance and its VMs are moved away by live migration; the
operator's dashboard lists what the models report.

Examples
--------
>>> app = cloud_lab()
>>> p, report, m = app.result
>>> m.stuck, report.services_out
((), 0.0)
>>> app.controls["bandwidth_mbit"].value = 100
>>> app.result[2].evacuation.total_time_s > m.evacuation.total_time_s
True
"""

from __future__ import annotations

import html
from functools import lru_cache

import ipywidgets as W

from .. import availability as av
from .. import consolidation as cons
from .. import operations as ops
from ..errors import check_choice, check_int
from ..i18n import N_, _
from ..viz import consolidation as viz_cons
from ..viz.text import metric_text
from .base import WidgetApp
from .consolidation import policy_options

__all__ = ["CloudLab", "cloud_lab"]


@lru_cache(maxsize=16)
def _cloud(tenants: int, per_tenant: int, policy: str, seed: int) -> cons.Placement:
    # immutable results: moving the link or maintenance slider reuses the placement
    return cons.consolidate(cons.tenant_servers(tenants, per_tenant, seed=seed), policy,
                            anti_affinity=True)


@lru_cache(maxsize=32)
def _report(placement: cons.Placement, spares: int) -> av.AvailabilityReport:
    return av.expected_impact(placement, spares=spares, restart=True)


class CloudLab(WidgetApp):
    """Tenants, servers, link, maintenance host → placement, evacuation, dashboard."""

    title = N_("A small cloud: consolidation, live migration, operations")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, tenants: int = 3, per_tenant: int = 8, policy: str = "complementary",
                 maintenance_host: int = 0, bandwidth_mbit: int = 1000, spares: int = 1,
                 seed: int = 0):
        check_int("tenants", tenants, 1, 6)
        check_int("per_tenant", per_tenant, 2, 20)
        check_choice("policy", policy, cons.POLICIES)
        check_int("maintenance_host", maintenance_host, 0, 20)
        check_int("bandwidth_mbit", bandwidth_mbit, 100, 10000)
        check_int("spares", spares, 0, 2)
        check_int("seed", seed, 0, 50)
        super().__init__({
            "tenants": W.IntSlider(value=tenants, min=1, max=6, description=_("tenants")),
            "per_tenant": W.IntSlider(value=per_tenant, min=2, max=20,
                                      description=_("VMs/tenant")),
            "policy": W.Dropdown(options=policy_options(), value=policy,
                                 description=_("policy")),
            "maintenance_host": W.IntSlider(value=maintenance_host, min=0, max=20,
                                            description=_("maintain host")),
            "bandwidth_mbit": W.IntSlider(value=bandwidth_mbit, min=100, max=10000, step=100,
                                          description=_("link Mbit/s")),
            "spares": W.IntSlider(value=spares, min=0, max=2, description=_("spare hosts")),
            "seed": W.IntSlider(value=seed, min=0, max=50, description=_("seed")),
        })

    def compute(self, tenants, per_tenant, policy, maintenance_host, bandwidth_mbit, spares,
                seed):
        p = _cloud(tenants, per_tenant, policy, seed)
        if maintenance_host >= p.hosts_after:
            raise ValueError(f"maintenance_host must be < {p.hosts_after} "
                             f"(the cloud runs on {p.hosts_after} hosts)")
        report = _report(p, spares)
        m = ops.maintenance(p, maintenance_host, bandwidth_mbit, spares=spares)
        return p, report, m

    def draw(self, result):
        p, _report_, m = result
        moved = av.FailureImpact(m.host, p.hosts[m.host].vms, m.moves, m.stuck, ())
        return viz_cons.host_map_scene(         # a scene, SVG without matplotlib (issue 21)
            p, moved, color_by="tenant",
            title=_("maintenance on host {host}: {moved} VMs live-migrated (dotted) in {s} s, "
                    "{stuck} without room (red); colour = tenant").format(
                        host=m.host, moved=len(m.moves), s=f"{m.evacuation.total_time_s:.0f}",
                        stuck=len(m.stuck)))

    def describe(self, result):
        rows = "".join(f"<tr><td>{html.escape(m.area_label)}</td><td>{html.escape(m.metric)}</td>"
                       f"<td>{html.escape(metric_text(m))}</td></tr>"
                       for m in ops.dashboard(*result))
        head = "".join(f"<th>{h}</th>" for h in (_("area"), _("metric"), _("value")))
        note = _("Server sizes, watts and dirty rates are illustrative.")
        return f"<table><tr>{head}</tr>{rows}</table><p><i>{note}</i></p>"


def cloud_lab(tenants: int = 3, per_tenant: int = 8, policy: str = "complementary",
              maintenance_host: int = 0, bandwidth_mbit: int = 1000, spares: int = 1,
              seed: int = 0) -> CloudLab:
    """The multi-tenant cloud app (notebook 14)."""
    return CloudLab(tenants, per_tenant, policy, maintenance_host, bandwidth_mbit, spares, seed)


APPS = {"cloud_lab": cloud_lab}
