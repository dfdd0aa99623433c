"""Figures for consolidation and availability.

Examples
--------
>>> from virtlab.consolidation import consolidate, make_servers
>>> from virtlab.availability import compare_measures, host_failure
>>> from virtlab.viz import consolidation as vc
>>> p = consolidate(make_servers(12))
>>> len(vc.placement_figure(p).axes)      # heat map, before/after bars
2
>>> fig = vc.host_map(p, host_failure(p, 0, spares=1, restart=True))
>>> fig = vc.availability_figure(compare_measures(make_servers(12)))
>>> len(vc.placement_heatmap(p).axes)
1
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.collections import PolyCollection

from ..availability import AvailabilityReport, FailureImpact
from ..consolidation import Placement
from ..errors import check_choice, check_str, check_type
from ..i18n import N_, _
from .base import PALETTE, color_for, new_figure
from .datacenter import fixed_grid, set_title

__all__ = ["availability_figure", "host_map", "placement_figure",
           "placement_heatmap"]

_BEFORE, _AFTER = "#999999", PALETTE[0]
_COLOR_BY = {"service": N_("service"), "tenant": N_("tenant")}


def heat_axes(ax, placement: Placement) -> None:
    """Hosts x hours, coloured by CPU utilization, on ``ax``."""
    p = placement
    util = [[c / p.host.cpus for c in h.cpu] for h in p.hosts]
    ax.imshow(util, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xlabel(_("hour of day (colour: CPU utilization, dark 0 % → yellow 100 %)"),
                  fontsize=8)
    ax.set_ylabel(_("host"))
    ax.set_xticks(range(0, 24, 4))
    if len(p.hosts) <= 12:
        ax.set_yticks(range(len(p.hosts)))
    title = _("{policy}: {servers} servers on {hosts} hosts, {overhead} overhead\n"
              "CPU utilization {before} before → {after} after")
    set_title(ax, title.format(policy=p.policy, servers=len(p.servers), hosts=p.hosts_after,
                               overhead=f"{p.overhead:.0%}", before=f"{p.cpu_util_before:.0%}",
                               after=f"{p.cpu_util_after:.0%}"), fontsize=9)


def placement_heatmap(placement: Placement):
    """Only the heat map (one axes: the widget's fast redraw; numbers go in its table)."""
    check_type("placement", placement, Placement)
    fig = new_figure(6.5, 3.2)
    heat_axes(fig.add_subplot(fixed_grid(fig, left=0.09, bottom=0.15, top=0.85)[0]), placement)
    return fig


def placement_figure(placement: Placement):
    """Host CPU load over the day (heat map) plus machines and energy before/after."""
    check_type("placement", placement, Placement)
    p = placement
    fig = new_figure(8.5, 3.4)
    grid = fixed_grid(fig, 1, 2, width_ratios=[2.2, 1], left=0.07, bottom=0.14, top=0.83,
                      wspace=0.25)
    heat_axes(fig.add_subplot(grid[0]), p)
    bx = fig.add_subplot(grid[1])
    labels = [_("machines"), _("kWh/day*")]
    before = [p.hosts_before, p.energy_before_kwh]
    after = [p.hosts_after, p.energy_after_kwh]
    bx.barh([0.2, 1.2], [100, 100], height=0.4, color=_BEFORE, label=_("before"))
    share = [100 * a / b if b else 0.0 for a, b in zip(after, before)]
    bx.barh([-0.2, 0.8], share, height=0.4, color=_AFTER, label=_("after"))
    for y, b_, a_, sh in zip((0, 1), before, after, share):
        bx.text(101, y + 0.2, f"{b_:,.0f}", va="center", fontsize=7)
        bx.text(sh + 1, y - 0.2, f"{a_:,.0f}", va="center", fontsize=7)
    bx.set_yticks([0, 1], labels, fontsize=8)
    bx.set_xlim(0, 125)
    bx.invert_yaxis()
    bx.set_xlabel(_("% of before  (*incl. cooling, illustrative)"), fontsize=7)
    set_title(bx, _("before vs after"), fontsize=9)
    bx.legend(fontsize=7, loc="lower right")
    bx.tick_params(labelsize=7)
    return fig


def host_map(placement: Placement, impact: FailureImpact | None = None, *,
             title: str | None = None, color_by: str = "service"):
    """Each host as a stack of its VMs at the host's busiest hour; a failure marked.

    Bar heights are each VM's CPU demand (overhead included) in the hour when
    that host's total is highest, so a stack never exceeds the capacity line.
    VMs of the failed host are hatched; restarted ones reappear (dotted) on
    the host or spare that took them; lost ones stay red.  ``color_by`` is
    ``"service"`` (replicas share a colour) or ``"tenant"`` (name prefix
    before ``":"``); ``title`` replaces the default title.
    """
    check_type("placement", placement, Placement)
    check_choice("color_by", color_by, ("service", "tenant"))

    def key(vm):
        return vm.split(":")[0] if color_by == "tenant" else vm.rsplit("-", 1)[0]
    p = placement
    f = 1 + p.overhead
    cpu = {s.name: [c * f for c in s.cpu] for s in p.servers}
    columns = [(f"host {h.index}", list(h.vms)) for h in p.hosts]
    moved: dict[str, list[str]] = {}
    lost: set[str] = set()
    failed = None
    if impact is not None:
        check_type("impact", impact, FailureImpact)
        failed = impact.failed_host
        lost = set(impact.lost)
        for name, where in impact.restarted:
            moved.setdefault(where, []).append(name)
        spares = sorted({w for _, w in impact.restarted if w.startswith("spare")})
        columns += [(s, []) for s in spares]
    fig = new_figure(8.5, 3.2)
    ax = fig.add_subplot(fixed_grid(fig, left=0.07, bottom=0.16 if len(columns) <= 10
                                    else 0.24, top=0.9)[0])
    # one bar() call per style (a call per VM costs ~1 ms each)
    groups: dict[str, tuple[list, list, list, list]] = {}

    def put(style, x, h, y, color):
        xs, hs, ys, cs = groups.setdefault(style, ([], [], [], []))
        xs.append(x)
        hs.append(h)
        ys.append(y)
        cs.append(color)

    for x, (label, vms) in enumerate(columns):
        is_failed = failed is not None and label == f"host {failed}"
        extra = [] if is_failed else moved.get(label, [])
        every = vms + extra
        if not every:
            continue
        hour = max(range(24), key=lambda h: sum(cpu[v][h] for v in every))
        y = 0.0
        for vm in vms:
            put("failed" if is_failed else "normal", x, cpu[vm][hour], y,
                "#d62728" if vm in lost else color_for(key(vm)))
            y += cpu[vm][hour]
        for vm in extra:
            put("moved", x, cpu[vm][hour], y, "white")
            y += cpu[vm][hour]
    styles = {"normal": {"edgecolors": "white", "linewidths": 0.5},
              "failed": {"edgecolors": "white", "linewidths": 0.5, "hatch": "///",
                         "alpha": 0.35},
              "moved": {"edgecolors": "#d62728", "linewidths": 1.2, "linestyles": ":"}}
    for style, (xs, hs, ys, cs) in groups.items():
        # one collection per style: far cheaper than a Rectangle patch per VM
        verts = [[(x - 0.4, y), (x + 0.4, y), (x + 0.4, y + h), (x - 0.4, y + h)]
                 for x, h, y in zip(xs, hs, ys)]
        ax.add_collection(PolyCollection(verts, facecolors=cs, **styles[style]))
    ax.set_xlim(-0.6, len(columns) - 0.4)
    ax.axhline(p.host.cpus, color="black", ls="--", lw=0.8)
    ax.text(-0.45, p.host.cpus, _("capacity"), fontsize=7, va="bottom", ha="left")
    ax.set_xticks(range(len(columns)), [c[0] for c in columns], fontsize=7,
                  rotation=45 if len(columns) > 10 else 0)
    ax.set_ylabel(_("cores at the host's busiest hour"))
    ax.set_ylim(0, p.host.cpus * 1.12)
    if title is not None:
        check_str("title", title, nonempty=False)
    elif impact is None:
        title = _("VMs per host (colour: {color_by})").format(color_by=_(_COLOR_BY[color_by]))
    else:
        title = _("host {failed} fails: {down} VMs down, {restarted} restarted (dotted), "
                  "{lost} lost (red)").format(failed=failed, down=len(impact.vms_down),
                                              restarted=len(impact.restarted),
                                              lost=len(impact.lost))
    set_title(ax, title, fontsize=9)
    return fig


def availability_figure(reports: Sequence[AvailabilityReport]):
    """Expected VMs down and lost per host failure, one bar pair per measure."""
    reports = list(reports)
    for i, r in enumerate(reports):
        check_type(f"reports[{i}]", r, AvailabilityReport)
    fig = new_figure(6.5, 3.0)
    ax = fig.add_subplot(fixed_grid(fig, left=0.1, bottom=0.12, top=0.9)[0])
    x = range(len(reports))
    ax.bar([i - 0.2 for i in x], [r.vms_down for r in reports], width=0.4, color="#bbbbbb",
           label=_("VMs down at the failure"))
    ax.bar([i + 0.2 for i in x], [r.vms_lost for r in reports], width=0.4, color=PALETTE[5],
           label=_("VMs still down (lost)"))
    for i, r in enumerate(reports):
        ax.text(i + 0.2, r.vms_lost, f"{r.vms_lost:.1f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(list(x), [r.label for r in reports], fontsize=8)
    ax.set_ylabel(_("expected per host failure"))
    set_title(ax, _("What one host failure costs"), fontsize=9)
    ax.legend(fontsize=7)
    return fig
