"""Figures for interrupt routing and the three device models.

Every function takes model results (:mod:`virtlab.interrupts`,
:mod:`virtlab.devices`) and returns a :class:`matplotlib.figure.Figure`
built with :func:`virtlab.viz.new_figure` (object API, no pyplot).  The two
pictures the widgets redraw, :func:`routing` and :func:`io_comparison`, are
described once as a :class:`~virtlab.viz.scene.Scene` (:func:`routing_scene`,
:func:`io_comparison_scene`): the widgets write that as SVG directly (no
matplotlib in a redraw, issue 21), the functions draw the same scene with
matplotlib for the static pages.  The routing picture is drawn from
:func:`virtlab.interrupts.routing_graph` (a networkx graph).

Examples
--------
>>> from virtlab.interrupts import Platform, simulate_interrupts
>>> from virtlab.devices import packet_burst
>>> trace = simulate_interrupts(Platform(), packet_burst("domU1", 3))
>>> routing(trace).axes[0].texts[-1].get_text() == ROUTING_TITLE
True
>>> routing_scene(trace).svg() == routing_scene(trace).svg()
True
>>> journey(trace, 0).axes[0].get_xlabel()
'time (µs)'
"""

from __future__ import annotations

from matplotlib.axes import Axes

from ..devices import MODES, IOComparison, IOResult
from ..errors import check_int, check_type
from ..i18n import N_, _
from ..interrupts import HYPERVISOR, InterruptTrace, routing_graph
from .base import PALETTE, new_figure, nice_ticks
from .scene import TITLE_PAD, Scene

__all__ = ["MODE_COLORS", "ROUTING_TITLE", "routing", "routing_scene", "journey",
           "delivery_bars", "io_comparison", "io_comparison_scene", "request_paths"]

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


def routing_scene(trace: InterruptTrace, width: float = 7.0, height: float = 3.0) -> Scene:
    """:func:`routing` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    One rounded box and one label per node of
    :func:`virtlab.interrupts.routing_graph`, one arrow per edge (labelled with
    its events when it took any) and the title last.

    Examples
    --------
    >>> from virtlab.interrupts import Platform, simulate_interrupts
    >>> from virtlab.devices import packet_burst
    >>> scene = routing_scene(simulate_interrupts(Platform(), packet_burst("domU1", 3)))
    >>> sum(kind == "arrow" for kind, *_ in scene.items)      # one per edge of the graph
    13
    >>> scene.texts()[-1] == ROUTING_TITLE
    True
    """
    check_type("trace", trace, InterruptTrace)
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
    rows = max(len(v) for v in layers.values())
    scene = Scene(width, height)
    ax = scene.panel(xlim=(-0.35, max(layers) + 0.35),
                     ylim=(-(rows - 1) / 2 - 0.45, (rows - 1) / 2 + 0.3),
                     box=(0.0, 0.0, 1.0, 0.92))
    maxev = max([d["events"] for _, _, d in g.edges(data=True)] + [1])
    for u, v, data in g.edges(data=True):
        n = data["events"]
        (x0, y0), (x1, y1) = pos[u], pos[v]
        passthrough = u == HYPERVISOR and g.nodes[v]["layer"] == 5
        color = "#D55E00" if passthrough else ("#444444" if n else "#BBBBBB")
        # the arrows touch the boxes (the figure's shrinkA=shrinkB=0)
        ax.arrow(x0 + 0.27, y0, x1 - 0.27, y1,
                 rad=(0.45 if y1 <= y0 else -0.45) if passthrough else 0.0,
                 color=color, lw=0.6 + 2.4 * n / maxev, dash="solid" if n else "dotted",
                 shrink=0)
        if n:
            if passthrough:
                lx, ly = x0 + 1.5, y0 + (y1 - y0) / 2 + (-0.55 if y1 <= y0 else 0.55)
            else:
                lx, ly = x0 + (x1 - x0) * 0.5, y0 + (y1 - y0) * 0.5 + 0.08
            ax.text(lx, ly, str(n), size=7, va="bottom", color=color)
    for node, data in g.nodes(data=True):
        x, y = pos[node]
        kind = data["kind"]
        edge = _domain_color(trace, node) if kind == "domain" else "#333333"
        # boxes lie over the arrows (matplotlib drew both as patches, arrows first)
        ax.rect(x - 0.25, y - 0.2, 0.5, 0.4, fc=_KIND_FILL[kind], ec=edge, lw=1.4,
                rounded=True, zorder=2)
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
        ax.text(x, y, label, size=7)
    # one plain text as title and column legend (the last text: the figure's texts[-1])
    ax.text(0.5, 1.0, _(ROUTING_TITLE), size=8, va="bottom", coords="axes")
    return scene


