"""Containers-vs-VMs and attack-surface figures."""

from virtlab import containers as ct
from virtlab.viz import containers as vc
from virtlab.viz import to_png


def test_comparison_figure_shows_both_stacks_and_density():
    comp = ct.compare(instances=3)
    fig = vc.comparison_figure(comp)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "containers" in texts and "virtual machines" in texts and "hypervisor" in texts
    heights = sorted(p.get_height() for p in fig.axes[1].patches)
    assert heights == sorted([comp.container.density, comp.vm.density])
    assert to_png(fig)


def test_attack_surface_labels_every_row_with_its_status():
    fig = vc.attack_surface_figure()
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    for row in ct.ATTACK_SURFACE:
        assert row[4] in texts
    assert to_png(fig)


def test_attack_surface_gives_disk_and_memory_their_own_axis():
    fig = vc.attack_surface_figure()
    labels = [[t.get_text() for t in ax.get_yticklabels()] for ax in fig.axes]
    disk, memory = labels
    assert all("memory" not in t for t in disk) and all("memory" in t for t in memory)
    assert len(disk) + len(memory) == len(ct.ATTACK_SURFACE)
