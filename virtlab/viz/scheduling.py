"""Figures for vCPU scheduling: Gantt charts, share bars, the vCPU → pCPU mapping.

Every function takes :class:`virtlab.scheduler.Trace` objects (or VM
descriptions) and returns a Figure built with :func:`virtlab.viz.new_figure`;
:func:`lab_scene` returns the lab widget's picture as a
:class:`~virtlab.viz.scene.Scene` (:func:`lab_figure` draws it with matplotlib).
VM colours follow the VM's position in the trace (``PALETTE[i]``), so the
same VM has the same colour in every panel.

Examples
--------
>>> from virtlab.scheduler import CreditScheduler, VM, simulate
>>> t = simulate(CreditScheduler(), [VM("a"), VM("b")], 1, 100)
>>> fig = gantt(t)
>>> fig.axes[0].get_ylabel()
'pCPU'
"""

from __future__ import annotations


from matplotlib.collections import PolyCollection
from matplotlib.patches import FancyBboxPatch, Patch
from matplotlib.ticker import FixedLocator, MaxNLocator

from ..errors import check_number, check_str, check_type
from ..i18n import _
from ..scheduler.base import VM
from ..scheduler.trace import Trace
from .base import PALETTE, new_figure, nice_ticks
from .scene import Scene

__all__ = ["gantt", "share_bars", "lab_figure", "lab_scene", "mapping_figure",
           "cosched_figure", "latency_figure", "vm_colors"]

_RESERVED = "#bbbbbb"


def _trace_type():
    return Trace


def vm_colors(trace) -> dict[str, str]:
    """``{vm name: colour}`` by position in the trace.

    Examples
    --------
    >>> from virtlab.scheduler import CreditScheduler, VM, simulate
    >>> vm_colors(simulate(CreditScheduler(), [VM("x")], 1, 1))
    {'x': '#0072B2'}
    """
    check_type("trace", trace, _trace_type())
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(trace.vm_names)}


def _window(trace, start_ms, end_ms):
    end_default = trace.duration_us / 1000
    start = 0.0 if start_ms is None else check_number("start_ms", start_ms, minimum=0.0)
    end = end_default if end_ms is None else check_number("end_ms", end_ms, minimum=0.0)
    end = min(end, end_default)
    if end <= start:
        raise ValueError(f"end_ms must be > start_ms (and inside the run), got "
                         f"start_ms={start}, end_ms={end}")
    return start, end


def _rects(spans, y0, h):
    """Rectangles ``(x, width)`` at height ``[y0, y0 + h]`` as polygon vertices."""
    return [[(x, y0), (x, y0 + h), (x + w, y0 + h), (x + w, y0)] for x, w in spans]


def _gantt_spans(trace, start, end):
    """What a Gantt chart of ``[start, end]`` ms shows, in ms.

    Returns the run intervals ``(vm, pcpu, vcpu, a, b)`` and the pCPUs held
    idle for a strict co-scheduling gang ``(pcpu, a, b)``, both clipped to the
    window.  One place for it: the static chart (:func:`gantt`) and the lab's
    scene (:func:`lab_scene`) draw these.

    Examples
    --------
    >>> from virtlab.scheduler import CreditScheduler, VM, simulate
    >>> bars, held = _gantt_spans(simulate(CreditScheduler(), [VM("a")], 1, 50), 10.0, 20.0)
    >>> [(vm, a, b) for vm, _p, _k, a, b in bars], held
    ([('a', 10.0, 20.0)], [])
    """
    s_us, e_us = start * 1000, end * 1000
    bars = [(iv.vm, iv.pcpu, iv.vcpu, max(iv.start, s_us) / 1000, min(iv.end, e_us) / 1000)
            for iv in trace.intervals if iv.end > s_us and iv.start < e_us]
    held = [(p, max(s, s_us) / 1000, min(e, e_us) / 1000) for p, s, e, _ in trace.reservations
            if e > s_us and s < e_us]
    return bars, held


