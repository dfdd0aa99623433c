"""Widget app for ballooning and overcommit (notebook 13).

One row per VM (balloon target, working set, the guest's own replacement
policy) plus the host's size and the hypervisor's reclaim policy; the figure
shows host free memory, guest free memory, balloon sizes and swapping over
time.

Examples
--------
>>> app = balloon_lab()
>>> app.result.balloon["vm1"][-1]
48
>>> app.controls["target_vm1"].value = 16
>>> app.result.balloon["vm1"][-1]
16
"""

from __future__ import annotations

import html

import ipywidgets as W

from .. import viz
from ..balloon import POLICIES, REPLACEMENTS, VMSpec, simulate
from ..errors import check_choice, check_int
from ..i18n import _, N_
from .base import WidgetApp

__all__ = ["BalloonApp", "balloon_lab"]

_STYLE = {"description_width": "initial"}
MEMORY = 128          # configured pages per VM in the lab
DEFAULTS = [(48, 60, "lru"), (32, 50, "fifo"), (0, 40, "random")]


class BalloonApp(WidgetApp):
    """Overcommitted host; per-VM balloon targets and workloads; reclaim policy.

    Examples
    --------
    >>> BalloonApp(vms=2).result.vms
    ('vm1', 'vm2')
    """

    title = N_("Ballooning: the hypervisor takes memory back without knowing the guest")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, *, vms: int = 3, policy: str = "balloon", host_frames: int = 256,
                 steps: int = 40, seed: int = 0, **per_vm):
        self.n = check_int("vms", vms, minimum=1, maximum=4)
        self.steps = check_int("steps", steps, minimum=1, maximum=400)
        self.seed = check_int("seed", seed, minimum=0)
        check_choice("policy", policy, POLICIES)
        # up to the 4-VM maximum: the default 256 is clamped to the slider's range for one VM
        check_int("host_frames", host_frames, minimum=64, maximum=MEMORY * 4)
        for key, value in per_vm.items():
            if key.startswith("repl_"):
                check_choice(key, value, REPLACEMENTS)
            else:
                check_int(key, value, minimum=0, maximum=2 * MEMORY)
        controls = {
            "policy": W.ToggleButtons(options=[(_(viz.balloon.POLICY_LABELS.get(p, p)), p)
                                               for p in POLICIES],
                                      value=policy,
                                      description=_("reclaim by")),
            "host_frames": W.IntSlider(value=host_frames, min=64, max=MEMORY * self.n,
                                       step=8, description=_("host frames"), style=_STYLE,
                                       continuous_update=False),
        }
        self.rows = []
        for i in range(self.n):
            name = f"vm{i + 1}"
            t, ws, rep = DEFAULTS[i % len(DEFAULTS)]
            row = {
                f"target_{name}": W.IntSlider(
                    value=per_vm.pop(f"target_{name}", t), min=0, max=MEMORY - 4,
                    description=_("{vm} balloon target").format(vm=name), style=_STYLE,
                    continuous_update=False, layout=W.Layout(width="300px")),
                f"ws_{name}": W.IntSlider(
                    value=per_vm.pop(f"ws_{name}", ws), min=0, max=2 * MEMORY,
                    description=_("working set"), style=_STYLE, continuous_update=False,
                    layout=W.Layout(width="260px")),
                f"repl_{name}": W.Dropdown(
                    options=list(REPLACEMENTS), value=per_vm.pop(f"repl_{name}", rep),
                    description=_("guest policy"), style=_STYLE,
                    layout=W.Layout(width="190px")),
            }
            controls.update(row)
            self.rows.append(list(row.values()))
        if per_vm:
            raise ValueError(f"unknown keyword(s) {sorted(per_vm)}")
        super().__init__(controls)
        # one VM per row instead of the default wrapped row of controls
        layout = W.VBox([W.HBox([controls["policy"], controls["host_frames"]])]
                        + [W.HBox(r) for r in self.rows])
        children = list(self.widget.children)
        for i, child in enumerate(children):
            if isinstance(child, W.HBox):
                children[i] = layout
                break
        self.widget.children = children

    def compute(self, policy, host_frames, **rows):
        # a trace is immutable: a setting seen before reuses its run (bounded cache)
        key = (policy, host_frames, tuple(sorted(rows.items())))
        cache = self.__dict__.setdefault("_runs", {})
        if key not in cache:
            if len(cache) >= 64:
                cache.clear()
            cache[key] = self._run(policy, host_frames, **rows)
        return cache[key]

    def _run(self, policy, host_frames, **rows):
        specs = []
        for i in range(self.n):
            name = f"vm{i + 1}"
            specs.append(VMSpec(name, MEMORY, rows[f"ws_{name}"], file_pages=40,
                                shared_pages=min(20, rows[f"ws_{name}"]),
                                replacement=rows[f"repl_{name}"],
                                balloon_target=rows[f"target_{name}"], accesses=60))
        return simulate(host_frames, specs, policy=policy, steps=self.steps, rate=16,
                        seed=self.seed)

    def draw(self, trace):
        return viz.balloon.timeline_scene(trace)

    def describe(self, trace):
        rows = []
        for name in trace.vms:
            c = trace.counters[name]
            rows.append((name, trace.balloon[name][-1], trace.resident[name][-1],
                         c["guest_swap_out"] + c["guest_swap_in"], c["disk_reads"],
                         c["hv_swap_out"] + c["hv_swap_in"], c["double_paging"]))
        head = ["VM", _("balloon"), _("host frames used"), _("guest swap I/O"),
                _("guest disk reads"), _("hypervisor swap I/O"), _("double paging")]
        cells = "".join("<tr>" + "".join(f"<td style='padding:2px 8px'>{html.escape(str(v))}"
                                         "</td>" for v in r) + "</tr>" for r in rows)
        ths = "".join(f"<th style='padding:2px 8px'>{h}</th>" for h in head)
        total = sum(MEMORY for _ in trace.vms)
        summary = _("{total} pages configured on {frames} host frames (overcommit "
                    "{ratio}×); {free} host frames free at the end; {shared} shared frames.")
        return (f"<table><tr>{ths}</tr>{cells}</table><p>"
                + summary.format(total=total, frames=trace.host_frames,
                                 ratio=f"{total / trace.host_frames:.2f}",
                                 free=trace.host_free[-1], shared=trace.shared[-1]) + "</p>")


def balloon_lab(**kwargs) -> BalloonApp:
    """Widget: one VM per row (balloon target, working set, guest policy) and a time plot.

    Examples
    --------
    >>> balloon_lab(policy="swap").result.policy
    'swap'
    """
    return BalloonApp(**kwargs)


APPS = {"balloon_lab": balloon_lab}
