"""Figures of the real machine: what they draw follows the data."""

import pytest
from matplotlib.patches import Rectangle

from virtlab.viz import host as hv


def _bars(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_engine_speeds_draws_one_bar_per_available_engine():
    fig = hv.engine_speeds([("native", 2e9), ("KVM", None), ("TCG", 4e7)])
    ax = fig.axes[0]
    widths = sorted(b.get_width() for b in _bars(ax))
    assert widths == [40.0, 2000.0]                      # millions per second
    texts = [t.get_text() for t in ax.texts]
    assert "not available here" in texts and any("(50x slower)" in t for t in texts)


def test_exit_counts_pairs_real_and_model_per_reason():
    fig = hv.exit_counts({"IO": 6, "HLT": 1}, {"IO": 6, "MMIO": 2, "HLT": 1})
    ax = fig.axes[0]
    heights = [b.get_height() for b in _bars(ax)]
    assert heights == [6, 1, 0, 6, 1, 2]                 # real: IO, HLT, MMIO; then model
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "KVM_EXIT_IO", "KVM_EXIT_HLT", "KVM_EXIT_MMIO"]


@pytest.mark.parametrize("rows", [[], "native", None])
def test_engine_speeds_rejects_bad_rows(rows):
    with pytest.raises((TypeError, ValueError)):
        hv.engine_speeds(rows)