def _draw_gantt(ax, trace, start, end, legend=True, title=None):
    # All bars go into one collection (one artist): one patch or one
    # broken_barh per (pCPU, VM) made redraws noticeably slower.
    colors = vm_colors(trace)
    bars, held = _gantt_spans(trace, start, end)
    if bars:
        ax.add_collection(PolyCollection(
            [v for _vm, p, _k, a, b in bars for v in _rects([(a, b - a)], p - 0.4, 0.8)],
            facecolors=[colors[vm] for vm, *_ in bars], edgecolors="white", linewidths=0.3))
    if held:
        ax.add_collection(PolyCollection(
            [v for p, a, b in held for v in _rects([(a, b - a)], p - 0.4, 0.8)],
            facecolors="white", edgecolors=_RESERVED, hatch="///", linewidths=0.5))
    # label each bar with the vCPU index when there is room
    span = end - start
    for vm, p, k, a, b in bars:
        if (b - a) > span / 25 and trace.vms[trace.vm_names.index(vm)].vcpus > 1:
            ax.text((a + b) / 2, p, str(k), ha="center", va="center",
                    fontsize=8, fontweight="bold", color="white")
    ax.set_xlim(start, end)
    ax.set_ylim(trace.pcpus - 0.5, -0.5)
    # few ticks: every tick is four artists
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(FixedLocator(range(trace.pcpus)))
    ax.set_yticklabels([str(p) for p in range(trace.pcpus)], fontsize=7)
    ax.set_ylabel("pCPU", fontsize=7)
    ax.set_xlabel(_("time (ms)"), fontsize=7, labelpad=1)
    ax.tick_params(labelsize=7, length=2.5, pad=2)
    if title:        # an explicit y: no measuring of tick labels to place the title
        ax.set_title(title, fontsize=8, y=1.0, pad=4)
    if legend:
        handles = [Patch(color=c, label=n) for n, c in colors.items()]
        if held:
            handles.append(Patch(facecolor="white", edgecolor=_RESERVED, hatch="///",
                                 label=_("held for gang")))
        ax.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  frameon=False)


def gantt(trace, start_ms: float | None = None, end_ms: float | None = 300.0):
    """Gantt chart: pCPUs × time, bars coloured by VM (vCPU number inside).

    Hatched white bars are pCPUs held idle for a strict co-scheduling gang.

    Parameters
    ----------
    trace : Trace
    start_ms, end_ms : float
        Time window (default the first 300 ms).

    Examples
    --------
    >>> from virtlab.scheduler import CreditScheduler, VM, simulate
    >>> t = simulate(CreditScheduler(), [VM("a"), VM("b")], 2, 50)
    >>> [float(x) for x in gantt(t, end_ms=50).axes[0].get_xlim()]
    [0.0, 50.0]
    """
    check_type("trace", trace, _trace_type())
    start, end = _window(trace, start_ms, end_ms)
    fig = new_figure(7, 0.6 + 0.35 * max(2, trace.pcpus))
    _draw_gantt(fig.add_subplot(), trace, start, end)
    return fig


def _draw_shares(ax, trace, entitled=None):
    colors = vm_colors(trace)
    names = list(trace.vm_names)
    shares = [trace.share(n) for n in names]
    y = range(len(names))
    ax.barh(y, shares, color=[colors[n] for n in names])
    if entitled:
        for i, n in enumerate(names):
            if n in entitled:
                ax.plot([entitled[n]] * 2, [i - 0.45, i + 0.45], color="black", lw=1.2)
    for i, s in enumerate(shares):
        ax.text(s, i, f" {s:.2f}", va="center", fontsize=7)
    ax.set_xlim(0, max(1.0, max(shares) * 1.25))
    ax.set_yticks(list(y))
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(_("share of one pCPU"), fontsize=7, labelpad=1)
    ax.xaxis.set_major_locator(MaxNLocator(3))
    ax.tick_params(labelsize=7, length=2.5, pad=2)


def share_bars(trace, entitled: dict | None = None):
    """Horizontal bars: each VM's share of one pCPU (black tick = ``entitled``).

    Examples
    --------
    >>> from virtlab.scheduler import CreditScheduler, VM, simulate
    >>> t = simulate(CreditScheduler(), [VM("a"), VM("b", weight=512)], 1, 300)
    >>> len(share_bars(t, entitled={"a": 1/3, "b": 2/3}).axes)
    1
    """
    check_type("trace", trace, _trace_type())
    if entitled is not None:
        check_type("entitled", entitled, dict)
    fig = new_figure(4, 0.8 + 0.3 * len(trace.vms))
    _draw_shares(fig.add_subplot(), trace, entitled)
    return fig