def routing(trace: InterruptTrace, width: float = 7.0, height: float = 3.0):
    """The routing graph: devices → controller → hypervisor → dom0 → event channels → domUs.

    Edge width and label: interrupt events that took the edge in ``trace``;
    passthrough edges (hypervisor straight to a domU) in red.  Each domain
    box shows its virtual interrupts (vIRQ) and the mean latency of the
    events it finally handled.  The figure draws :func:`routing_scene` (the
    widget shows that scene as SVG).

    Examples
    --------
    >>> from virtlab.interrupts import Platform, simulate_interrupts
    >>> fig = routing(simulate_interrupts(Platform(), []))
    >>> len(fig.axes)
    1
    """
    return routing_scene(trace, width, height).figure()


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
    ("mean / max").  The figure draws :func:`io_comparison_scene` (the widget
    shows that scene as SVG).

    Examples
    --------
    >>> from virtlab.devices import compare_io
    >>> fig = io_comparison(compare_io(requests=16))
    >>> fig.axes[0].get_title()
    'emulated vs paravirtual vs passthrough'
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_rotation() == 90]
    ['VM exits per request', 'latency (µs)', 'k requests/s']
    """
    return io_comparison_scene(cmp, width, height).figure()


def io_comparison_scene(cmp: IOComparison, width: float = 8.0, height: float = 2.6) -> Scene:
    """:func:`io_comparison` as a :class:`~virtlab.viz.scene.Scene` (the same parameters).

    The three panels share one scene panel: their bars are scaled to each
    panel's top (1.0), and each y-axis is drawn in its own unit.

    Examples
    --------
    >>> from virtlab.devices import compare_io
    >>> scene = io_comparison_scene(compare_io(requests=16))
    >>> sum(kind == "rect" for kind, *_ in scene.items)      # a bar per model and panel
    9
    """
    check_type("cmp", cmp, IOComparison)
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
    scene = Scene(width, height)
    # The title stood 10 pt above the bars' area (set_title(pad=10)); a scene
    # title stands TITLE_PAD above its panel.  So the panel reaches the
    # difference higher and its y limit grows alike: y 0..1.2 stays where it
    # was, and so does the title.
    top_box, extra = 0.86, (10.0 - TITLE_PAD) / (height * 72)
    ax = scene.panel(xlim=(-0.2, len(groups) * step - 0.4),
                     ylim=(0, 1.2 * (top_box + extra - 0.2) / (top_box - 0.2)),
                     box=(0.01, 0.2, 0.99, top_box + extra),
                     title=_("emulated vs paravirtual vs passthrough"), title_size=9)
    for g, (title, ylabel, values, fmt) in enumerate(groups):
        x0 = g * step + 1.4
        top = max(values + (maxlat if g == 1 else []) + [1e-9]) * 1.15
        xs = [x0 + k * gap for k in range(n)]
        for x, v, c in zip(xs, values, colors):
            ax.rect(x - 0.35, 0, 0.7, v / top, fc=c)
        if g == 1:   # values under the axis: mean and max never collide
            for x, m in zip(xs, maxlat):
                ax.line([x - 0.35, x + 0.35], [m / top, m / top], lw=2)
        else:
            for x, v in zip(xs, values):
                ax.text(x, v / top + 0.02, fmt.format(v), size=7, va="bottom")
        names = [short.get(m, m) for m in modes]
        if g == 1:
            names = [f"{a}\n{v:.0f} / {x:.0f}" for a, v, x in zip(names, values, maxlat)]
        for x, name in zip(xs, names):      # x tick labels, 2 pt below the axis, no marks
            ax.text(x, 0, name, size=7, va="top", coords="xaxis", offset=(0, -2))
        # this panel's axes in its own unit: the y-axis and the base line, then the ticks
        left = x0 - 0.6
        ax.line([left, left, xs[-1] + 0.6], [1, 0, 0], lw=0.8)
        for loc, text in zip(*nice_ticks(0, top, n=4)):
            ax.line([left - 0.1, left], [loc / top, loc / top], lw=0.8)
            ax.text(left - 0.12, loc / top, text, size=6.5, ha="right")
        ax.text(left - 0.95, 0.5, ylabel, size=7, rotation=90)
        ax.text(x0 + (n - 1) * gap / 2, 1.06, title, size=8, va="bottom")
    return scene


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
