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


from ..containers import ATTACK_SURFACE, Comparison
from ..errors import check_int, check_number, check_sequence, check_type
from ..i18n import _
from .base import PALETTE, new_figure, scalar_ticks
from .datacenter import fixed_grid, plain_log
from .scene import Panel, Scene

__all__ = ["attack_surface_figure", "comparison_figure", "comparison_scene", "density_figure",
           "density_scene", "stacks_figure", "stacks_scene"]

_HW, _HOST, _GUEST, _APP = "#999999", PALETTE[0], PALETTE[4], PALETTE[1]


def _box(ax: Panel, x, y, w, h, color, text, fontsize=7, textcolor="white"):
    ax.rect(x, y, w, h, fc=color, ec="white", lw=1.5)
    ax.text(x + w / 2, y + h / 2, text, size=fontsize, color=textcolor)


def _stacks_panel(scene: Scene, box, instances: int) -> Panel:
    """The lecture's picture: containers on one host OS vs VMs with guest OSes."""
    check_int("instances", instances)
    shown = max(1, min(instances, 4))
    w = 1.0 / shown
    ax = scene.panel(xlim=(-0.02, 2.17), ylim=(0, 1), box=box)
    for side, x0 in (("container", 0.0), ("vm", 1.15)):
        _box(ax, x0, 0, 1, 0.18, _HW, _("hardware"))
        if side == "container":
            _box(ax, x0, 0.18, 1, 0.2, _HOST, _("host OS (one kernel)"))
            for i in range(shown):
                _box(ax, x0 + i * w, 0.38, w, 0.42, _APP, _("app"), textcolor="black")
            ax.text(x0 + 0.5, 0.82, _("each: own namespaces + cgroup limits"), size=6,
                    va="baseline")
        else:
            _box(ax, x0, 0.18, 1, 0.2, _HOST, _("hypervisor"))
            for i in range(shown):
                _box(ax, x0 + i * w, 0.38, w, 0.22, _GUEST, _("guest\nOS"), fontsize=6,
                     textcolor="black")
                _box(ax, x0 + i * w, 0.6, w, 0.2, _APP, _("app"), textcolor="black")
        ax.text(x0 + 0.5, 0.9, _("containers") if side == "container" else _("virtual machines"),
                size=9, weight="bold", va="baseline")
    return ax


def stacks_figure(instances: int):
    """Only the two stacks (the widget caches this picture per shown instance count).

    Draws :func:`stacks_scene`.

    Examples
    --------
    >>> [t.get_text() for t in stacks_figure(2).axes[0].texts].count("app")
    4
    """
    return stacks_scene(instances).figure()


def stacks_scene(instances: int) -> Scene:
    """:func:`stacks_figure` as a :class:`~virtlab.viz.scene.Scene` (the same parameter).

    Examples
    --------
    >>> [item[6] for item in stacks_scene(9).items if item[0] == "text"].count("guest\\nOS")
    4
    """
    scene = Scene(5.5, 2.8)
    _stacks_panel(scene, (0.01, 0.02, 0.99, 0.98), instances)
    return scene


def _density_panel(scene: Scene, box, comparison: Comparison) -> Panel:
    c, v = comparison.container, comparison.vm
    densities = [c.density, v.density]
    top = max(densities)
    # matplotlib's limits for these bars: x 5 % beyond them, y from the bars' base
    # (0) to 20 % above the tallest (ax.margins(y=0.2)); no bar above 0: +-0.07
    ylim = (0.0, 1.2 * top) if top > 0 else (-0.07, 0.07)
    title = _("instances that fit in {gib} GiB\n({container} vs {vm} MiB each)").format(
        gib=f"{comparison.host_memory_gb:g}", container=f"{c.per_instance_mb:.0f}",
        vm=f"{v.per_instance_mb:.0f}")
    ax = scene.panel(xlim=(-0.49, 1.49), ylim=ylim, box=box, title=title, title_size=8)
    for i, (x, color) in enumerate(zip(densities, (PALETTE[1], PALETTE[4]))):
        ax.rect(i - 0.4, 0, 0.8, x, fc=color)
        ax.text(i, x, str(x), va="bottom", size=8)
    # y ticks where matplotlib's AutoLocator puts them: as many as fit, 2 label heights apart
    nbins = max(1, min(9, int(ax.size_points()[1] // (2 * 8))))
    ax.frame(xticks=[(0, _("containers")), (1, "VMs")],
             yticks=scalar_ticks(*ylim, nbins, steps=(1, 2, 2.5, 5, 10)), size=8,
             spines=("left", "bottom", "right", "top"))
    return ax


def density_figure(comparison: Comparison):
    """How many instances fit on the host, containers vs VMs (one small axes).

    Draws :func:`density_scene` (the widget shows that scene as SVG).

    Examples
    --------
    >>> from virtlab.containers import compare
    >>> sorted(p.get_height() for p in density_figure(compare()).axes[0].patches)
    [130.0, 311.0]
    """
    return density_scene(comparison).figure()


def density_scene(comparison: Comparison) -> Scene:
    """:func:`density_figure` as a :class:`~virtlab.viz.scene.Scene` (the same parameter).

    Examples
    --------
    >>> from virtlab.containers import compare
    >>> [item[7] for item in density_scene(compare()).items if item[0] == "rect"]   # heights
    [311.0, 130.0]
    """
    check_type("comparison", comparison, Comparison)
    scene = Scene(3.2, 2.8)
    _density_panel(scene, (0.2, 0.1, 0.96, 0.82), comparison)
    return scene


def comparison_figure(comparison: Comparison):
    """The two stacks plus how many instances fit on the host.

    Draws :func:`comparison_scene`: the stacks in the first Axes, the density
    bars in the second.
    """
    return comparison_scene(comparison).figure()


def comparison_scene(comparison: Comparison) -> Scene:
    """:func:`comparison_figure` as a :class:`~virtlab.viz.scene.Scene` (the same parameter).

    Examples
    --------
    >>> from virtlab.containers import compare
    >>> len(comparison_scene(compare()).panels)     # the stacks and the density bars
    2
    """
    check_type("comparison", comparison, Comparison)
    scene = Scene(8.5, 3.0)
    # a 1 x 2 grid, widths 2.4 : 1, as matplotlib's GridSpec(left=0.01, right=0.98,
    # wspace=0.15) places it: the gap is wspace times the mean column width
    left, right, wspace, ratios = 0.01, 0.98, 0.15, (2.4, 1.0)
    mean = (right - left) / (len(ratios) + wspace * (len(ratios) - 1))
    widths = [mean * len(ratios) * r / sum(ratios) for r in ratios]
    box = (left, 0.1, left + widths[0], 0.8)
    stacks = _stacks_panel(scene, box, comparison.instances)
    _density_panel(scene, (left + widths[0] + wspace * mean, 0.1, right, 0.8), comparison)
    # the figure's title, centred at the top (figure fraction 0.5, 0.98) like
    # fig.suptitle, placed through the stacks' panel: the figure keeps its two Axes
    stacks.text((0.5 - box[0]) / (box[2] - box[0]), (0.98 - box[1]) / (box[3] - box[1]),
                _("Illustrative costs (parameters, not measurements)"), size=8, va="top",
                coords="axes")
    return scene


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
