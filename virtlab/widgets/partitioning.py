"""App for notebook 03: assign a mainframe's resources to partitions.

Examples
--------
>>> app = partition_lab()
>>> app.result[0].pool_cpus
5
>>> app.controls["prod_memory"].value = 60       # 60 + 16 + 8 GiB > 64 GiB
>>> app.error
'partitions over-assign memory: 84 GiB requested, the machine has 64 GiB'
"""

from __future__ import annotations

import ipywidgets as W

from .. import partitioning as pt
from ..errors import check_int
from ..i18n import N_, _, language
from ..viz import partitioning as viz_pt
from .base import WidgetApp

__all__ = ["PartitionLab", "partition_lab"]

_NAMES = ("prod", "test", "dev")
#: how a partition's CPU mode is labelled (the model's values are the keys)
_MODES = {"dedicated": N_("dedicated"), "shared": N_("shared")}


class PartitionLab(WidgetApp):
    """Three LPARs on an 8-CPU, 64 GiB, 16-channel machine; static vs shared use."""

    title = N_("Partitioning a mainframe (LPAR / PR/SM)")
    # Picture and text depend on the control values only: rendered states are
    # cached (WidgetApp.state_cache, issue 21), a state shown before costs nothing.
    state_cache = 64

    def __init__(self, prod_cpus: int = 3, prod_memory: int = 24, test_weight: int = 2,
                 test_memory: int = 16, dev_weight: int = 1, dev_memory: int = 8,
                 seed: int = 0):
        for name, value, lo, hi in (("prod_cpus", prod_cpus, 0, 8),
                                    ("prod_memory", prod_memory, 1, 64),
                                    ("test_weight", test_weight, 1, 10),
                                    ("test_memory", test_memory, 1, 64),
                                    ("dev_weight", dev_weight, 1, 10),
                                    ("dev_memory", dev_memory, 1, 64), ("seed", seed, 0, 50)):
            check_int(name, value, lo, hi)
        def mem(v, name):
            return W.IntSlider(value=v, min=1, max=64,
                               description=_("{partition} GiB").format(partition=name))
        # The resource bars depend only on the configuration: a second image, cached per
        # configuration, so the demand seed redraws only the utilization plot.
        self.bars = W.Image(format="svg+xml", layout=W.Layout(max_width="100%"))
        self._bars_svg: dict[tuple, bytes] = {}
        controls = {
            "prod_cpus": W.IntSlider(value=prod_cpus, min=0, max=8,
                                     description=_("prod CPUs")),
            "prod_memory": mem(prod_memory, "prod"),
            "test_weight": W.IntSlider(value=test_weight, min=1, max=10,
                                       description=_("test weight")),
            "test_memory": mem(test_memory, "test"),
            "dev_weight": W.IntSlider(value=dev_weight, min=1, max=10,
                                      description=_("dev weight")),
            "dev_memory": mem(dev_memory, "dev"),
            "seed": W.IntSlider(value=seed, min=0, max=50, description=_("demand seed")),
        }
        super().__init__(controls, extra=[self.bars])

    def compute(self, prod_cpus, prod_memory, test_weight, test_memory, dev_weight,
                dev_memory, seed):
        machine = pt.Machine(cpus=8, memory_gb=64, channels=16)
        prod = (pt.Partition("prod", prod_memory, 6, dedicated_cpus=prod_cpus) if prod_cpus
                else pt.Partition("prod", prod_memory, 6, weight=1))
        parts = [prod, pt.Partition("test", test_memory, 4, weight=test_weight),
                 pt.Partition("dev", dev_memory, 2, weight=dev_weight)]
        a = pt.assign(machine, parts)
        ent = pt.entitlements(a)
        # three partitions on 8 CPUs: about 6 CPUs of demand on average, bursts above 8
        demand = pt.make_demand(list(_NAMES), steps=96, seed=seed, mean=2.0, burst=4.0)
        return a, pt.compare_static_shared(machine.cpus, demand, ent)

    def layer_images(self, result):
        assignment, _u = result
        key = (language(), assignment.partitions)    # its labels are in the current language
        if key not in self._bars_svg:
            if len(self._bars_svg) > 64:
                self._bars_svg.clear()
            self._bars_svg[key] = viz_pt.assignment_scene(assignment).svg()
        return {self.bars: self._bars_svg[key]}

    def draw(self, result):
        return viz_pt.utilization_scene(result[1])

    def describe(self, result):
        a, u = result
        rows = "".join(f"<tr><td>{n}</td><td>{_(_MODES[m]) if m in _MODES else m}</td>"
                       f"<td>{c:.2f}</td><td>{g}</td>"
                       f"<td>{ch}</td></tr>" for n, m, c, g, ch in a.rows())
        head = "".join(f"<th>{h}</th>" for h in (_("partition"), "CPUs", _("CPU entitlement"),
                                                  "GiB", _("channels")))
        text = _("Free: {gib} GiB, {channels} channels. Utilization static {static} vs shared "
                 "{shared}; unmet demand {static_unmet} vs {shared_unmet}.").format(
                     gib=a.free_memory_gb, channels=a.free_channels,
                     static=f"{u.static_util:.0%}", shared=f"{u.shared_util:.0%}",
                     static_unmet=f"{u.static_unmet:.0%}", shared_unmet=f"{u.shared_unmet:.0%}")
        return f"<table><tr>{head}</tr>{rows}</table><p>{text}</p>"


def partition_lab(prod_cpus: int = 3, prod_memory: int = 24, test_weight: int = 2,
                  test_memory: int = 16, dev_weight: int = 1, dev_memory: int = 8,
                  seed: int = 0) -> PartitionLab:
    """The partitioning app (notebook 03)."""
    return PartitionLab(prod_cpus, prod_memory, test_weight, test_memory, dev_weight,
                        dev_memory, seed)


APPS = {"partition_lab": partition_lab}
