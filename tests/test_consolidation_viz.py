"""Consolidation, failure and availability figures."""

from virtlab import availability as av
from virtlab import consolidation as cons
from virtlab.viz import consolidation as vc
from virtlab.viz import to_png


def test_placement_figure_heat_map_has_a_row_per_host():
    p = cons.consolidate(cons.make_servers(30, seed=2))
    fig = vc.placement_figure(p)
    image = fig.axes[0].images[0]
    assert image.get_array().shape == (p.hosts_after, 24)
    assert f"{p.hosts_after} hosts" in fig.axes[0].get_title()
    assert to_png(fig)


def test_host_map_stacks_never_exceed_capacity_and_mark_the_failure():
    p = cons.consolidate(cons.make_servers(20, seed=1), "complementary")
    impact = av.host_failure(p, 0, spares=1, restart=True)
    fig = vc.host_map(p, impact)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[-1] == "spare 0" and len(labels) == p.hosts_after + 1
    tops = [max(y for _, y in path.vertices) for coll in ax.collections
            for path in coll.get_paths()]
    assert max(tops) <= p.host.cpus + 1e-6
    assert "host 0 fails" in ax.get_title()
    assert to_png(vc.host_map(p, title="custom", color_by="tenant"))


def test_one_server_one_host():
    p = cons.consolidate([cons.Server("only", [1.0] * 24, [1.0] * 24)])
    assert to_png(vc.placement_figure(p)) and to_png(vc.host_map(p))
    assert to_png(vc.availability_figure(av.compare_measures(p.servers)))