def lab_figure(trace, window_ms: float = 150.0):
    """Gantt chart of the first ``window_ms`` plus share bars (the lab widget's picture).

    The figure draws :func:`lab_scene` (the widget shows that scene as SVG).

    Examples
    --------
    >>> from virtlab.scheduler import CreditScheduler, VM, simulate
    >>> fig = lab_figure(simulate(CreditScheduler(), [VM("a")], 1, 200))
    >>> [t.get_text() for t in fig.axes[1].texts]      # the share bars' panel
    [' 1.00', 'a', 'share of one pCPU']
    """
    return lab_scene(trace, window_ms).figure()


#: The lab picture's fixed layout (figure fractions): margins and the two cells of
#: a 1 x 2 grid, the timeline 3.2 times as wide as the share bars.
_LAB_MARGINS = {"left": 0.06, "right": 0.98, "wspace": 0.18, "ratios": (3.2, 1.0)}
#: Points: title above the timeline, axis labels beside it, the bars' label below them
#: (the matplotlib figure's title pad, label pads and offsets).
_TITLE_PAD, _YLABEL_PAD, _XLABEL_PAD, _SHARES_LABEL_PAD = 4.0, 11.0, 13.5, 5.0
#: matplotlib's "///" hatch: lines rising to the right, x + y = 8k points apart.
_HATCH_STEP = 8.0


def _lab_boxes(height: float) -> tuple[tuple, tuple]:
    """The boxes ``(left, bottom, right, top)`` of the timeline and the share bars.

    The cells of matplotlib's ``GridSpec(1, 2, width_ratios=(3.2, 1), wspace=0.18)``
    within the margins (0.5 in below, 0.3 in above a ``height``-inch picture).

    Examples
    --------
    >>> [round(v, 4) for v in _lab_boxes(2.0)[1]]
    [0.779, 0.25, 0.98, 0.85]
    """
    m = _LAB_MARGINS
    bottom, top = 0.5 / height, 1 - 0.3 / height
    cell = (m["right"] - m["left"]) / (2 + m["wspace"])      # the mean cell width
    widths = [r * 2 * cell / sum(m["ratios"]) for r in m["ratios"]]
    split = m["left"] + widths[0]
    return ((m["left"], bottom, split, top),
            (split + m["wspace"] * cell, bottom, split + m["wspace"] * cell + widths[1], top))


def lab_scene(trace, window_ms: float = 150.0) -> Scene:
    """:func:`lab_figure` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    Left, one row per pCPU: a bar per run interval in the first ``window_ms``,
    coloured by VM, and hatched white bars for pCPUs held idle for a strict
    co-scheduling gang; right, each VM's share of one pCPU.

    Examples
    --------
    >>> from virtlab.scheduler import CreditScheduler, VM, simulate
    >>> t = simulate(CreditScheduler(), [VM("a"), VM("b")], 1, 200)
    >>> scene = lab_scene(t, window_ms=100)
    >>> scene.texts()[-5:]            # the share bars: value and VM per row, the label
    [' 0.55', 'a', ' 0.45', 'b', 'share of one pCPU']
    """
    check_type("trace", trace, _trace_type())
    window = check_number("window_ms", window_ms, minimum=1.0)
    start, end = _window(trace, 0.0, window)
    height = 0.9 + 0.32 * max(3, trace.pcpus)
    scene = Scene(7.5, height)
    timeline_box, shares_box = _lab_boxes(height)
    _gantt_panel(scene, timeline_box, trace, start, end,
                 _("{scheduler}: first {ms} ms").format(scheduler=trace.scheduler,
                                                        ms=f"{end - start:g}"))
    _shares_panel(scene, shares_box, trace)
    return scene


