"""Cycle breakdown: every stacked item has its own colour and the legend leaves the bars free."""

from virtlab.hypervisor import microbench, run_all
from virtlab.viz.cpu import cycle_breakdown


def test_cycle_breakdown_colours_distinct_and_legend_outside():
    results = run_all(microbench.workload(**microbench.TYPICAL_MIX))
    fig = cycle_breakdown({m: results[m] for m in ("native", "binary_translation",
                                                   "hardware", "paravirt")})
    ax = fig.axes[0]
    legend = ax.get_legend()
    colours = [tuple(h.get_facecolor()) for h in legend.legend_handles]
    assert len(colours) >= 9 and len(set(colours)) == len(colours)
    fig.canvas.draw()
    box = legend.get_window_extent()
    assert box.x0 >= ax.get_window_extent().x1          # right of the axes, over no bar
