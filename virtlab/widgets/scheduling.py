"""Scheduling widgets: the scheduler lab and the co-scheduling lab.

``virtlab.widgets.scheduler_lab()`` — pick the scheduler (Credit / SEDF),
the co-scheduling mode, the number of pCPUs and each VM's weight, cap,
period and slice; the Gantt chart (pCPUs × time, coloured by VM) and the
share bars are redrawn, with a metrics table below.

``virtlab.widgets.cosched_lab()`` — a 4-vCPU VM with a spinlock next to CPU
hogs under none / strict / relaxed co-scheduling.

Examples
--------
>>> app = scheduler_lab(pcpus=1)
>>> round(sum(app.result.shares().values()), 2)
1.0
>>> app.controls["pcpus"].value = 2
>>> round(sum(app.result.shares().values()), 2)
2.0
"""

from __future__ import annotations

import functools
import html

import ipywidgets as W

from .. import viz
from ..errors import check_choice, check_int, check_number
from ..i18n import N_, _
from ..scheduler import COSCHED_MODES, CreditScheduler, scenarios, simulate
from .base import WidgetApp

__all__ = ["SchedulerLab", "CoschedLab", "scheduler_lab", "cosched_lab", "APPS"]

_NARROW = {"description_width": "88px"}
#: column headers of the result tables (the keys are the model's row keys)
_COLUMNS = {"vm": N_("VM"), "vcpus": N_("vCPUs"), "share": N_("share"), "wait_ms": N_("wait ms"),
            "median_wakeup_ms": N_("median wake-up ms"), "deadline_misses": N_("missed deadlines"),
            "skew_ms": N_("skew ms")}
#: co-scheduling modes (the values stay the model's)
_COSCHED = {"none": N_("none"), "strict": N_("strict"), "relaxed": N_("relaxed")}


def _slider(cls, value, lo, hi, step, label):
    return cls(value=value, min=lo, max=hi, step=step, description=label, style=_NARROW,
               continuous_update=False, layout=W.Layout(width="260px"))


def _triple(name, values, lo, hi):
    """Validate a per-VM preset: a sequence of 3 integers within the slider's range."""
    if not isinstance(values, (tuple, list)) or len(values) != len(scenarios.LAB_VMS):
        raise ValueError(f"{name} must be a sequence of {len(scenarios.LAB_VMS)} integers, "
                         f"got {values!r}")
    return tuple(check_int(f"{name}[{i}]", v, minimum=lo, maximum=hi)
                 for i, v in enumerate(values))


def _table(rows, columns) -> str:
    head = "".join(f"<th style='padding:0 6px'>{html.escape(_(_COLUMNS.get(c, c)))}</th>"
                   for c in columns)
    body = ""
    for r in rows:
        cells = "".join(f"<td style='padding:0 6px;text-align:right'>"
                        f"{html.escape('–' if r.get(c) is None else str(r.get(c)))}</td>"
                        for c in columns)
        body += f"<tr>{cells}</tr>"
    return f"<table style='font-size:12px'><tr>{head}</tr>{body}</table>"


