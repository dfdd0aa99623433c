"""Widget: binary translation vs hardware assistance on Adams & Agesen-style microbenchmarks.

Two knobs decide who wins: the price of a VM exit round trip (first-
generation VT-x/AMD-V: expensive; Nehalem with EPT ≈2,000 cycles [SplitX];
AMD SVM 2020 ≈1,360 [LKML]) and nested paging (EPT/NPT) on or off.  Every
microbenchmark of :mod:`virtlab.hypervisor.microbench` runs once per
configuration on the model CPU; the event counts are then priced with the
cost table, so moving the slider only re-prices (fast).

Expected picture (Adams & Agesen 2006; Agesen et al. 2012; facts.md §8):
without EPT and with expensive exits, BT wins on page-table work (ptemod,
pgfault, forkwait) and on exit-heavy kernel work (in, crwr); VT wins on
system calls and exceptions (no exit at all).  With EPT, VT wins on most
workloads.  All cycle prices except the exit costs are illustrative.

Examples
--------
>>> t = bt_vs_vt(vm_exit=4000, ept=False)
>>> t["ptemod"]["binary_translation"] < t["ptemod"]["hardware"]
True
>>> t["syscall"]["hardware"] < t["syscall"]["binary_translation"]
True
>>> t2 = bt_vs_vt(vm_exit=2000, ept=True)
>>> sum(winner(r) == "hardware" for r in t2.values()) > len(t2) / 2
True
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as W

from ..errors import check_bool, check_int, check_mapping, check_number, check_type
from ..hypervisor.costs import COSTS, CycleCosts
from ..hypervisor.microbench import MICROBENCHMARKS, cycles_table
from ..i18n import N_, _
from ..viz.hypervisor import grouped_bars_scene
from .base import WidgetApp

__all__ = ["APPS", "HardwareLabResult", "HardwareApp", "SVM_INSTRUCTIONS",
           "VMX_INSTRUCTION_GROUPS", "bt_vs_vt", "hardware_lab", "winner"]

#: Intel VMX instructions by group (facts.md §9).  Group sizes are from Intel SDM
#: vol. 3C §30.1 [P]; the members of the VMCS and VMX-management groups are
#: confirmed [P]; that the TLB and guest groups are INVEPT/INVVPID and
#: VMCALL/VMFUNC is [UNVERIFIED] (commonly stated, not read in the SDM here).
VMX_INSTRUCTION_GROUPS = {
    "VMCS maintenance (5) [P]": ("VMPTRLD", "VMPTRST", "VMCLEAR", "VMREAD", "VMWRITE"),
    "VMX management (4) [P]": ("VMXON", "VMLAUNCH", "VMRESUME", "VMXOFF"),
    "TLB management (2) [UNVERIFIED names]": ("INVEPT", "INVVPID"),
    "guest-available (2) [UNVERIFIED names]": ("VMCALL", "VMFUNC"),
}

#: AMD SVM (AMD-V, "Pacifica") instructions with one-line roles (facts.md §9, [S]).
SVM_INSTRUCTIONS = {
    "VMRUN": "enter the guest; rAX = address of the VMCB (control area + state-save area)",
    "VMLOAD": "load additional guest state from the VMCB",
    "VMSAVE": "save additional guest state to the VMCB",
    "VMMCALL": "hypercall from the guest to the VMM (Intel: VMCALL)",
    "STGI": "set the global interrupt flag",
    "CLGI": "clear the global interrupt flag",
    "INVLPGA": "invalidate a TLB entry of a given address space (ASID)",
    "SKINIT": "secure init and jump (trusted launch)",
}

def bt_vs_vt(vm_exit: float = 2000.0, ept: bool = True, costs: Any = None) -> dict:
    """Cycles per iteration for native, binary translation and VT, per microbenchmark.

    Parameters
    ----------
    vm_exit : float
        Price of one VM exit round trip for the VT column.
    ept : bool
        Nested paging on (EPT) or off (shadow page tables, CR3 loads exit).
    costs : virtlab.hypervisor.costs.CycleCosts, optional
        Other prices (default ``COSTS``).

    Returns
    -------
    dict
        ``{benchmark: {"native": c, "binary_translation": c, "hardware": c}}``.

    Examples
    --------
    >>> t = bt_vs_vt()
    >>> sorted(t["in"])
    ['binary_translation', 'hardware', 'native']
    >>> bt_vs_vt(vm_exit=-1)
    Traceback (most recent call last):
    ...
    ValueError: vm_exit must be a finite number in [0, 1000000], got -1.0
    """
    vm_exit = check_number("vm_exit", vm_exit, minimum=0, maximum=1_000_000)
    check_bool("ept", ept)
    costs = COSTS if costs is None else check_type("costs", costs, CycleCosts)
    # cycles_table measures each benchmark's events once (cached) and re-prices them.
    # 20 iterations, as before: measured with 50, every later redraw of this app
    # was ~25 ms slower (the larger warm-up runs leave more live objects behind).
    return cycles_table(costs.replace(vm_exit=vm_exit), ept=ept, iterations=20)


def winner(row: dict) -> str:
    """``"binary_translation"``, ``"hardware"`` or ``"tie"`` (within 1 %).

    Examples
    --------
    >>> winner({"native": 1, "binary_translation": 5, "hardware": 5})
    'tie'
    >>> winner({"native": 1, "binary_translation": 50, "hardware": 5})
    'hardware'
    """
    check_mapping("row", row)
    for key in ("binary_translation", "hardware"):
        if key not in row:
            raise ValueError(f"row must have a {key!r} entry")
        check_number(f"row[{key!r}]", row[key], minimum=0)
    bt, vt = row["binary_translation"], row["hardware"]
    if abs(bt - vt) <= 0.01 * max(bt, vt):
        return "tie"
    return "binary_translation" if bt < vt else "hardware"


@dataclass(frozen=True)
class HardwareLabResult:
    """Cycles per iteration per benchmark and the winner of each.

    Examples
    --------
    >>> r = HardwareLabResult(2000.0, True, {}, {}); r.ept
    True
    """

    vm_exit: float
    ept: bool
    table: dict
    winners: dict


class HardwareApp(WidgetApp):
    """BT vs VT on microbenchmarks with an exit-cost slider and an EPT switch.

    Examples
    --------
    >>> HardwareApp.title
    'Binary translation vs VT-x: who wins which microbenchmark?'
    """

    title = N_("Binary translation vs VT-x: who wins which microbenchmark?")
    # Picture and text depend on the control values only: rendered states are
    # cached (WidgetApp.state_cache, issue 21), a state shown before costs nothing.
    state_cache = 64

    def __init__(self, vm_exit: int = 4000, ept: bool = False):
        check_int("vm_exit", vm_exit, minimum=200, maximum=8000)
        check_bool("ept", ept)
        controls = {
            "vm_exit": W.IntSlider(value=vm_exit, min=200, max=8000, step=100,
                                   description=_("VM exit cycles"),
                                   style={"description_width": "initial"}),
            "ept": W.Checkbox(value=ept, description=_("nested paging (EPT/NPT)")),
        }
        super().__init__(controls)

    def compute(self, vm_exit: int, ept: bool) -> HardwareLabResult:
        table = bt_vs_vt(vm_exit, ept)
        return HardwareLabResult(float(vm_exit), ept, table,
                                 {k: winner(v) for k, v in table.items()})

    def draw(self, result: HardwareLabResult):
        nat = _("native")
        data = {k: {nat: max(v["native"], 1.0), "BT": max(v["binary_translation"], 1.0),
                    "VT": max(v["hardware"], 1.0)} for k, v in result.table.items()}
        title = (_("VM exit = {cycles} cycles, EPT on") if result.ept
                 else _("VM exit = {cycles} cycles, EPT off")).format(
                     cycles=f"{result.vm_exit:.0f}")
        # a Scene: written as SVG directly, no matplotlib in the redraw (issue 21)
        return grouped_bars_scene(
            data, log=True, ylabel=_("cycles per iteration (log)"), title=title,
            colors={nat: "#BBBBBB", "BT": "#E69F00", "VT": "#0072B2"}, width=7.5, height=3.0,
            xlabels=[f"{n}\n{_(_SHORT[result.winners[n]])}" for n in result.table])

    def describe(self, result: HardwareLabResult) -> str:
        rows = "".join(
            f"<tr><td>{n}</td><td>{html.escape(_(MICROBENCHMARKS[n]))}</td>"
            f"<td style='text-align:right'>{v['native']:,.0f}</td>"
            f"<td style='text-align:right'>{v['binary_translation']:,.0f}</td>"
            f"<td style='text-align:right'>{v['hardware']:,.0f}</td>"
            f"<td><b>{_(_LABEL[result.winners[n]])}</b></td>"
            "</tr>" for n, v in result.table.items())
        vt = sum(w == "hardware" for w in result.winners.values())
        head = "".join(f"<th>{h}</th>" for h in (_("benchmark"), "", _("native"), "BT", "VT",
                                                  _("winner")))
        text = _("VT wins {vt} of {n} microbenchmarks. Cycles are from the illustrative cost "
                 "table (only exit prices have sources); they are not Adams &amp; Agesen's "
                 "measurements.").format(vt=vt, n=len(result.winners))
        return f"<table><tr>{head}</tr>{rows}</table><p>{text}</p>"


_LABEL = {"binary_translation": "BT", "hardware": "VT", "tie": N_("tie")}
_SHORT = {"binary_translation": N_("BT wins"), "hardware": N_("VT wins"), "tie": N_("tie")}


def hardware_lab(vm_exit: int = 4000, ept: bool = False) -> HardwareApp:
    """Build the BT-vs-VT lab (notebook 08).

    Parameters
    ----------
    vm_exit : int
        Initial VM-exit price in cycles (200–8000).
    ept : bool
        Initial nested-paging setting.

    Examples
    --------
    >>> app = hardware_lab(vm_exit=2000, ept=True)
    >>> app.result.winners["ptemod"]
    'hardware'
    """
    check_int("vm_exit", vm_exit, minimum=200, maximum=8000)
    check_bool("ept", ept)
    return HardwareApp(vm_exit=vm_exit, ept=ept)


APPS: dict[str, Any] = {"hardware_lab": hardware_lab}
