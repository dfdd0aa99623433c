"""Figures for containers vs VMs: the two stacks and their costs.

Examples
--------
>>> from virtlab.containers import compare
>>> from virtlab.viz import containers as vc
>>> fig = vc.comparison_figure(compare(instances=4))
>>> len(fig.axes)
2
>>> fig = vc.attack_surface_figure()
>>> len(vc.stacks_figure(3).axes), len(vc.density_figure(compare()).axes)
(1, 1)
"""

from __future__ import annotations

from matplotlib.patches import Rectangle

from ..containers import ATTACK_SURFACE, Comparison
from ..errors import check_number, check_sequence, check_type
from ..i18n import _
from .base import PALETTE, new_figure
from .datacenter import fixed_grid, plain_log, set_title

__all__ = ["attack_surface_figure", "comparison_figure", "density_figure",
           "stacks_figure"]

_HW, _HOST, _GUEST, _APP = "#999999", PALETTE[0], PALETTE[4], PALETTE[1]


def _box(ax, x, y, w, h, color, text, fontsize=7, textcolor="white"):
    ax.add_patch(Rectangle((x, y), w, h, facecolor=color, edgecolor="white", lw=1.5))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize,
            color=textcolor)


def stacks_axes(ax, instances: int) -> None:
    """The lecture's picture: containers on one host OS vs VMs with guest OSes."""
    shown = max(1, min(instances, 4))
    w = 1.0 / shown
    for side, x0 in (("container", 0.0), ("vm", 1.15)):
        _box(ax, x0, 0, 1, 0.18, _HW, _("hardware"))
        if side == "container":
            _box(ax, x0, 0.18, 1, 0.2, _HOST, _("host OS (one kernel)"))
            for i in range(shown):
                _box(ax, x0 + i * w, 0.38, w, 0.42, _APP, _("app"), textcolor="black")
            ax.text(x0 + 0.5, 0.82, _("each: own namespaces + cgroup limits"), ha="center",
                    fontsize=6)
        else:
            _box(ax, x0, 0.18, 1, 0.2, _HOST, _("hypervisor"))
            for i in range(shown):
                _box(ax, x0 + i * w, 0.38, w, 0.22, _GUEST, _("guest\nOS"), fontsize=6,
                     textcolor="black")
                _box(ax, x0 + i * w, 0.6, w, 0.2, _APP, _("app"), textcolor="black")
        ax.text(x0 + 0.5, 0.9, _("containers") if side == "container" else _("virtual machines"),
                ha="center", fontsize=9, fontweight="bold")
    ax.set_xlim(-0.02, 2.17)
    ax.set_ylim(0, 1)
    ax.set_axis_off()


def stacks_figure(instances: int):
    """Only the two stacks (the widget caches this picture per shown instance count)."""
    fig = new_figure(5.5, 2.8)
    stacks_axes(fig.add_subplot(fixed_grid(fig, left=0.01, right=0.99, bottom=0.02,
                                           top=0.98)[0]), instances)
    return fig


def _density_axes(ax, comparison: Comparison) -> None:
    c, v = comparison.container, comparison.vm
    ax.bar([_("containers"), "VMs"], [c.density, v.density], color=[PALETTE[1], PALETTE[4]])
    for i, x in enumerate([c.density, v.density]):
        ax.text(i, x, str(x), ha="center", va="bottom", fontsize=8)
    title = _("instances that fit in {gib} GiB\n({container} vs {vm} MiB each)").format(
        gib=f"{comparison.host_memory_gb:g}", container=f"{c.per_instance_mb:.0f}",
        vm=f"{v.per_instance_mb:.0f}")
    set_title(ax, title, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.margins(y=0.2)


def density_figure(comparison: Comparison):
    """How many instances fit on the host, containers vs VMs (one small axes)."""
    check_type("comparison", comparison, Comparison)
    fig = new_figure(3.2, 2.8)
    _density_axes(fig.add_subplot(fixed_grid(fig, left=0.2, right=0.96, bottom=0.1,
                                             top=0.82)[0]), comparison)
    return fig


def comparison_figure(comparison: Comparison):
    """The two stacks plus how many instances fit on the host."""
    check_type("comparison", comparison, Comparison)
    fig = new_figure(8.5, 3.0)
    grid = fixed_grid(fig, 1, 2, width_ratios=[2.4, 1], left=0.01, bottom=0.1, top=0.8,
                      wspace=0.15)
    stacks_axes(fig.add_subplot(grid[0]), comparison.instances)
    _density_axes(fig.add_subplot(grid[1]), comparison)
    fig.suptitle(_("Illustrative costs (parameters, not measurements)"), fontsize=8)
    return fig


def attack_surface_figure(rows=None):
    """Footprints of hypervisors and host OSes (log scale), labelled by how sure they are.

    ``rows`` default to :data:`virtlab.containers.ATTACK_SURFACE`.  Sizes on
    disk (install or disk footprint) and memory in use are different
    quantities, so each gets its own panel and axis.

    Examples
    --------
    >>> fig = attack_surface_figure()
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['MB on disk (log scale)', 'MB of memory in use (log scale)']
    """
    rows = list(ATTACK_SURFACE if rows is None
                else check_sequence("rows", rows, tuple, min_len=1, max_len=100))
    if not rows:
        raise ValueError("rows must not be empty")
    for i, r in enumerate(rows):
        if len(r) != 5 or not all(isinstance(r[k], str) for k in (0, 2, 3, 4)):
            raise ValueError(f"rows[{i}] must be (name, MB, what, source, certainty)")
        check_number(f"rows[{i}] MB", r[1], minimum=0, strict_minimum=True, maximum=1e12)
    panels = [(_("on disk"), [r for r in rows if "memory" not in r[2]]),
              (_("of memory in use"), [r for r in rows if "memory" in r[2]])]
    panels = [(what, rs) for what, rs in panels if rs]
    fig = new_figure(8.5, 0.9 + 0.4 * len(rows) + 0.45 * len(panels))
    grid = fixed_grid(fig, len(panels), 1, left=0.33, right=0.97, bottom=0.12, top=0.9,
                      hspace=0.55, height_ratios=[len(rs) for _, rs in panels])
    top = max(float(r[1]) for r in rows)
    for k, (what, rs) in enumerate(panels):
        ax = fig.add_subplot(grid[k])
        names = [r[0] for r in rs]
        sizes = [float(r[1]) for r in rs]
        ax.barh(range(len(rs)), sizes,
                color=[PALETTE[2] if "ESXi" in n else "#888888" for n in names])
        for i, r in enumerate(rs):
            # the catalogue's measures and certainties are English msgids: shown translated
            ax.text(sizes[i] * 1.1, i, f"{r[1]:,} MB ({_(r[4])})", va="center", fontsize=6.5)
        ax.set_yticks(range(len(rs)), [f"{r[0]}\n{_(r[2])}" for r in rs], fontsize=6.5)
        ax.set_ylim(len(rs) - 0.5, -0.5)
        plain_log(ax, "x")
        ax.set_xlim(10, top * 60)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_xlabel(_("MB {what} (log scale)").format(what=what), fontsize=7.5, labelpad=1)

    fig.suptitle(_("Size of what a VM must trust (attack surface, roughly) — vendor claims "
                   "and single measurements, see sources"), fontsize=8, y=0.98)
    return fig
