"""Scheduling figures and scenarios: they draw what the trace says, and refuse nonsense."""

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Annotation

from virtlab import viz
from virtlab.scheduler import VM, CreditScheduler, SpinLock, simulate, scenarios
from virtlab.viz import scheduling as vs


@pytest.fixture(scope="module")
def trace():
    return simulate(CreditScheduler(), [VM("a"), VM("b", vcpus=2, weight=512)], 2, 200)


def test_gantt_draws_one_bar_per_run_interval_in_window(trace):
    fig = vs.gantt(trace, end_ms=200)
    ax = fig.axes[0]
    # broken_barh collections: one per (pCPU, VM); their rectangles = intervals
    n_rects = sum(len(c.get_paths()) for c in ax.collections)
    assert n_rects == len(trace.intervals)
    colors = vs.vm_colors(trace)
    assert colors["a"] != colors["b"]


def test_gantt_window_clips(trace):
    ax = vs.gantt(trace, start_ms=50, end_ms=100).axes[0]
    assert [float(x) for x in ax.get_xlim()] == [50.0, 100.0]


def test_share_bars_lengths_equal_shares(trace):
    ax = vs.share_bars(trace).axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([trace.share("a"), trace.share("b")])


def test_strict_gantt_shows_held_pcpus():
    t = scenarios.lock_comparison(duration_ms=400)["strict"]
    assert t.reservations
    fig = vs.gantt(t, end_ms=400)
    assert any("held for gang" in txt.get_text() for txt in fig.axes[0].get_legend().get_texts())


def test_mapping_figure_arrows_match_trace():
    t = scenarios.mapping_example()
    fig = vs.mapping_figure(t.vms, 2, t, t_ms=45)
    arrows = [c for c in fig.axes[0].texts if isinstance(c, Annotation)]
    running = sum(t.running_at(vm.name, k, 45_000) for vm in t.vms for k in range(vm.vcpus))
    assert running == 2                  # two pCPUs, both busy
    assert len(arrows) == running
    # without a trace: configuration only, no arrows
    fig2 = vs.mapping_figure(t.vms, 2)
    assert not [c for c in fig2.axes[0].texts if isinstance(c, Annotation)]


def test_comparison_figures_and_png():
    fig = vs.cosched_figure(scenarios.lock_comparison(duration_ms=200))
    assert isinstance(fig, Figure) and viz.to_png(fig)[:4] == b"\x89PNG"
    fig = vs.latency_figure(scenarios.latency_comparison(duration_ms=200))
    assert len(fig.axes) == 3


@pytest.mark.parametrize("call, name", [
    (lambda t: vs.gantt("x"), "trace"), (lambda t: vs.gantt(t, start_ms=-1), "start_ms"),
    (lambda t: vs.gantt(t, start_ms=100, end_ms=50), "end_ms"),
    (lambda t: vs.gantt(t, end_ms=float("nan")), "end_ms"),
    (lambda t: vs.share_bars(t, entitled=[1]), "entitled"),
    (lambda t: vs.lab_figure(t, window_ms=0), "window_ms"),
    (lambda t: vs.mapping_figure([], 2), "vms"), (lambda t: vs.mapping_figure(["a"], 2), "vms[0]"),
    (lambda t: vs.mapping_figure(t.vms, 0), "pcpus"),
    (lambda t: vs.mapping_figure(t.vms, 2, t, t_ms=10**9), "t_ms"),
    (lambda t: vs.cosched_figure({}), "traces"), (lambda t: vs.cosched_figure({"x": t}, "zz"), "vm"),
    (lambda t: vs.latency_figure([t]), "traces"), (lambda t: vs.latency_figure({"x": 1}), "traces"),
])
def test_viz_rejects(trace, call, name):
    with pytest.raises((ValueError, TypeError)) as e:
        call(trace)
    assert name in str(e.value)


@pytest.mark.parametrize("call, name", [
    (lambda: scenarios.lab(scheduler="cfs"), "scheduler"),
    (lambda: scenarios.lab(weights=(1, 2)), "weights"),
    (lambda: scenarios.lab(slices_ms=(-1, 0, 0)), "slices_ms"),
    (lambda: scenarios.lab(caps=(0, 0, -3)), "cap"),
    (lambda: scenarios.lock_comparison(pcpus=2), "pcpus"),
    (lambda: scenarios.latency_comparison(hogs=-1), "hogs"),
])
def test_scenarios_reject(call, name):
    with pytest.raises((ValueError, TypeError)) as e:
        call()
    assert name in str(e.value)


def test_lab_uses_parameters():
    light = scenarios.lab(pcpus=1, weights=(256, 256, 64), duration_ms=900)
    heavy = scenarios.lab(pcpus=1, weights=(256, 256, 1024), duration_ms=900)
    assert heavy.share("batch") > light.share("batch") + 0.2
    assert isinstance(simulate(CreditScheduler(), [VM("s", vcpus=2, workload=SpinLock())], 2, 10)
                      .intervals, tuple)


def test_cosched_figure_legend_hides_no_bar_and_vcpu_numbers_are_readable():
    from virtlab.scheduler.scenarios import lock_comparison
    from virtlab.viz.scheduling import cosched_figure
    fig = cosched_figure(lock_comparison(duration_ms=300))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    bars_ax = fig.axes[-1]
    legend = bars_ax.get_legend().get_window_extent(renderer)
    for bar in bars_ax.patches:
        if bar.get_height() > 0:
            assert not legend.overlaps(bar.get_window_extent(renderer))
    numbers = [t for ax in fig.axes[:-2] for t in ax.texts if t.get_text().isdigit()]
    assert numbers and min(t.get_fontsize() for t in numbers) >= 8