def _gantt_panel(scene, box, trace, start, end, title):
    """The lab's timeline: pCPUs x time, a bar per run interval, ticks and labels."""
    colors = vm_colors(trace)
    bars, held = _gantt_spans(trace, start, end)
    ax = scene.panel(xlim=(start, end), ylim=(trace.pcpus - 0.5, -0.5), box=box)
    # One polygon per VM and row holds all its bars: each bar's outline, the
    # bars joined along their common lower edge.  The joins enclose no area and
    # their white edge lies on the other bars' white edges or on the white
    # background, so it is the picture of one box per bar, at a fraction of the
    # cost (an SEDF window has hundreds of bars).  VM by VM, in order of first
    # appearance, as the matplotlib figure drew one path per VM.
    outlines: dict[str, dict[int, tuple[list, list]]] = {}
    for vm, p, _k, a, b in bars:
        xs, ys = outlines.setdefault(vm, {}).setdefault(p, ([], []))
        xs += [a, a, b, b]
        ys += [p + 0.4, p - 0.4, p - 0.4, p + 0.4]
    for vm, rows in outlines.items():
        for xs, ys in rows.values():
            ax.polygon(xs, ys, fc=colors[vm], ec="white", lw=0.3)
    for p, a, b in held:
        ax.rect(a, p - 0.4, b - a, 0.8, fc="white", ec=_RESERVED, lw=0.5)
        # drawn with the box, before the spines (as a patch's hatch)
        ax.hatch(a, p - 0.4, b - a, 0.8, spacing=_HATCH_STEP, color=_RESERVED, zorder=1)
    locs, labels = nice_ticks(start, end, n=5)
    ax.frame(xticks=list(zip(locs, labels)), size=7, length=2.5, pad=2.0,
             spines=("left", "bottom", "right", "top"))
    for p in range(trace.pcpus):          # row names where tick labels would be
        ax.text(-0.012, p, str(p), size=7, ha="right", coords="yaxis")
    ax.text(0, 0.5, "pCPU", size=7, rotation=90, ha="right", coords="axes",
            offset=(-_YLABEL_PAD, 0))
    ax.text(0.5, 0, _("time (ms)"), size=7, va="top", coords="axes",
            offset=(0, -_XLABEL_PAD))
    ax.text(0.5, 1, title, size=8, va="baseline", coords="axes", offset=(0, _TITLE_PAD))


def _shares_panel(scene, box, trace):
    """The lab's share bars: a bar per VM as long as its share of one pCPU."""
    colors = vm_colors(trace)
    names = list(trace.vm_names)
    shares = [trace.share(n) for n in names]
    right = max(1.0, max(shares) * 1.25)
    p = scene.panel(xlim=(0, right), ylim=(len(names) - 0.5, -0.5), box=box)
    # the frame beneath the bars, as the figure's white box at zorder 0
    p.rect(0, 0, 1, 1, fc="white", ec="black", lw=0.8, coords="axes", zorder=0)
    for i, (name, share) in enumerate(zip(names, shares)):
        p.rect(0, i - 0.4, share, 0.8, fc=colors[name])
    for i, (name, share) in enumerate(zip(names, shares)):
        p.text(share, i, f" {share:.2f}", size=7, ha="left")
        p.text(-0.012 * right, i, name, size=7, ha="right")   # row names left of the frame
    p.text(0.5, 0, _("share of one pCPU"), size=7, va="top", coords="axes",
           offset=(0, -_SHARES_LABEL_PAD))


