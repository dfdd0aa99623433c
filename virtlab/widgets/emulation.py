"""Emulation vs virtualization: instruction-mix sliders → overhead per technique.

The same guest (a small OS + application from
:func:`virtlab.hypervisor.microbench.workload`) runs under trap-and-emulate,
binary translation, VT-x and paravirtualization; the sliders change its
instruction mix (computation per system call, port I/O, page-table updates,
control-register writes) and the VM-exit price.  The picture shows simulated
cycles relative to native, with the lecture's 5-10 % band.

To keep a redraw fast, each technique runs the guest with a one-iteration
compute loop, and the remaining ``4 x (compute - 1) x periods`` loop
instructions are added to its directly executed count: the loop is
innocuous, so every technique executes it directly at one cycle per
instruction (emulation interprets it).  This extrapolation is exact — tested
against full runs in ``tests/test_widgets_cpu.py``.  Emulation's cycles are
priced from the same instruction count (the interpreter executes exactly the
native instruction stream, tested in ``tests/test_hypervisor_equivalence.py``);
notebook 02 runs the interpreter itself.

Examples
--------
>>> app = emulation_lab(compute=2000)
>>> round(app.result.relative["native"], 3)
1.0
>>> before = app.result.relative["hardware"]
>>> app.controls["io"].value = 4
>>> app.result.relative["hardware"] > before
True
>>> app.set(compute=0)      # below the slider minimum: clamped, still a valid run
>>> app.error is None
True
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import ipywidgets as W

from ..hypervisor import run
from ..hypervisor.costs import COSTS, cycles
from ..hypervisor.microbench import workload
from ..i18n import N_, _
from ..viz.cpu import overhead_bars_scene
from ..errors import check_int
from .base import WidgetApp

__all__ = ["APPS", "EmulationLab", "EmulationLabResult", "emulation_lab"]

_MODES = ("trap_and_emulate", "binary_translation", "hardware", "paravirt")
#: How the table names the techniques (the keys are the models' mode names).
_MODE_LABELS = {"native": N_("native"), "emulation": N_("emulation"),
                "trap_and_emulate": N_("trap and emulate"),
                "binary_translation": N_("binary translation"), "hardware": N_("hardware"),
                "paravirt": N_("paravirtualization")}
#: Periods of the workload (as in ``microbench.TYPICAL_MIX``).
PERIODS = 4


@dataclass(frozen=True)
class EmulationLabResult:
    """Relative cycles (native = 1) per technique and the runs behind them."""

    relative: MappingProxyType
    runs: MappingProxyType
    instructions: int


def _runs(costs, syscalls, io, pt_updates, cr_writes):
    """The one-iteration runs per technique (validated by ``workload``)."""
    prog = workload(compute=1, syscalls=syscalls, io=io, pt_updates=pt_updates,
                    cr_writes=cr_writes, periods=PERIODS)
    return MappingProxyType({m: run(prog, m, costs=costs) for m in ("native",) + _MODES})


#: The runs do not depend on the ``compute`` slider and are immutable: cache
#: them.  Only exact ints are looked up (True == 1 and 1.0 == 1 must still
#: reach the validation in ``workload``).
_cached_runs = lru_cache(maxsize=256)(_runs)


def compute_mix(compute: int, syscalls: int, io: int, pt_updates: int, cr_writes: int,
                vm_exit: int) -> EmulationLabResult:
    """Run the workload with this mix under every technique.

    Examples
    --------
    >>> r = compute_mix(1000, 1, 1, 3, 0, 2000)
    >>> sorted(r.relative)[:3]
    ['binary_translation', 'emulation', 'hardware']
    """
    costs = COSTS.replace(vm_exit=vm_exit)
    compute = check_int("compute", compute, minimum=1, maximum=10_000_000)
    mix = (syscalls, io, pt_updates, cr_writes)
    if all(type(v) is int for v in mix + (vm_exit,)):
        runs = _cached_runs(costs, *mix)
    else:
        runs = _runs(costs, *mix)
    extra = 4 * (compute - 1) * PERIODS          # innocuous loop instructions not run
    total: dict[str, float] = {}
    for m, r in runs.items():
        ctr = dict(r.counters)
        ctr["direct"] = ctr.get("direct", 0) + extra
        total[m] = cycles(r.mode, ctr, costs)[0]     # EPT on, Xen back end: defaults
    n_instr = runs["native"].instructions + extra
    emu, _parts = cycles("emulation", {"interpreted": n_instr,
                                  "guest_traps": runs["native"].counters.get("guest_traps", 0)},
                    costs)
    rel = {"native": 1.0, "emulation": emu / total["native"]}
    for m in _MODES:
        rel[m] = total[m] / total["native"]
    order = ("native", "emulation") + _MODES
    return EmulationLabResult(MappingProxyType({k: rel[k] for k in order}),
                              runs, n_instr)


class EmulationLab(WidgetApp):
    """Sliders for the instruction mix; bars for the overhead per technique."""

    title = N_("Emulation vs virtualization: overhead per technique")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, compute: int = 12000, syscalls: int = 1, io: int = 1,
                 pt_updates: int = 3, cr_writes: int = 0, vm_exit: int = 2000):
        for name, value, lo, hi in (("compute", compute, 250, 40000),
                                    ("syscalls", syscalls, 0, 4), ("io", io, 0, 8),
                                    ("pt_updates", pt_updates, 0, 32),
                                    ("cr_writes", cr_writes, 0, 4),
                                    ("vm_exit", vm_exit, 200, 8000)):
            check_int(name, value, minimum=lo, maximum=hi)
        style = {"description_width": "150px"}
        lay = W.Layout(width="380px")
        controls = {
            "compute": W.IntSlider(value=compute, min=250, max=40000, step=250,
                                   description=_("loop iterations / syscall"), style=style,
                                   layout=lay),
            "syscalls": W.IntSlider(value=syscalls, min=0, max=4,
                                    description=_("system calls / period"), style=style,
                                    layout=lay),
            "io": W.IntSlider(value=io, min=0, max=8, description=_("port I/O / syscall"),
                              style=style, layout=lay),
            "pt_updates": W.IntSlider(value=pt_updates, min=0, max=32,
                                      description=_("page-table writes / syscall"),
                                      style=style, layout=lay),
            "cr_writes": W.IntSlider(value=cr_writes, min=0, max=4,
                                     description=_("CR writes / syscall"), style=style,
                                     layout=lay),
            "vm_exit": W.IntSlider(value=vm_exit, min=200, max=8000, step=100,
                                   description=_("VM exit (cycles)"), style=style, layout=lay),
        }
        super().__init__(controls)

    def compute(self, compute, syscalls, io, pt_updates, cr_writes, vm_exit):
        return compute_mix(compute, syscalls, io, pt_updates, cr_writes, vm_exit)

    def draw(self, result):
        # a Scene: written as SVG directly, no matplotlib in the redraw (issue 21)
        return overhead_bars_scene(dict(result.relative))

    def describe(self, result) -> str:
        rows = []
        for mode, rel in result.relative.items():
            r = result.runs.get(mode)
            if r is None:
                leaving = _("every instruction interpreted")
            else:
                c = r.counters
                parts = []
                for key, label in (("vmm_traps", _("traps to VMM")), ("callouts", _("callouts")),
                                   ("exits", _("VM exits")), ("hypercalls", _("hypercalls")),
                                   ("guest_traps", _("guest traps"))):
                    if c.get(key):
                        parts.append(f"{c[key]} {label}")
                leaving = ", ".join(parts) or "-"
            band = "✓" if 1.05 <= rel <= 1.10 else ""
            name = _(_MODE_LABELS[mode]) if mode in _MODE_LABELS else mode
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{rel:.3f}</td>"
                        f"<td>{(rel - 1) * 100:+.1f} %</td><td>{band}</td>"
                        f"<td>{html.escape(leaving)}</td></tr>")
        head = "".join(f"<th>{h}</th>" for h in (_("technique"), _("relative"), _("overhead"),
                                                  "5-10 %", _("events")))
        note = _("{n} guest instructions per technique; cycle prices from "
                 "virtlab.hypervisor.costs (VM exit: SplitX; the rest illustrative). "
                 "Trap-and-emulate is shown for its cost only: on X86_32 it is not correct "
                 "(notebook 06).").format(n=f"{result.instructions:,}")
        return f"<table><tr>{head}</tr>" + "".join(rows) + f"</table><p>{note}</p>"


def emulation_lab(**kwargs: Any) -> EmulationLab:
    """The instruction-mix explorer of notebook 02 (keyword args preset the sliders)."""
    return EmulationLab(**kwargs)


APPS = {"emulation_lab": emulation_lab}