class SchedulerLab(WidgetApp):
    """Credit / SEDF on three VMs (web: I/O-bound, db and batch: 2 CPU-bound vCPUs)."""

    title = N_("vCPU scheduling lab (Credit / SEDF)")
    # Picture and text depend on the control values only: rendered states are
    # cached (WidgetApp.state_cache, issue 21), a state shown before costs nothing.
    state_cache = 64

    def __init__(self, scheduler="credit", cosched="none", pcpus=2,
                 weights=(256, 256, 256), caps=(0, 0, 0), periods_ms=(20, 100, 100),
                 slices_ms=(5, 0, 0), window_ms=150.0, duration_ms=600.0, seed=0):
        # presets are validated here, so a bad preset names itself (not a traitlets error)
        check_choice("scheduler", scheduler, ("credit", "sedf", "rr"))
        check_choice("cosched", cosched, COSCHED_MODES)
        check_int("pcpus", pcpus, minimum=1, maximum=8)
        weights = _triple("weights", weights, 32, 1024)
        caps = _triple("caps", caps, 0, 200)
        periods_ms = _triple("periods_ms", periods_ms, 5, 200)
        slices_ms = _triple("slices_ms", slices_ms, 0, 100)
        self.window_ms = check_number("window_ms", window_ms, minimum=1.0, maximum=10_000.0)
        self.duration_ms = check_number("duration_ms", duration_ms, minimum=1.0,
                                        maximum=60_000.0)
        self.seed = check_int("seed", seed, minimum=0, maximum=2**63 - 1)
        controls = {
            "scheduler": W.Dropdown(options=[("Credit", "credit"), ("SEDF", "sedf"),
                                             (_("round robin"), "rr")],
                                    value=scheduler, description=_("scheduler"),
                                    style=_NARROW, layout=W.Layout(width="260px")),
            "cosched": W.Dropdown(options=[(_(v), k) for k, v in _COSCHED.items()],
                                  value=cosched, description=_("co-sched"), style=_NARROW,
                                  layout=W.Layout(width="260px")),
            "pcpus": _slider(W.IntSlider, pcpus, 1, 8, 1, "pCPUs"),
        }
        for i, (name, _w, _c) in enumerate(scenarios.LAB_VMS):
            controls[f"{name}_weight"] = _slider(W.IntSlider, weights[i], 32, 1024, 32,
                                                 _("{vm} weight").format(vm=name))
            controls[f"{name}_cap"] = _slider(W.IntSlider, caps[i], 0, 200, 10,
                                              _("{vm} cap %").format(vm=name))
            controls[f"{name}_period"] = _slider(W.IntSlider, periods_ms[i], 5, 200, 5,
                                                 _("{vm} period").format(vm=name))
            controls[f"{name}_slice"] = _slider(W.IntSlider, slices_ms[i], 0, 100, 1,
                                                _("{vm} slice").format(vm=name))
        super().__init__(controls)

    def compute(self, scheduler, cosched, pcpus, **per_vm):
        # a trace is immutable: moving a slider back to a value seen before
        # reuses its run (bounded cache, per app)
        key = (scheduler, cosched, pcpus, tuple(sorted(per_vm.items())))
        cache = self.__dict__.setdefault("_runs", {})
        if key not in cache:
            if len(cache) >= 64:
                cache.clear()
            cache[key] = self._run(scheduler, cosched, pcpus, **per_vm)
        return cache[key]

    def _run(self, scheduler, cosched, pcpus, **per_vm):
        names = [n for n, _, _ in scenarios.LAB_VMS]
        return scenarios.lab(
            scheduler=scheduler, cosched=cosched, pcpus=pcpus,
            weights=tuple(per_vm[f"{n}_weight"] for n in names),
            caps=tuple(per_vm[f"{n}_cap"] for n in names),
            periods_ms=tuple(per_vm[f"{n}_period"] for n in names),
            slices_ms=tuple(per_vm[f"{n}_slice"] for n in names),
            duration_ms=self.duration_ms, seed=self.seed)

    def draw(self, result):
        return viz.scheduling.lab_scene(result, window_ms=self.window_ms)

    def describe(self, result) -> str:
        if result.scheduler.startswith("credit"):
            used = _("weight and cap are used; period and slice are ignored")
        elif result.scheduler.startswith("sedf"):
            used = _("period and slice are used (slice 0 = no reservation, extra time only); "
                     "weight and cap are ignored")
        else:
            used = _("the textbook baseline: weight, cap, period and slice are all ignored")
        rows = result.summary()
        cols = ["vm", "vcpus", "share", "wait_ms", "median_wakeup_ms", "deadline_misses",
                "skew_ms"]
        shares = _("Shares over {ms} ms, Jain fairness (per weight) {jain}.").format(
            ms=result.duration_us // 1000, jain=f"{result.fairness():.3f}")
        return (f"<p style='font-size:12px'>{html.escape(result.scheduler)} — {used}. "
                f"{shares}</p>" + _table(rows, cols))


@functools.lru_cache(maxsize=64)
def _lock_vms(pcpus, hogs):
    # the scenario's VMs (a 10 ms run of each mode just to read them: cache it)
    return scenarios.lock_comparison(duration_ms=10.0, pcpus=pcpus, hogs=hogs)["none"].vms


class CoschedLab(WidgetApp):
    """Lock-holder preemption: a 4-vCPU VM with a spinlock under each co-scheduling mode."""

    title = N_("Co-scheduling and lock-holder preemption")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, mode="none", hogs=3, pcpus=4, duration_ms=500.0, seed=0):
        check_choice("mode", mode, COSCHED_MODES)
        check_int("hogs", hogs, minimum=0, maximum=6)
        check_int("pcpus", pcpus, minimum=4, maximum=8)
        self.duration_ms = check_number("duration_ms", duration_ms, minimum=1.0,
                                        maximum=60_000.0)
        self.seed = check_int("seed", seed, minimum=0, maximum=2**63 - 1)
        controls = {
            "mode": W.ToggleButtons(options=[(_(v), k) for k, v in _COSCHED.items()],
                                    value=mode, description=_("co-sched"), style=_NARROW),
            "hogs": _slider(W.IntSlider, hogs, 0, 6, 1, _("hogs")),
            "pcpus": _slider(W.IntSlider, pcpus, 4, 8, 1, "pCPUs"),
        }
        super().__init__(controls)

    def compute(self, mode, hogs, pcpus):
        # traces are immutable: a setting seen before reuses its run (bounded cache)
        cache = self.__dict__.setdefault("_runs", {})
        key = (mode, hogs, pcpus)
        if key not in cache:
            if len(cache) >= 64:
                cache.clear()
            vms = _lock_vms(pcpus, hogs)
            cache[key] = simulate(CreditScheduler(cosched=mode), vms, pcpus,
                                  self.duration_ms, seed=self.seed)
        return cache[key]

    def draw(self, result):
        return viz.scheduling.lab_scene(result, window_ms=120.0)

    def describe(self, result) -> str:
        w = result.workload("smp")
        secs = result.duration_us / 1e6
        held = sum(e - s for _, s, e, _ in result.reservations) / 1000
        text = _("smp: {rate} critical sections/s, CPU share {share}, spinning {spin} ms, "
                 "co-stopped {costop} ms, pCPUs held idle {held} ms, max skew {skew} ms "
                 "(over {ms} ms).")
        return "<p style='font-size:12px'>" + text.format(
            rate=f"{w.get('iterations', 0) / secs:.0f}", share=f"{result.share('smp'):.2f}",
            spin=f"{w.get('spin_us', 0) / 1000:.0f}",
            costop=f"{result.costop_us('smp') / 1000:.0f}", held=f"{held:.0f}",
            skew=f"{result.skew('smp') / 1000:.1f}", ms=result.duration_us // 1000) + "</p>"


def scheduler_lab(**kwargs) -> SchedulerLab:
    """The scheduler lab; keyword arguments preset its controls (see :class:`SchedulerLab`).

    Examples
    --------
    >>> scheduler_lab(scheduler="sedf", pcpus=1).result.scheduler
    'sedf (extra quantum 0.5 ms)'
    """
    return SchedulerLab(**kwargs)


def cosched_lab(**kwargs) -> CoschedLab:
    """The co-scheduling lab; keyword arguments preset its controls.

    Examples
    --------
    >>> cosched_lab(mode="strict").result.skew("smp")
    0
    """
    return CoschedLab(**kwargs)


APPS = {"scheduler_lab": scheduler_lab, "cosched_lab": cosched_lab}