def mapping_figure(vms, pcpus: int, trace=None, t_ms: float | None = None):
    """The lecture's picture: VMs' vCPUs (top) mapped to pCPUs (bottom).

    Dashed grey lines: *Zuordnung per Konfiguration* — which pCPUs each
    vCPU may use (affinity / pinning).  Solid coloured arrows, if a trace
    and ``t_ms`` are given: *Zuordnung per CPU-Scheduling* — where each vCPU
    runs at that instant.

    Examples
    --------
    >>> from virtlab.scheduler import VM
    >>> fig = mapping_figure([VM("VM-1", vcpus=2), VM("VM-2", affinity=(1,))], 2)
    >>> fig.axes[0].get_title()
    'vCPU → pCPU: configuration (dashed) and scheduling (arrows)'
    """
    vms = list(vms)
    for i, vm in enumerate(vms):
        check_type(f"vms[{i}]", vm, VM)
    if not vms:
        raise ValueError("vms must contain at least one VM")
    if isinstance(pcpus, bool) or not isinstance(pcpus, int) or not 1 <= pcpus <= 16:
        raise ValueError(f"pcpus must be an integer in [1, 16], got {pcpus!r}")
    if trace is not None:
        check_type("trace", trace, _trace_type())
        t_ms = check_number("t_ms", 0.0 if t_ms is None else t_ms, minimum=0.0,
                            maximum=trace.duration_us / 1000)
    slots = [(vi, vm, k) for vi, vm in enumerate(vms) for k in range(vm.vcpus)]
    n = len(slots)
    width = max(n, pcpus) + 1
    fig = new_figure(min(8.0, 1.2 + 0.9 * width), 3.2)
    ax = fig.add_subplot()
    xs = {(vi, k): (i + 0.5) * width / n for i, (vi, vm, k) in enumerate(slots)}
    px = {p: (p + 0.5) * width / pcpus for p in range(pcpus)}
    # VM boxes
    for vi, vm in enumerate(vms):
        own = [xs[(vi, k)] for k in range(vm.vcpus)]
        color = PALETTE[vi % len(PALETTE)]
        ax.add_patch(_box(min(own) - 0.42, 2.35, max(own) - min(own) + 0.84, 0.95,
                          color, alpha=0.15))
        ax.text((min(own) + max(own)) / 2, 3.18, vm.name, ha="center", va="center",
                fontsize=8, color=color, weight="bold")
        for k in range(vm.vcpus):
            ax.add_patch(_box(xs[(vi, k)] - 0.35, 2.45, 0.7, 0.5, color, alpha=0.9))
            ax.text(xs[(vi, k)], 2.7, f"vCPU {k}", ha="center", va="center", fontsize=6,
                    color="white")
    for p in range(pcpus):
        ax.add_patch(_box(px[p] - 0.5, 0.1, 1.0, 0.6, "#555555", alpha=0.9))
        ax.text(px[p], 0.4, f"pCPU {p}", ha="center", va="center", fontsize=7, color="white")
    # configuration: allowed pCPUs
    for vi, vm, k in slots:
        allowed = range(pcpus) if vm.affinity is None else [a for a in vm.affinity if a < pcpus]
        for p in allowed:
            ax.plot([xs[(vi, k)], px[p]], [2.45, 0.7], color="#999999", lw=0.6, ls="--")
    # scheduling: who runs where at t
    if trace is not None:
        t_us = int(t_ms * 1000)
        for vi, vm, k in slots:
            if vm.name in trace.vm_names and k < trace.vms[trace.vm_names.index(vm.name)].vcpus:
                p = trace.pcpu_at(vm.name, k, min(t_us, trace.duration_us - 1))
                if p is not None and p < pcpus:
                    ax.annotate("", xy=(px[p], 0.72), xytext=(xs[(vi, k)], 2.43),
                                arrowprops=dict(arrowstyle="-|>", lw=1.8,
                                                color=PALETTE[vi % len(PALETTE)]))
        ax.text(0.02, 1.55, f"t = {t_ms:g} ms", fontsize=7, transform=ax.transData)
    ax.text(width - 0.05, 1.9, _("virtual CPUs"), ha="right", fontsize=7, style="italic")
    ax.text(width - 0.05, 0.85, _("physical CPUs"), ha="right", fontsize=7, style="italic")
    ax.set_xlim(0, width)
    ax.set_ylim(0, 3.4)
    ax.axis("off")
    ax.set_title(_("vCPU → pCPU: configuration (dashed) and scheduling (arrows)"), fontsize=8)
    return fig


def _box(x, y, w, h, color, alpha=1.0):
    return FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02", facecolor=color,
                          edgecolor=color, alpha=alpha)


