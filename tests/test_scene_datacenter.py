"""The data-centre pictures as scenes (issue 21): heat map and host map.

``consolidation_lab``, ``failure_lab`` and ``cloud_lab`` draw a
:class:`~virtlab.viz.scene.Scene` (SVG written directly); the static pages
draw the same scene with matplotlib.  Each test computes what the picture
must hold from the model (utilization per host and hour, each VM's demand at
its host's busiest hour, what failed, moved or was lost), and the tick
positions and labels from matplotlib's own locator and formatter on a real
Axes of the old layout — not from the drawing code.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib import colormaps
from matplotlib.colors import to_hex

from virtlab import availability as av
from virtlab import consolidation as cons
from virtlab.viz import consolidation as vc
from virtlab.viz.base import new_figure, to_png, to_svg
from virtlab.viz.scene import Scene
from virtlab.widgets.consolidation import consolidation_lab, failure_lab
from virtlab.widgets.summary import cloud_lab

RED = "#d62728"


# -- reading a scene -------------------------------------------------------------
def items(scene: Scene, kind: str, panel: int = 0, coords: str | None = None):
    """The arguments of every ``kind`` shape of panel ``panel`` (in ``coords``)."""
    p = scene.panels[panel]
    return [args for k, q, (c, _off), _z, *args in scene.items
            if k == kind and q is p and (coords is None or c == coords)]


def texts(scene: Scene, panel: int = 0) -> list[str]:
    """Every text of a panel, its title included."""
    return [a[2] for a in items(scene, "text", panel)] + [scene.panels[panel].title or ""]


def tick_labels(scene: Scene, axis: str, panel: int = 0) -> list[tuple[float, str]]:
    """(position, label) of the tick labels along ``axis`` ("x" or "y")."""
    return [(a[0] if axis == "x" else a[1], a[2])
            for a in items(scene, "text", panel, f"{axis}axis")]


def matplotlib_ticks(size, box, xlim, ylim, axis, labelsize, fixed=None):
    """The labelled ticks matplotlib draws on an Axes of ``box`` in a figure of ``size``."""
    fig = new_figure(*size, margins={})
    ax = fig.add_axes((box[0], box[1], box[2] - box[0], box[3] - box[1]))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.tick_params(labelsize=labelsize)
    if fixed is not None:
        (ax.set_xticks if axis == "x" else ax.set_yticks)(fixed)
    a = ax.xaxis if axis == "x" else ax.yaxis
    locs = list(a.get_major_locator()())
    labels = a.get_major_formatter().format_ticks(locs)
    lo, hi = sorted(xlim if axis == "x" else ylim)
    return [(float(v), s) for v, s in zip(locs, labels) if lo - 1e-9 <= v <= hi + 1e-9]


def busiest(p: cons.Placement, vms) -> tuple[int, dict[str, float]]:
    """A column's busiest hour and each VM's demand then (overhead included)."""
    f = 1 + p.overhead
    cpu = {s.name: [c * f for c in s.cpu] for s in p.servers}
    hour = max(range(24), key=lambda h: sum(cpu[v][h] for v in vms))
    return hour, {v: cpu[v][hour] for v in vms}


def column_rects(scene: Scene, x: int):
    """The boxes of host-map column ``x``, bottom to top."""
    return sorted((a for a in items(scene, "rect", coords="data")
                   if abs(a[0] + a[2] / 2 - x) < 1e-9), key=lambda a: a[1])


# -- the heat map ----------------------------------------------------------------
@pytest.mark.parametrize("servers, overhead", [(40, 0.07), (200, 0.3), (2, 0.0)])
def test_heat_map_colours_every_host_hour_by_its_utilization(servers, overhead):
    p = cons.consolidate(cons.make_servers(servers, seed=3), overhead=overhead)
    scene = vc.placement_heatmap_scene(p)
    cells = items(scene, "rect", coords="data")
    viridis = colormaps["viridis"]
    for row, host in enumerate(p.hosts):
        # every hour of the row is covered by one box of the hour's colour
        for hour, c in enumerate(host.cpu):
            want = to_hex(viridis(min(max(c / p.host.cpus, 0.0), 1.0)))
            # a box covers the hour's centre (boxes overlap their right and lower
            # neighbours by a hair, drawn later: the last one drawn shows)
            covering = [a for a in cells if a[0] < hour < a[0] + a[2] and a[1] < row < a[1] + a[3]]
            assert covering and covering[-1][4] == want, (row, hour)
    assert {round(a[1] + 0.5) for a in cells} == set(range(len(p.hosts)))
    assert len(cells) <= 24 * len(p.hosts)              # equal neighbours share a box
    assert scene.panels[0].ylim == (len(p.hosts) - 0.5, -0.5)   # host 0 on top, as imshow


@pytest.mark.parametrize("servers", [12, 40, 200])
def test_heat_map_ticks_and_texts_are_the_old_figures(servers):
    p = cons.consolidate(cons.make_servers(servers, seed=1), overhead=0.3)
    scene = vc.placement_heatmap_scene(p)
    panel = scene.panels[0]
    n = len(p.hosts)
    box = (0.09, 0.15, 0.98, 0.85)
    assert panel.box == box and (scene.width, scene.height) == (6.5, 3.2)
    assert tick_labels(scene, "x") == matplotlib_ticks((6.5, 3.2), box, (-0.5, 23.5),
                                                      (n - 0.5, -0.5), "x", 10, range(0, 24, 4))
    assert tick_labels(scene, "y") == matplotlib_ticks(
        (6.5, 3.2), box, (-0.5, 23.5), (n - 0.5, -0.5), "y", 10, range(n) if n <= 12 else None)
    shown = "\n".join(texts(scene))
    for part in (f"{p.policy}: {len(p.servers)} servers on {p.hosts_after} hosts",
                 f"{p.overhead:.0%} overhead", f"CPU utilization {p.cpu_util_before:.0%} before",
                 "hour of day (colour: CPU utilization", "host"):
        assert part in shown


def test_two_line_title_sits_where_matplotlibs_set_title_puts_it():
    # matplotlib puts a title's *last* baseline titlepad above the Axes; the
    # widget's SVG must place both lines where matplotlib's own title has them
    p = cons.consolidate(cons.make_servers(20))
    scene = vc.placement_heatmap_scene(p)
    title = [panel.title for panel in scene.panels if panel.title and "\n" in panel.title]
    assert len(title) == 1 and title[0].startswith(f"{p.policy}: {len(p.servers)} servers")
    fig = new_figure(6.5, 3.2, margins={})
    ax = fig.add_axes((0.09, 0.15, 0.89, 0.7))
    ax.axis("off")
    ax.set_title(title[0], fontsize=9, y=1.0)
    mpl, svg = to_svg(fig).decode(), scene.svg().decode()
    for line in title[0].split("\n"):
        want = re.findall(rf'<text [^>]*?(?: y="|translate\([-\d.]+ )([-\d.]+)[^>]*>'
                          rf'{re.escape(line)}</text>', mpl)
        got = re.findall(rf'<tspan x="[-\d.]+" y="([-\d.]+)">{re.escape(line)}</tspan>', svg)
        assert len(want) == len(got) == 1 and abs(float(want[0]) - float(got[0])) < 0.1, line


def test_placement_figure_holds_the_heat_map_and_the_before_after_bars():
    p = cons.consolidate(cons.make_servers(30, seed=2))
    scene = vc.placement_figure_scene(p)
    assert len(scene.panels) == 2
    bars = items(scene, "rect", 1, "data")
    widths = sorted(round(a[2], 6) for a in bars)
    want = sorted([100.0, 100.0, round(100 * p.hosts_after / p.hosts_before, 6),
                   round(100 * p.energy_after_kwh / p.energy_before_kwh, 6)])
    assert widths == want
    shown = texts(scene, 1)
    for s in (f"{p.hosts_before:,.0f}", f"{p.hosts_after:,.0f}", f"{p.energy_before_kwh:,.0f}",
              f"{p.energy_after_kwh:,.0f}", "machines", "kWh/day*", "before", "after",
              "before vs after", "% of before  (*incl. cooling, illustrative)"):
        assert s in shown
    assert [s for _p, s in tick_labels(scene, "y", 1)] == ["machines", "kWh/day*"]


# -- the host map ----------------------------------------------------------------
@pytest.mark.parametrize("servers, policy, failed, spares, restart", [
    (20, "complementary", 0, 1, True), (40, "ffd", 0, 0, False), (30, "ffd", 2, 1, True),
    (100, "best_fit", 1, 2, True)])
def test_host_map_stacks_each_vm_at_its_hosts_busiest_hour(servers, policy, failed, spares,
                                                          restart):
    p = cons.consolidate(cons.make_servers(servers, seed=1), policy)
    impact = av.host_failure(p, failed, spares=spares, restart=restart)
    scene = vc.host_map_scene(p, impact)
    moved: dict[str, list[str]] = {}
    for name, where in impact.restarted:
        moved.setdefault(where, []).append(name)
    spare_names = sorted({w for _n, w in impact.restarted if w.startswith("spare")})
    columns = [(f"host {h.index}", list(h.vms)) for h in p.hosts] + [(s, []) for s in spare_names]
    dotted = items(scene, "line", coords="data")
    dotted = [a for a in dotted if a[4] == "dotted"]
    for x, (label, vms) in enumerate(columns):
        is_failed = label == f"host {failed}"
        extra = [] if is_failed else moved.get(label, [])
        rects = column_rects(scene, x)
        assert len(rects) == len(vms) + len(extra), label
        if not rects:
            continue
        _hour, demand = busiest(p, vms + extra)
        y = 0.0
        for rect, vm in zip(rects, vms + extra):
            x0, y0, w, h, fc, _ec, _lw, alpha = rect[:8]
            assert abs(y0 - y) < 1e-9 and abs(h - demand[vm]) < 1e-9 and abs(w - 0.8) < 1e-9
            if vm in extra:                       # restarted here: white, a dotted red outline
                assert fc == "#ffffff"
                assert any(a[2] == RED and min(a[0]) == x0 and max(a[1]) == y0 + h
                           for a in dotted)
            elif vm in impact.lost:
                assert fc == RED
            assert alpha == (0.35 if is_failed else 1.0)
            y += h
        assert y <= p.host.cpus + 1e-6                     # never over the capacity line
    assert len(dotted) == sum(len(v) for k, v in moved.items() if k != f"host {failed}")
    # the failed host is hatched: white lines inside its column
    hatch = [a for a in items(scene, "segments", coords="data") if a[1] == "#ffffff"]
    assert len(hatch) == 1
    xs = [x for seg in hatch[0][0] for x, _y in seg]
    assert failed - 0.4 - 1e-9 <= min(xs) < failed - 0.3 and max(xs) <= failed + 0.4 + 1e-9
    assert [s for _x, s in tick_labels(scene, "x")] == [c[0] for c in columns]
    title = scene.panels[0].title
    assert title == (f"host {failed} fails: {len(impact.vms_down)} VMs down, "
                     f"{len(impact.restarted)} restarted (dotted), {len(impact.lost)} lost (red)")


def test_host_map_capacity_line_and_axis_are_the_old_figures():
    for cpus in (4.0, 16.0, 48.0, 96.0):
        p = cons.consolidate(cons.make_servers(12), host=cons.HostSpec(cpus=cpus,
                                                                       memory_gb=512.0))
        for spares in (0, 2):
            impact = av.host_failure(p, 0, spares=spares, restart=True)
            scene = vc.host_map_scene(p, impact)
            panel = scene.panels[0]
            ncols = len(p.hosts) + len({w for _n, w in impact.restarted if w.startswith("spare")})
            assert panel.xlim == (-0.6, ncols - 0.4) and panel.ylim == (0, cpus * 1.12)
            assert panel.box == (0.07, 0.24 if ncols > 10 else 0.16, 0.98, 0.9)
            assert tick_labels(scene, "y") == matplotlib_ticks(
                (8.5, 3.2), panel.box, panel.xlim, panel.ylim, "y", 10)
            cap = [a for a in items(scene, "line", coords="yaxis") if a[1] == (cpus, cpus)]
            assert len(cap) == 1 and cap[0][4] == "dashed"
            assert {"capacity", "cores at the host's busiest hour"} <= set(texts(scene))


def test_crowded_host_names_stand_upright_below_a_wider_margin():
    p = cons.consolidate(cons.make_servers(100, seed=1))
    assert len(p.hosts) > 10
    scene = vc.host_map_scene(p)
    labels = items(scene, "text", coords="xaxis")
    assert [a[2] for a in labels] == [f"host {h.index}" for h in p.hosts]
    assert {a[8] for a in labels} == {90}
    few = vc.host_map_scene(cons.consolidate(cons.make_servers(20)))
    assert {a[8] for a in items(few, "text", coords="xaxis")} == {0}


def test_host_map_colours_by_service_or_tenant():
    p = cons.consolidate(cons.tenant_servers(3, 6, seed=0), anti_affinity=True)
    for color_by, key in (("tenant", lambda vm: vm.split(":")[0]),
                          ("service", lambda vm: vm.rsplit("-", 1)[0])):
        scene = vc.host_map_scene(p, color_by=color_by)
        seen: dict[str, str] = {}
        for x, host in enumerate(p.hosts):
            for rect, vm in zip(column_rects(scene, x), host.vms):
                assert seen.setdefault(key(vm), rect[4]) == rect[4]
        assert scene.panels[0].title == f"VMs per host (colour: {color_by})"


def test_host_map_refuses_bad_input_by_name():
    p = cons.consolidate(cons.make_servers(8))
    for kwargs, name in (({"placement": "p"}, "placement"), ({"impact": 3}, "impact"),
                         ({"color_by": "size"}, "color_by"), ({"title": 7}, "title")):
        args = {"placement": p, **kwargs}
        with pytest.raises((TypeError, ValueError), match=name):
            vc.host_map_scene(**args)
        with pytest.raises((TypeError, ValueError), match=name):
            vc.host_map(**args)
    for f in (vc.placement_heatmap_scene, vc.placement_figure_scene, vc.placement_heatmap,
              vc.placement_figure):
        with pytest.raises(TypeError, match="placement"):
            f(None)


@settings(max_examples=25, deadline=None)
@given(servers=st.integers(1, 60), seed=st.integers(0, 50),
       cpus=st.sampled_from([8.0, 16.0, 32.0]), failed=st.integers(0, 30), spares=st.integers(0, 3), restart=st.booleans())
def test_any_failure_draws_a_box_per_vm_and_the_figure_holds_the_same_texts(
        servers, seed, cpus, failed, spares, restart):
    p = cons.consolidate(cons.make_servers(servers, seed=seed),
                         host=cons.HostSpec(cpus=cpus, memory_gb=512.0))
    impact = av.host_failure(p, failed % p.hosts_after, spares=spares, restart=restart)
    scene = vc.host_map_scene(p, impact)
    moved_away = sum(1 for _n, w in impact.restarted)
    assert len(items(scene, "rect", coords="data")) == len(p.servers) + moved_away
    fig = scene.figure()
    drawn = [t.get_text() for t in fig.axes[0].texts] + [fig.axes[0].get_title()]
    assert sorted(drawn) == sorted(texts(scene))


# -- the apps --------------------------------------------------------------------
APPS = {"consolidation_lab": consolidation_lab, "failure_lab": failure_lab,
        "cloud_lab": cloud_lab}


def test_failure_lab_marks_what_the_model_says():
    app = failure_lab(servers=30, spares=1, restart=True, failed_host=2)
    p, impact, _r = app.result
    scene = app.draw(app.result)
    assert scene.panels[0].title.startswith(f"host 2 fails: {len(impact.vms_down)} VMs down")
    spare = [x for x, s in tick_labels(scene, "x") if s.startswith("spare")]
    targets = {w for _n, w in impact.restarted}
    assert len(spare) == len([t for t in targets if t.startswith("spare")])
    assert b"<pattern" not in bytes(app.image_bytes)       # no hatch pattern in the SVG


def test_cloud_lab_title_and_tenant_colours_follow_the_maintenance():
    app = cloud_lab()
    p, _report, m = app.result
    scene = app.draw(app.result)
    title = scene.panels[0].title
    assert title.startswith(f"maintenance on host {m.host}: {len(m.moves)} VMs live-migrated")
    assert f"in {m.evacuation.total_time_s:.0f} s" in title
    dotted = [a for a in items(scene, "line", coords="data") if a[4] == "dotted"]
    assert len(dotted) == len(m.moves)
    app.controls["maintenance_host"].value = 1
    assert app.draw(app.result).panels[0].title.startswith("maintenance on host 1:")


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_pictures_speak_german(german, name):
    app = APPS[name]()
    shown = " ".join(texts(app.draw(app.result)))
    assert ("Tagesstunde" if name == "consolidation_lab" else "Kapazität") in shown
    assert "capacity" not in shown and "hour of day" not in shown


def test_static_figures_still_render():
    p = cons.consolidate([cons.Server("only", [1.0] * 24, [1.0] * 24)])
    assert to_png(vc.placement_heatmap(p)) and to_png(vc.host_map(p))
    assert len(vc.placement_figure(p).axes) == 2
