"""App for notebook 04: live migration (pre-copy vs stop-and-copy vs post-copy).

Examples
--------
>>> app = migration_lab()
>>> app.result["pre-copy"].stop_reason
'few_pages'
>>> app.controls["bandwidth_mbit"].value = 100
>>> app.result["pre-copy"].downtime_s > 0.1
True
"""

from __future__ import annotations

import html

import ipywidgets as W

from .. import migration as mig
from ..errors import check_bool, check_choice, check_int
from ..i18n import N_, _
from ..viz import migration as viz_mig
from .base import WidgetApp

__all__ = ["MigrationLab", "migration_lab"]

_REASONS = {
    "few_pages": N_("the last pre-copy round sent fewer than 50 pages: the dirty set converged"),
    "max_iters": N_("the round limit (29 pre-copy rounds) was reached: the VM dirties pages "
                 "about as fast as the link sends them"),
    "max_factor": N_("more than 3× the VM's memory was sent: pre-copy gave up"),
    "rate_limit": N_("the sending rate was at its maximum and the dirty set grew again"),
}


class MigrationLab(WidgetApp):
    """Memory, dirty rate, writable working set and bandwidth → rounds and downtime."""

    title = N_("Live migration: pre-copy rounds and downtime")
    # Picture and text depend on the control values only: rendered states are
    # cached (WidgetApp.state_cache, issue 21), a state shown before costs nothing.
    state_cache = 64

    def __init__(self, memory_mb: int = 2048, dirty_rate_mbit: int = 200, wws_mb: int = 256,
                 bandwidth_mbit: int = 1000, method: str = "pre-copy",
                 adaptive: bool = False):
        check_int("memory_mb", memory_mb, 128, 16384)
        check_int("dirty_rate_mbit", dirty_rate_mbit, 0, 5000)
        check_int("wws_mb", wws_mb, 1, 16384)
        check_int("bandwidth_mbit", bandwidth_mbit, 10, 10000)
        check_choice("method", method, mig.METHODS)
        check_bool("adaptive", adaptive)
        super().__init__({
            "memory_mb": W.IntSlider(value=memory_mb, min=128, max=16384, step=128,
                                     description=_("memory MiB")),
            "dirty_rate_mbit": W.IntSlider(value=dirty_rate_mbit, min=0, max=5000, step=10,
                                           description=_("dirty Mbit/s")),
            "wws_mb": W.IntSlider(value=wws_mb, min=1, max=16384, step=1,
                                  description=_("WWS MiB")),
            "bandwidth_mbit": W.IntSlider(value=bandwidth_mbit, min=10, max=10000, step=10,
                                          description=_("link Mbit/s")),
            "method": W.Dropdown(options=list(mig.METHODS), value=method,
                                 description=_("show")),
            "adaptive": W.Checkbox(value=adaptive, description=_("adaptive rate (Clark §5.3)")),
        })

    def compute(self, memory_mb, dirty_rate_mbit, wws_mb, bandwidth_mbit, method, adaptive):
        rate = mig.AdaptiveRate() if adaptive else None
        return mig.compare(memory_mb, bandwidth_mbit, dirty_rate_mbit, wws_mb, rate=rate)

    def draw(self, result):
        # the rounds only: the method comparison is the table below
        return viz_mig.rounds_scene(result[self.controls["method"].value])

    def describe(self, result):
        rows = "".join(
            f"<tr><td>{m}</td><td>{r.downtime_s * 1000:,.1f} ms</td>"
            f"<td>{r.total_time_s:,.2f} s</td><td>{r.data_sent_mb:,.0f} MiB</td>"
            f"<td>{len(r.rounds)}</td></tr>" for m, r in result.items())
        pre = result["pre-copy"]
        why = _(_REASONS[pre.stop_reason]) if pre.stop_reason in _REASONS else pre.stop_reason
        stopped = _("Pre-copy stopped because {why}.").format(why=html.escape(why))
        post = _("Post-copy: about {pages} pages fetched on demand (<i>remote faults</i>) "
                 "while the VM already runs on the target.").format(
                     pages=f"{result['post-copy'].remote_faults:,.0f}")
        head = "".join(f"<th>{h}</th>" for h in (_("method"), _("downtime"), _("total time"),
                                                  _("data sent"), _("rounds")))
        return f"<table><tr>{head}</tr>{rows}</table><p>{stopped}</p><p>{post}</p>"


def migration_lab(memory_mb: int = 2048, dirty_rate_mbit: int = 200, wws_mb: int = 256,
                  bandwidth_mbit: int = 1000, method: str = "pre-copy",
                  adaptive: bool = False) -> MigrationLab:
    """The live-migration app (notebook 04)."""
    return MigrationLab(memory_mb, dirty_rate_mbit, wws_mb, bandwidth_mbit, method, adaptive)


APPS = {"migration_lab": migration_lab}
