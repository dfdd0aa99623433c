"""Figures for interrupt routing and the three device models.

Every function takes model results (:mod:`virtlab.interrupts`,
:mod:`virtlab.devices`) and returns a :class:`matplotlib.figure.Figure`
built with :func:`virtlab.viz.new_figure` (object API, no pyplot).  The
routing picture is drawn from :func:`virtlab.interrupts.routing_graph` (a
networkx graph) with plain matplotlib patches: faster than networkx's own
drawing and free of pyplot.

Examples
--------
>>> from virtlab.interrupts import Platform, simulate_interrupts
>>> from virtlab.devices import packet_burst
>>> trace = simulate_interrupts(Platform(), packet_burst("domU1", 3))
>>> routing(trace).axes[0].texts[-1].get_text() == ROUTING_TITLE
True
>>> journey(trace, 0).axes[0].get_xlabel()
'time (µs)'
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..devices import MODES, IOComparison, IOResult
from ..errors import check_int, check_type
from ..i18n import N_, _
from ..interrupts import HYPERVISOR, InterruptTrace, routing_graph
from .base import PALETTE, fast_ticks, new_figure, nice_ticks

__all__ = ["MODE_COLORS", "ROUTING_TITLE", "routing", "journey", "delivery_bars", "io_comparison",
           "request_paths"]

#: One colour per device model (Okabe & Ito).
MODE_COLORS = {"emulated": PALETTE[5], "paravirtual": PALETTE[0], "passthrough": PALETTE[2]}

_KIND_FILL = {"device": "#DDDDDD", "controller": "#BBBBBB", "hypervisor": "#F4C27A",
              "evtchn": "#FFF3B0", "domain": "#9ED9C3"}
#: Title of the routing picture; it names the columns from left to right.
ROUTING_TITLE = N_("devices → controller → hypervisor → driver domain → event channels → "
                   "domUs  (events per edge)")
#: How the device models are labelled (the keys are the model's values).
MODE_LABELS = {"emulated": N_("emulated"), "paravirtual": N_("paravirtual"),
               "passthrough": N_("passthrough")}


def _domain_color(trace: InterruptTrace, dom: str) -> str:
    return PALETTE[trace.domains.index(dom) % len(PALETTE)]


def _draw_routing(ax: Axes, trace: InterruptTrace) -> None:
    g = routing_graph(trace)
    stats = {r[0]: (r[1], r[2], r[3]) for r in trace.summary()}
    layers: dict[int, list[str]] = {}
    for node, data in g.nodes(data=True):
        layers.setdefault(data["layer"], []).append(node)
    pos = {}
    for layer, nodes in layers.items():
        k = len(nodes)
        for j, node in enumerate(nodes):
            pos[node] = (layer * 1.0, (k - 1) / 2 - j)
    height = max(len(v) for v in layers.values())
    maxev = max([d["events"] for _, _, d in g.edges(data=True)] + [1])
    for u, v, data in g.edges(data=True):
        n = data["events"]
        (x0, y0), (x1, y1) = pos[u], pos[v]
        passthrough = u == HYPERVISOR and g.nodes[v]["layer"] == 5
        color = "#D55E00" if passthrough else ("#444444" if n else "#BBBBBB")
        ax.add_artist(FancyArrowPatch((x0 + 0.27, y0), (x1 - 0.27, y1), arrowstyle="-|>",
                                     shrinkA=0, shrinkB=0, mutation_scale=9,
                                     lw=0.6 + 2.4 * n / maxev, color=color,
                                     linestyle="-" if n else ":",
                                     connectionstyle=f"arc3,rad={0.45 if y1 <= y0 else -0.45}"
                                     if passthrough else None))
        if n:
            if passthrough:
                lx, ly = x0 + 1.5, y0 + (y1 - y0) / 2 + (-0.55 if y1 <= y0 else 0.55)
            else:
                lx, ly = x0 + (x1 - x0) * 0.5, y0 + (y1 - y0) * 0.5 + 0.08
            ax.text(lx, ly, str(n), fontsize=7, ha="center", va="bottom", color=color)
    for node, data in g.nodes(data=True):
        x, y = pos[node]
        kind = data["kind"]
        fill = _KIND_FILL[kind]
        edge = "#333333"
        if kind == "domain":
            edge = _domain_color(trace, node)
        ax.add_artist(FancyBboxPatch((x - 0.25, y - 0.2), 0.5, 0.4,
                                    boxstyle="round,pad=0.02", fc=fill, ec=edge, lw=1.4))
        if kind == "device":
            label = f"{node}\nIRQ {data['irq']}"
        elif kind == "domain":
            handled, injected, mean = stats[node]
            label = f"{node}\n{injected} vIRQ"
            if handled:
                label += f"\n{mean:.0f} µs"
        elif kind == "evtchn":
            label = f"{node}\n({data['device']})"
        else:
            label = node
        ax.text(x, y, label, ha="center", va="center", fontsize=7)
    ax.set_xlim(-0.35, max(layers) + 0.35)
    ax.set_ylim(-(height - 1) / 2 - 0.45, (height - 1) / 2 + 0.3)
    ax.set_axis_off()
    # add_artist (not add_patch), one plain text as title and column legend: no
    # autoscaling, no tick layout for an axis that is off, few texts — fast redraws
    ax.text(0.5, 1.0, _(ROUTING_TITLE), transform=ax.transAxes, ha="center", va="bottom",
            fontsize=8)


def routing(trace: InterruptTrace, width: float = 7.0, height: float = 3.0):
    """The routing graph: devices → controller → hypervisor → dom0 → event channels → domUs.

    Edge width and label: interrupt events that took the edge in ``trace``;
    passthrough edges (hypervisor straight to a domU) in red.  Each domain
    box shows its virtual interrupts (vIRQ) and the mean latency of the
    events it finally handled.

    Examples
    --------
    >>> from virtlab.interrupts import Platform, simulate_interrupts
    >>> fig = routing(simulate_interrupts(Platform(), []))
    >>> len(fig.axes)
    1
    """
    check_type("trace", trace, InterruptTrace)
    fig = new_figure(width, height, margins={})  # fixed axes, no layout solver
    _draw_routing(fig.add_axes((0.0, 0.0, 1.0, 0.92)), trace)
    return fig


def _draw_journey(ax: Axes, trace: InterruptTrace, event: int) -> None:
    steps = trace.journeys[event]
    ev = trace.events[event]
    lanes: list[str] = []
    for s in steps:
        if s.actor not in lanes:
            lanes.append(s.actor)
    y = {a: len(lanes) - 1 - i for i, a in enumerate(lanes)}
    end = steps[-1].time if steps else ev.time
    span = max(end - ev.time, 1)
    # Between two steps the event is with the actor of the *next* step: pending in
    # its (virtual) controller, or being handled by it.  A bar shows that stay.
    for k in range(len(steps) - 1):
        s, nxt = steps[k], steps[k + 1]
        color = _domain_color(trace, nxt.actor) if nxt.actor in trace.domains else "#777777"
        if nxt.time > s.time:
            ax.barh(y[nxt.actor], nxt.time - s.time, left=s.time, height=0.35, color=color,
                    alpha=0.55)
        if nxt.actor != s.actor:
            ax.annotate("", xy=(s.time, y[nxt.actor]), xytext=(s.time, y[s.actor]),
                        arrowprops={"arrowstyle": "->", "color": "#999999", "lw": 0.8})
    # numbered dots; the actions go into one text block (cheap to draw, never overlaps)
    ax.plot([s.time for s in steps], [y[s.actor] for s in steps], "o", ms=11,
            color="#FFFFFF", mec="#333333", mew=0.8, zorder=3)
    for k, s in enumerate(steps):
        ax.text(s.time, y[s.actor], str(k + 1), ha="center", va="center", fontsize=6,
                zorder=4)
    listing = "\n".join(f"{k + 1}. [{s.time} µs] {s.actor}: {s.action}"
                         for k, s in enumerate(steps))
    ax.text(1.03, 0.5, listing, transform=ax.transAxes, ha="left", va="center", fontsize=6.5,
            linespacing=1.5)
    ax.set_yticks(range(len(lanes)), list(reversed(lanes)), fontsize=7)
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.set_xlim(ev.time - 0.06 * span, ev.time + span * 1.06)
    ax.set_xlabel(_("time (µs)"), fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    done = trace.done_at[event]
    status = (_("handled at {t} µs").format(t=done) if done is not None
              else _("still pending"))
    title = _("Journey of event {event}: {device} → {target}, raised at {t} µs, {status}")
    ax.set_title(title.format(event=event, device=ev.device, target=ev.target or HYPERVISOR,
                              t=ev.time, status=status), fontsize=8, loc="left")
    ax.grid(axis="x", alpha=0.3)


def journey(trace: InterruptTrace, event: int = 0, width: float = 9.0, height: float = 2.8):
    """Timeline of one interrupt's journey: a lane per actor, a bar while it is there.

    Between two recorded steps the event is with the actor of the later step
    (pending in its controller or in its handler); numbered dots mark the
    steps, which are listed on the right.

    Examples
    --------
    >>> from virtlab.interrupts import Platform, simulate_interrupts
    >>> from virtlab.devices import IOEvent
    >>> fig = journey(simulate_interrupts(Platform(), [IOEvent(0, "disk", "domU2")]))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()][:2]
    ['domU2', 'dom0']
    """
    check_type("trace", trace, InterruptTrace)
    if not trace.events:
        raise ValueError("trace must hold at least one event to show a journey")
    check_int("event", event, minimum=0, maximum=len(trace.events) - 1)
    fig = new_figure(width, height, margins={})  # fixed axes, no layout solver
    _draw_journey(fig.add_axes((0.1, 0.16, 0.37, 0.74)), trace, event)
    return fig


def _draw_delivery(ax: Axes, trace: InterruptTrace) -> None:
    rows = [r for r in trace.summary()]
    names = [r[0] for r in rows]
    x = range(len(rows))
    colors = [_domain_color(trace, d) for d in names]
    ax.bar(x, [r[2] for r in rows], color=colors, alpha=0.8)
    ax.set_xticks(list(x), names, fontsize=7)
    ax.set_ylabel(_("virtual IRQs injected"), fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax2 = ax.twinx()
    lat = [(i, r) for i, r in zip(x, rows) if r[1]]
    ax2.plot([i for i, _ in lat], [r[3] for _, r in lat], "D", color="#000000", ms=5,
             label=_("mean"))
    ax2.plot([i for i, _ in lat], [r[4] for _, r in lat], "_", color="#000000", ms=14, mew=2,
             label=_("max"))
    ax2.set_ylabel(_("latency (µs)"), fontsize=7)
    ax2.tick_params(axis="y", labelsize=7)
    ax2.set_ylim(bottom=0, top=max([r[4] for r in rows] + [1]) * 1.25)
    ax2.legend(fontsize=6, loc="upper left", frameon=False)
    ax.set_title(_("Per domain: interrupts and event latency"), fontsize=8)


def delivery_bars(trace: InterruptTrace, width: float = 4.0, height: float = 2.6):
    """Per domain: virtual interrupts injected (bars) and event latency (mean ◆, max —).

    Examples
    --------
    >>> from virtlab.interrupts import Platform, simulate_interrupts
    >>> from virtlab.devices import packet_burst
    >>> fig = delivery_bars(simulate_interrupts(Platform(), packet_burst("domU2", 5)))
    >>> len(fig.axes)
    2
    """
    check_type("trace", trace, InterruptTrace)
    fig = new_figure(width, height)
    _draw_delivery(fig.add_subplot(), trace)
    return fig


def io_comparison(cmp: IOComparison, width: float = 8.0, height: float = 2.6):
    """Emulated vs paravirtual vs passthrough: exits/request, latency, throughput.

    Three panels, each with its own y-axis and unit (the quantities differ);
    every bar carries its number.  In the latency panel the bar is the mean
    and the black tick the maximum; both values stand under the bars
    ("mean / max").  The panels share one Axes and their y-axes are plain
    artists: three matplotlib Axes tripled the cost of a widget redraw.

    Examples
    --------
    >>> from virtlab.devices import compare_io
    >>> fig = io_comparison(compare_io(requests=16))
    >>> fig.axes[0].get_title()
    'emulated vs paravirtual vs passthrough'
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_rotation() == 90]
    ['VM exits per request', 'latency (µs)', 'k requests/s']
    """
    check_type("cmp", cmp, IOComparison)
    fig = new_figure(width, height, margins={})  # fixed axes, no layout solver
    ax = fig.add_axes((0.01, 0.2, 0.98, 0.66))
    modes = [r.mode for r in cmp.results]
    n = len(modes)
    short = {"emulated": _("emul."), "paravirtual": _("paravirt."),
             "passthrough": _("passthr.")}
    groups = [(_("VM exits per request"), _("VM exits per request"),
               [r.exits_per_request for r in cmp.results], "{:.2f}"),
              (_("latency: mean (bar) / max (tick)"), _("latency (µs)"),
               [r.mean_latency_us for r in cmp.results], "{:.0f}"),
              (_("throughput"), _("k requests/s"), [r.throughput_kops for r in cmp.results],
               "{:.0f}")]
    maxlat = [r.max_latency_us for r in cmp.results]
    colors = [MODE_COLORS.get(m, "#777777") for m in modes]
    gap = 1.2                          # bar pitch: room for two-line labels
    step = n * gap + 1.8               # room between panels for the next y-axis
    ticks, labels = [], []
    axis_x, marks, mark_y, base = [], [], [], []
    for g, (title, ylabel, values, fmt) in enumerate(groups):
        x0 = g * step + 1.4
        top = max(values + (maxlat if g == 1 else []) + [1e-9]) * 1.15
        xs = [x0 + k * gap for k in range(n)]
        ax.bar(xs, [v / top for v in values], color=colors, width=0.7)
        if g == 1:   # values under the axis: mean and max never collide
            ax.hlines([m / top for m in maxlat], [x - 0.35 for x in xs],
                      [x + 0.35 for x in xs], color="#000000", lw=2)
        else:
            for x, v in zip(xs, values):
                ax.text(x, v / top + 0.02, fmt.format(v), ha="center", va="bottom",
                        fontsize=7)
        names = [short.get(m, m) for m in modes]
        if g == 1:
            names = [f"{a}\n{v:.0f} / {x:.0f}" for a, v, x in zip(names, values, maxlat)]
        ticks += xs
        labels += names
        # this panel's y-axis, drawn as plain artists in its own unit
        left = x0 - 0.6
        axis_x.append(left)
        for loc, text in zip(*nice_ticks(0, top, n=4)):
            marks.append(left)
            mark_y.append(loc / top)
            ax.text(left - 0.12, loc / top, text, ha="right", va="center", fontsize=6.5)
        ax.text(left - 0.95, 0.5, ylabel, rotation=90, ha="center", va="center",
                fontsize=7)
        ax.text(x0 + (n - 1) * gap / 2, 1.06, title, ha="center", va="bottom", fontsize=8)
        base.append((left, xs[-1] + 0.6))
    ax.vlines(axis_x, 0, 1, color="#000000", lw=0.8)
    ax.hlines([0] * len(base), [a for a, _ in base], [b for _, b in base], color="#000000",
              lw=0.8)
    ax.hlines(mark_y, [m - 0.1 for m in marks], marks, color="#000000", lw=0.8)
    fast_ticks(ax, "x", ticks, labels, fontsize=7, length=0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_ylim(0, 1.2)
    ax.set_xlim(-0.2, len(groups) * step - 0.4)
    for side in ("left", "right", "top", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(_("emulated vs paravirtual vs passthrough"), fontsize=9, y=1.0, pad=10)
    return fig


def request_paths(results: IOComparison | tuple[IOResult, ...], width: float = 8.0,
                  height: float = 2.8):
    """The recorded path of the first request in each device model, as timelines.

    Examples
    --------
    >>> from virtlab.devices import compare_io
    >>> len(request_paths(compare_io(requests=4)).axes)
    3
    """
    if isinstance(results, IOComparison):
        results = results.results
    for r in results:
        check_type("results", r, IOResult)
    fig = new_figure(width, height)
    axes = fig.subplots(1, len(results), sharex=True) if results else []
    if len(results) == 1:
        axes = [axes]
    end = max((s.time for r in results for s in r.steps), default=1) or 1
    for ax, r in zip(axes, results):
        actors: list[str] = []
        for s in r.steps:
            if s.actor not in actors:
                actors.append(s.actor)
        y = {a: len(actors) - 1 - i for i, a in enumerate(actors)}
        color = MODE_COLORS.get(r.mode, "#777777")
        ts = [s.time for s in r.steps]
        ys = [y[s.actor] for s in r.steps]
        ax.step(ts, ys, where="post", color=color, lw=1.2)
        ax.plot(ts, ys, "o", color=color, ms=3)
        ax.set_yticks(range(len(actors)), list(reversed(actors)), fontsize=7)
        ax.set_ylim(-0.5, len(actors) - 0.5)
        title = _("{mode}: request 0 done at {t} µs").format(
            mode=_(MODE_LABELS.get(r.mode, r.mode)), t=ts[-1] if ts else 0)
        ax.set_title(title, fontsize=8)
        ax.set_xlabel(_("time (µs)"), fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_xlim(-0.02 * end, end * 1.05)
        ax.grid(axis="x", alpha=0.3)
    return fig


assert set(MODE_COLORS) == set(MODES)
