"""Widget: hypervisor types side by side — stack diagram plus I/O cost per type.

Pick a stack (type 1, type 2, paravirtual, KVM, native, or one of the three VMI
back ends) and move the cost sliders: the left picture shows the chosen stack
with the path of one guest disk read, the right one what that read costs in
every stack.  Making world switches cheaper shrinks exactly the type-2 bar.

Examples
--------
>>> app = hypervisor_types_lab(stack="type2")
>>> app.result.stack.kind
'type2'
>>> before = app.result.costs["type2"].total
>>> app.controls["world_switch"].value = 20_000
>>> app.result.costs["type2"].total - before
28000
>>> app.result.costs["type1"].total == app.result.costs["type1"].total
True
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as W

from ..errors import check_choice, check_int
from ..hypervisor.stacks import (HypervisorStack, IoCost, STACK_KINDS, StackCosts, compare_stacks,
                                 get_stack, vmi_stacks)
from ..i18n import N_, _, language
from ..viz.base import to_svg
from ..viz.hypervisor import io_cost_bars_scene, stack_diagram
from .base import WidgetApp

__all__ = ["APPS", "HypervisorTypesApp", "HypervisorTypesResult", "hypervisor_types_lab"]

_CHOICES = [(N_("native (no VM)"), "native"), (N_("Typ 1 (ESX, Hyper-V, XenServer)"), "type1"),
            (N_("Typ 2 hosted (VMware Workstation)"), "type2"),
            (N_("Paravirtualisierung (Xen)"), "paravirtual"), ("KVM + QEMU", "kvm"),
            (N_("VMI: hardware back end"), "vmi_native"),
            (N_("VMI: VMware back end"), "vmi_vmware"), (N_("VMI: Xen back end"), "vmi_xen")]

#: How the cost categories of virtlab.hypervisor.stacks are shown in the step table
#: (English: the identifier itself; the keys stay the model's).
_CATEGORY_LABELS = {
    "syscall": N_("syscall"), "driver": N_("driver"), "device": N_("device"),
    "interrupt": N_("interrupt"), "copy_kib": N_("copy_kib"), "vm_exit": N_("vm_exit"),
    "user_exit": N_("user_exit"), "world_switch": N_("world_switch"),
    "host_syscall": N_("host_syscall"), "context_switch": N_("context_switch"),
    "device_emulation": N_("device_emulation"), "hypercall": N_("hypercall"),
    "event_channel": N_("event_channel"), "irq_injection": N_("irq_injection"),
}


@dataclass(frozen=True)
class HypervisorTypesResult:
    """What the app computed: the chosen stack and the I/O cost of every stack.

    Examples
    --------
    >>> from virtlab.hypervisor.stacks import compare_stacks, get_stack
    >>> r = HypervisorTypesResult(get_stack("kvm"), compare_stacks(), StackCosts())
    >>> r.costs["kvm"].total > r.costs["native"].total
    True
    """

    stack: HypervisorStack
    costs: dict[str, IoCost]
    cost_table: StackCosts


class HypervisorTypesApp(WidgetApp):
    """Stack diagram + I/O cost comparison (see module docstring).

    Examples
    --------
    >>> HypervisorTypesApp.title
    'Hypervisor types: layers and the cost of one guest I/O request'
    """

    title = N_("Hypervisor types: layers and the cost of one guest I/O request")
    # Picture and text depend on the control values only: rendered states are
    # cached (WidgetApp.state_cache, issue 21), a state shown before costs nothing.
    state_cache = 64

    def __init__(self, stack: str = "type2", size_kib: int = 4, world_switch: int = 6000,
                 vm_exit: int = 2000):
        check_choice("stack", stack, [value for _, value in _CHOICES])
        for name, value, lo, hi in (("size_kib", size_kib, 1, 256),
                                    ("world_switch", world_switch, 0, 30_000),
                                    ("vm_exit", vm_exit, 0, 10_000)):
            check_int(name, value, minimum=lo, maximum=hi)
        defaults = StackCosts()
        controls = {
            "stack": W.Dropdown(options=[(_(label), v) for label, v in _CHOICES], value=stack,
                                description=_("stack")),
            "size_kib": W.IntSlider(value=size_kib, min=1, max=256, description=_("I/O KiB")),
            "world_switch": W.IntSlider(value=world_switch, min=0, max=30_000, step=500,
                                        description=_("world switch")),
            "vm_exit": W.IntSlider(value=vm_exit, min=0, max=10_000, step=100,
                                   description=_("VM exit")),
        }
        self._defaults = defaults
        # The stack diagram only changes with the stack: it is a second image,
        # rendered once per stack and cached, so moving a cost slider redraws
        # only the bar chart (half the redraw time).
        self.diagram = W.Image(format="svg+xml", layout=W.Layout(max_width="100%"))
        self._diagram_png: dict[tuple[str, str], bytes] = {}
        super().__init__(controls, extra=[self.diagram])

    def compute(self, stack: str, size_kib: int, world_switch: int,
                vm_exit: int) -> HypervisorTypesResult:
        costs = StackCosts(**{**self._defaults.__dict__, "world_switch": world_switch,
                              "vm_exit": vm_exit})
        vmi = {s.kind: s for s in vmi_stacks()}     # the stacks speak the current language
        chosen = vmi[stack] if stack in vmi else get_stack(stack)
        return HypervisorTypesResult(chosen, compare_stacks(costs, size_kib, STACK_KINDS),
                                     costs)

    def layer_images(self, result: HypervisorTypesResult) -> dict:
        key = (language(), result.stack.kind)
        if key not in self._diagram_png:
            self._diagram_png[key] = to_svg(stack_diagram(result.stack, width=6.0,
                                                          height=3.6))
        return {self.diagram: self._diagram_png[key]}

    def draw(self, result: HypervisorTypesResult):
        title = _("one {kib} KiB read: cycles by step, every stack").format(
            kib=next(iter(result.costs.values())).size_kib)
        # a Scene: written as SVG directly, no matplotlib in the redraw (issue 21)
        return io_cost_bars_scene(result.costs, highlight=result.stack.kind, width=7.0,
                                  height=2.6, title=title)

    def describe(self, result: HypervisorTypesResult) -> str:
        s = result.stack
        parts = [f"<p><b>{html.escape(s.title)}</b>"]
        if s.examples:
            parts.append(" — " + _("e.g. {examples}").format(
                examples=html.escape(", ".join(s.examples))))
        parts.append(f"<br>{html.escape(s.summary)}</p>")
        if s.kind in result.costs:
            c = result.costs[s.kind]
            base = result.costs["native"].total
            rows = "".join(
                f"<tr><td>{i + 1}</td><td>{html.escape(step.actor)}</td>"
                f"<td>{html.escape(step.action)}</td>"
                f"<td>{html.escape(_(_CATEGORY_LABELS.get(step.category, step.category)))}"
                f"{' ×' + str(step.count) if step.count > 1 else ''}</td>"
                f"<td style='text-align:right'>{cyc:,}</td></tr>"
                for i, (step, cyc) in enumerate(c.steps))
            head = "".join(f"<th>{h}</th>" for h in ("#", _("who"), _("step"),
                                                      _("cost category"), _("cycles")))
            total = _("Total {cycles} cycles = {ratio}× native; {copies} copies, {switches} "
                      "world/context switches or user exits, {transitions} privilege "
                      "transitions. Costs are illustrative except the VM-exit and KVM "
                      "user-exit figures (facts.md §9).").format(
                          cycles=f"{c.total:,}", ratio=f"{c.total / base:.2f}",
                          copies=c.copies, switches=c.context_switches,
                          transitions=c.privilege_transitions)
            parts.append(f"<table><tr>{head}</tr>{rows}</table><p>{total}</p>")
        else:
            parts.append("<p>" + _("VMI picture (after Tanenbaum): the same guest kernel binary "
                                   "runs on every back end; the I/O bars compare the built-in "
                                   "stacks.") + "</p>")
        return "".join(parts)


def hypervisor_types_lab(stack: str = "type2", size_kib: int = 4, world_switch: int = 6000,
                     vm_exit: int = 2000) -> HypervisorTypesApp:
    """Build the hypervisor-types app (notebook 09).

    Parameters
    ----------
    stack : str
        Initially shown stack: one of ``native``, ``type1``, ``type2``,
        ``paravirtual``, ``kvm``, ``vmi_native``, ``vmi_vmware``, ``vmi_xen``.
    size_kib, world_switch, vm_exit : int
        Initial slider values (I/O size, cycles per world switch, per VM exit).

    Examples
    --------
    >>> hypervisor_types_lab(stack="kvm").result.stack.title
    'KVM (Kernel Virtual Machine)'
    """
    check_choice("stack", stack, [v for _, v in _CHOICES])
    check_int("size_kib", size_kib, minimum=1, maximum=256)
    check_int("world_switch", world_switch, minimum=0, maximum=30_000)
    check_int("vm_exit", vm_exit, minimum=0, maximum=10_000)
    return HypervisorTypesApp(stack=stack, size_kib=size_kib, world_switch=world_switch,
                              vm_exit=vm_exit)


APPS: dict[str, Any] = {"hypervisor_types_lab": hypervisor_types_lab}