def cosched_figure(traces: dict, vm: str = "smp", window_ms: float = 120.0):
    """Co-scheduling side by side: a Gantt chart per mode and the lock VM's progress.

    Parameters
    ----------
    traces : dict of str to Trace
        E.g. :func:`virtlab.scheduler.scenarios.lock_comparison`.
    vm : str
        The multi-vCPU VM with the lock.

    Examples
    --------
    >>> from virtlab.scheduler.scenarios import lock_comparison
    >>> len(cosched_figure(lock_comparison(duration_ms=200)).axes)
    5
    """
    check_type("traces", traces, dict)
    check_str("vm", vm)
    if not traces:
        raise ValueError("traces must not be empty")
    for label, t in traces.items():
        check_type(f"traces[{label!r}]", t, _trace_type())
        if vm not in t.vm_names:
            raise ValueError(f"vm must be a VM of every trace; {vm!r} is not in {label!r}")
    n = len(traces)
    first = next(iter(traces.values()))
    fig = new_figure(8, 1.0 + n * (0.35 + 0.22 * first.pcpus) + 1.6)
    gs = fig.add_gridspec(n + 1, 2, height_ratios=[1] * n + [1.3])
    for i, (label, t) in enumerate(traces.items()):
        start, end = _window(t, 0.0, window_ms)
        _draw_gantt(fig.add_subplot(gs[i, :]), t, start, end, legend=(i == 0),
                    title=_("co-scheduling: {mode}").format(mode=label))
    labels = list(traces)
    secs = [t.duration_us / 1e6 for t in traces.values()]
    iters = [t.workload(vm).get("iterations", 0) / s for t, s in zip(traces.values(), secs)]
    spin = [t.workload(vm).get("spin_us", 0) / t.duration_us for t in traces.values()]
    costop = [t.costop_us(vm) / t.duration_us for t in traces.values()]
    held = [sum(e - s for _, s, e, _ in t.reservations) / t.duration_us
            for t in traces.values()]
    share = [t.share(vm) for t in traces.values()]
    ax = fig.add_subplot(gs[n, 0])
    ax.bar(labels, iters, color=PALETTE[0])
    ax.set_title(_("{vm}: critical sections per second").format(vm=vm), fontsize=8)
    ax.tick_params(labelsize=7)
    ax2 = fig.add_subplot(gs[n, 1])
    x = range(len(labels))
    w = 0.2
    ax2.bar([i - 1.5 * w for i in x], share, w, label=_("CPU share"), color=PALETTE[0])
    ax2.bar([i - 0.5 * w for i in x], spin, w, label=_("spinning"), color=PALETTE[5])
    ax2.bar([i + 0.5 * w for i in x], costop, w, label=_("co-stopped"), color=PALETTE[3])
    ax2.bar([i + 1.5 * w for i in x], held, w, label=_("pCPUs held idle"), color=_RESERVED)
    ax2.set_xticks(list(x))
    ax2.set_xticklabels(labels)
    ax2.set_title(_("pCPU-seconds per second"), fontsize=8)
    # outside the axes: inside, the legend hid the relaxed group's bars
    ax2.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax2.tick_params(labelsize=7)
    return fig


def latency_figure(traces: dict, vm: str = "voip"):
    """Compare one latency-sensitive VM under several schedulers.

    Three panels: share of one pCPU, mean response time of its requests
    (wake-up → burst done) and the 95th-percentile wake-up latency.

    Examples
    --------
    >>> from virtlab.scheduler.scenarios import latency_comparison
    >>> len(latency_figure(latency_comparison(duration_ms=300)).axes)
    3
    """
    check_type("traces", traces, dict)
    check_str("vm", vm)
    if not traces:
        raise ValueError("traces must not be empty")
    for label, t in traces.items():
        check_type(f"traces[{label!r}]", t, _trace_type())
        if vm not in t.vm_names:
            raise ValueError(f"vm must be a VM of every trace; {vm!r} is not in {label!r}")
    labels = list(traces)
    share, resp, p95 = [], [], []
    for t in traces.values():
        share.append(t.share(vm))
        w = t.workload(vm)
        resp.append(w.get("response_us", 0) / max(1, w.get("bursts", 0)) / 1000)
        lat = sorted(t.wakeup_latencies(vm))
        p95.append(lat[int(0.95 * (len(lat) - 1))] / 1000 if lat else 0.0)
    fig = new_figure(8, 2.3)
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(labels))]
    for k, (vals, title) in enumerate([(share, _("share of one pCPU")),
                                       (resp, _("mean response (ms)")),
                                       (p95, _("95% wake-up latency (ms)"))]):
        ax = fig.add_subplot(1, 3, k + 1)
        ax.bar(range(len(labels)), vals, color=colors)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, fontsize=6, rotation=15)
        ax.set_title(f"{vm}: {title}", fontsize=8)
        ax.tick_params(labelsize=7)
        for i, v in enumerate(vals):
            ax.text(i, v, f"{v:.2f}" if v < 10 else f"{v:.0f}", ha="center", va="bottom",
                    fontsize=6)
    return fig
