"""Consolidation, failure and availability figures."""

from virtlab import availability as av
from virtlab import consolidation as cons
from virtlab.viz import consolidation as vc
from virtlab.viz import to_png


def test_placement_figure_heat_map_has_a_row_per_host():
    # the heat map is a scene panel (issue 21): a row of boxes per host covering
    # the 24 hours, drawn in the figure's first Axes
    p = cons.consolidate(cons.make_servers(30, seed=2))
    scene = vc.placement_figure_scene(p)
    heat = scene.panels[0]
    cells = [a for k, q, (c, _o), _z, *a in scene.items if k == "rect" and q is heat]
    for row in range(p.hosts_after):
        runs = sorted((x, x + w) for x, y, w, h, *_ in cells if y < row < y + h)
        assert runs[0][0] == -0.5 and runs[-1][1] == 23.5
        assert all(b >= a2 for (_a1, b), (a2, _b2) in zip(runs, runs[1:]))   # no gap
    assert heat.ylim == (p.hosts_after - 0.5, -0.5)
    fig = vc.placement_figure(p)
    ax = fig.axes[0]
    shown = " ".join([ax.get_title()] + [t.get_text() for t in ax.texts])
    assert f"{p.hosts_after} hosts" in shown
    assert to_png(fig)


def test_host_map_stacks_never_exceed_capacity_and_mark_the_failure():
    # the host map is a scene (issue 21): tick labels are its texts on the x
    # axis, the VMs its boxes
    p = cons.consolidate(cons.make_servers(20, seed=1), "complementary")
    impact = av.host_failure(p, 0, spares=1, restart=True)
    scene = vc.host_map_scene(p, impact)
    labels = [a[2] for k, _q, (c, _o), _z, *a in scene.items if k == "text" and c == "xaxis"]
    assert labels[-1] == "spare 0" and len(labels) == p.hosts_after + 1
    tops = [a[1] + a[3] for k, _q, (c, _o), _z, *a in scene.items if k == "rect" and c == "data"]
    assert max(tops) <= p.host.cpus + 1e-6
    fig = vc.host_map(p, impact)
    assert "host 0 fails" in fig.axes[0].get_title()
    assert labels == [t.get_text() for t in fig.axes[0].texts if t.get_text() in labels]
    assert to_png(vc.host_map(p, title="custom", color_by="tenant"))


def test_one_server_one_host():
    p = cons.consolidate([cons.Server("only", [1.0] * 24, [1.0] * 24)])
    assert to_png(vc.placement_figure(p)) and to_png(vc.host_map(p))
    assert to_png(vc.availability_figure(av.compare_measures(p.servers)))
