"""Widgets for notebook 10: interrupt routing and the three device models.

``interrupt_lab`` assigns the NIC and the disk to domains (dom0's split
driver, or passthrough to a domU), sends a burst of packets and disk
requests, and shows the routing graph with per-domain virtual interrupts and
latency.  ``io_models_lab`` runs one workload through an emulated, a
paravirtual and a passthrough device side by side.

Examples
--------
>>> app = interrupt_lab(packets=8, disk_reqs=0)
>>> app.result.trace.delivered_by_owner()
{'dom0': 8}
>>> app.controls["nic_owner"].value = "domU1"
>>> app.result.trace.delivered_by_owner()
{'domU1': 8}
>>> app.controls["packet_target"].value = "domU2"   # the NIC now belongs to domU1
>>> app.error
"events[0]: target 'domU2' cannot receive from 'nic', which is passed through to 'domU1'"
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as W

from ..devices import IOComparison, MODES, compare_io, disk_requests, merge_events, packet_burst
from ..errors import check_bool, check_choice, check_int
from ..i18n import N_, _
from ..interrupts import InterruptTrace, Platform, round_robin_schedule, simulate_interrupts
from ..viz.interrupts import MODE_LABELS, io_comparison_scene, routing_scene
from .base import WidgetApp

__all__ = ["APPS", "InterruptLabApp", "InterruptLabResult", "IOModelsApp", "interrupt_lab",
           "io_models_lab"]

_OWNERS = [(N_("dom0 (split driver)"), "dom0"), (N_("domU1 (passthrough)"), "domU1"),
           (N_("domU2 (passthrough)"), "domU2")]
def _owners() -> list[tuple[str, str]]:
    return [(_(label), value) for label, value in _OWNERS]


_TARGETS = [("domU1", "domU1"), ("domU2", "domU2"), ("dom0", "dom0")]
_STYLE = {"description_width": "initial"}


@dataclass(frozen=True)
class InterruptLabResult:
    """The platform as configured and the trace of the burst.

    Examples
    --------
    >>> interrupt_lab(disk_owner="domU2").result.platform.mode("disk")
    'passthrough'
    """

    platform: Platform
    trace: InterruptTrace
    shared_pcpu: bool


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th style='padding:0 6px'>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='padding:0 6px;text-align:right'>"
                                     f"{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


class InterruptLabApp(WidgetApp):
    """Routing of a burst of device interrupts (see the module docstring).

    Examples
    --------
    >>> app = InterruptLabApp(packets=2, disk_reqs=0, gap_us=50)
    >>> app.result.trace.summary()[1]
    ('domU1', 2, 2, 10.0, 10)
    """

    title = N_("Interrupt routing: hypervisor, dom0 backends, event channels, passthrough")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, nic_owner: str = "dom0", disk_owner: str = "dom0", packets: int = 16,
                 packet_target: str = "domU1", disk_reqs: int = 4, disk_target: str = "domU2",
                 gap_us: int = 2, shared_pcpu: bool = False):
        check_choice("nic_owner", nic_owner, [value for _, value in _OWNERS])
        check_choice("disk_owner", disk_owner, [value for _, value in _OWNERS])
        check_choice("packet_target", packet_target, [value for _, value in _TARGETS])
        check_choice("disk_target", disk_target, [value for _, value in _TARGETS])
        for name, value, hi in (("packets", packets, 64), ("disk_reqs", disk_reqs, 32),
                                ("gap_us", gap_us, 50)):
            check_int(name, value, minimum=0, maximum=hi)
        check_bool("shared_pcpu", shared_pcpu)
        controls = {
            "nic_owner": W.Dropdown(options=_owners(), value=nic_owner, description=_("NIC →"),
                                    style=_STYLE),
            "disk_owner": W.Dropdown(options=_owners(), value=disk_owner,
                                     description=_("disk →"),
                                     style=_STYLE),
            "packets": W.IntSlider(value=packets, min=0, max=64, description=_("packets"),
                                   style=_STYLE),
            "packet_target": W.Dropdown(options=_TARGETS, value=packet_target,
                                        description=_("packets for"), style=_STYLE),
            "disk_reqs": W.IntSlider(value=disk_reqs, min=0, max=32,
                                     description=_("disk requests"), style=_STYLE),
            "disk_target": W.Dropdown(options=_TARGETS, value=disk_target,
                                      description=_("disk for"), style=_STYLE),
            "gap_us": W.IntSlider(value=gap_us, min=0, max=50, description=_("packet gap µs"),
                                  style=_STYLE),
            "shared_pcpu": W.Checkbox(value=shared_pcpu,
                                      description=_("domUs share one pCPU (100 µs slices)"),
                                      style=_STYLE),
        }
        super().__init__(controls)

    def compute(self, nic_owner: str, disk_owner: str, packets: int, packet_target: str,
                disk_reqs: int, disk_target: str, gap_us: int,
                shared_pcpu: bool) -> InterruptLabResult:
        plat = Platform()
        plat.assign("nic", nic_owner)
        plat.assign("disk", disk_owner)
        events = merge_events(packet_burst(packet_target, packets, gap_us=gap_us),
                              disk_requests(disk_target, disk_reqs, start=5))
        schedule = (round_robin_schedule(["domU1", "domU2"], slice_us=100,
                                         duration_us=100_000) if shared_pcpu else None)
        trace = simulate_interrupts(plat, events, schedule=schedule)
        return InterruptLabResult(plat, trace, shared_pcpu)

    def draw(self, result: InterruptLabResult):
        return routing_scene(result.trace)     # a Scene: written as SVG, no matplotlib

    def describe(self, result: InterruptLabResult) -> str:
        t = result.trace
        rows = [[dom, handled, virqs, mean if handled else "–", mx if handled else "–"]
                for dom, handled, virqs, mean, mx in t.summary()]
        phys = t.delivered_by_owner()
        merged = len(t.events) - len(t.deliveries)
        owners = ", ".join(f"{d} → {o} ({m})" for d, o, m in t.owners)
        routed = ", ".join(f"{o}: {n}" for o, n in phys.items()) or _("nobody")
        text = _("{events} device interrupts; the hypervisor routed {delivered} physical "
                 "interrupts ({merged} merged into a line that was still pending) to {to}. "
                 "Still pending: {pending}.").format(
                     events=len(t.events), delivered=len(t.deliveries), merged=merged,
                     to=html.escape(routed), pending=len(t.pending))
        owners_label = _("Owners:")
        return (f"<p><b>{owners_label}</b> {html.escape(owners)}</p>"
                + _table([_("domain"), _("events handled"), _("virtual IRQs"),
                          _("mean latency µs"), _("max latency µs")], rows)
                + f"<p>{text}</p>")


def interrupt_lab(nic_owner: str = "dom0", disk_owner: str = "dom0", packets: int = 16,
                  packet_target: str = "domU1", disk_reqs: int = 4, disk_target: str = "domU2",
                  gap_us: int = 2, shared_pcpu: bool = False) -> InterruptLabApp:
    """Build the interrupt-routing app (notebook 10).

    Parameters
    ----------
    nic_owner, disk_owner : {"dom0", "domU1", "domU2"}
        Who gets the device: dom0 (real driver + split-driver backends) or a
        domU (passthrough).
    packets, disk_reqs : int
        Size of the packet burst and number of disk requests.
    packet_target, disk_target : str
        The domain the packets / disk blocks are for.
    gap_us : int
        Gap between packets (0: all at once).
    shared_pcpu : bool
        domU1 and domU2 take turns on one pCPU in 100 µs slices (dom0 has
        its own), so a virtual interrupt may wait for the next VM entry.

    Values outside the controls' ranges are refused with a ValueError
    naming the parameter.

    Examples
    --------
    >>> alone = interrupt_lab().result.trace
    >>> shared = interrupt_lab(shared_pcpu=True).result.trace   # domU2 waits for its slice
    >>> max(alone.latencies("domU2")), max(shared.latencies("domU2"))
    (35, 77)

    (The first disk completion, at 25 µs, reaches domU2 only at its slice
    start, 100 µs, plus the 2 µs handler: 102 − 25 = 77.)
    """
    owners = [v for _, v in _OWNERS]
    targets = [v for _, v in _TARGETS]
    check_choice("nic_owner", nic_owner, owners)
    check_choice("disk_owner", disk_owner, owners)
    check_int("packets", packets, minimum=0, maximum=64)
    check_choice("packet_target", packet_target, targets)
    check_int("disk_reqs", disk_reqs, minimum=0, maximum=32)
    check_choice("disk_target", disk_target, targets)
    check_int("gap_us", gap_us, minimum=0, maximum=50)
    check_bool("shared_pcpu", shared_pcpu)
    return InterruptLabApp(nic_owner=nic_owner, disk_owner=disk_owner, packets=packets,
                           packet_target=packet_target, disk_reqs=disk_reqs,
                           disk_target=disk_target, gap_us=gap_us, shared_pcpu=shared_pcpu)


class IOModelsApp(WidgetApp):
    """Emulated vs paravirtual vs passthrough on one workload.

    Examples
    --------
    >>> app = IOModelsApp(requests=4, gap_us=100)
    >>> [r.exits_per_request for r in app.result.results]
    [7.0, 2.0, 1.0]
    """

    title = N_("One workload, three device models: emulated, paravirtual, passthrough")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, kind: str = "nic", requests: int = 64, gap_us: int = 0, batch: int = 8,
                 coalesce: int = 1):
        check_choice("kind", kind, ["nic", "disk"])
        for name, value, lo, hi in (("requests", requests, 1, 256), ("gap_us", gap_us, 0, 100),
                                    ("batch", batch, 1, 32), ("coalesce", coalesce, 1, 32)):
            check_int(name, value, minimum=lo, maximum=hi)
        controls = {
            "kind": W.Dropdown(options=[(_("network (NIC)"), "nic"), (_("disk"), "disk")],
                               value=kind, description=_("device"), style=_STYLE),
            "requests": W.IntSlider(value=requests, min=1, max=256, description=_("requests"),
                                    style=_STYLE),
            "gap_us": W.IntSlider(value=gap_us, min=0, max=100, description=_("gap µs"),
                                  style=_STYLE),
            "batch": W.IntSlider(value=batch, min=1, max=32, description=_("PV batch"),
                                 style=_STYLE),
            "coalesce": W.IntSlider(value=coalesce, min=1, max=32,
                                    description=_("IRQ coalescing"), style=_STYLE),
        }
        super().__init__(controls)

    def compute(self, kind: str, requests: int, gap_us: int, batch: int,
                coalesce: int) -> IOComparison:
        return compare_io(requests=requests, kind=kind, gap_us=gap_us, batch=batch,
                          coalesce=coalesce)

    def draw(self, result: IOComparison):
        return io_comparison_scene(result)     # a Scene: written as SVG, no matplotlib

    def describe(self, result: IOComparison) -> str:
        yes, no = _("yes"), _("no")
        rows = [[_(MODE_LABELS.get(r.mode, r.mode)), r.exits, f"{r.exits_per_request:.2f}",
                 r.notifications, r.interrupts,
                 f"{r.mean_latency_us:.1f}", r.max_latency_us, f"{r.throughput_kops:.1f}",
                 yes if r.migratable else no, yes if r.shared else no]
                for r in result.results]
        note = _("Costs are illustrative (a VM exit ≈ 1 µs, facts.md §9); the counts follow "
                 "from the mechanisms.")
        return (_table([_("model"), _("VM exits"), _("exits/request"), _("notifications"),
                        _("interrupts"), _("mean latency µs"), _("max latency µs"),
                        _("k requests/s"), _("can migrate"), _("device shared")], rows)
                + f"<p>{note}</p>")


def io_models_lab(kind: str = "nic", requests: int = 64, gap_us: int = 0, batch: int = 8,
                  coalesce: int = 1) -> IOModelsApp:
    """Build the device-model comparison app (notebook 10).

    Parameters
    ----------
    kind : {"nic", "disk"}
    requests : int
        Requests in the workload.
    gap_us : int
        Gap between requests (0: one burst).
    batch : int
        Requests per notification in the paravirtual ring.
    coalesce : int
        Completions per interrupt (interrupt coalescing).

    Values outside the sliders' ranges are refused with a ValueError naming
    the parameter (the sliders would silently clamp them).

    Examples
    --------
    >>> app = io_models_lab(requests=32)
    >>> [r.mode for r in app.result.results] == list(MODES)
    True
    >>> before = app.result.by_mode("paravirtual").notifications
    >>> app.controls["batch"].value = 1
    >>> app.result.by_mode("paravirtual").notifications > before
    True
    """
    check_choice("kind", kind, ["nic", "disk"])
    check_int("requests", requests, minimum=1, maximum=256)
    check_int("gap_us", gap_us, minimum=0, maximum=100)
    check_int("batch", batch, minimum=1, maximum=32)
    check_int("coalesce", coalesce, minimum=1, maximum=32)
    return IOModelsApp(kind=kind, requests=requests, gap_us=gap_us, batch=batch,
                       coalesce=coalesce)


APPS: dict[str, Any] = {"interrupt_lab": interrupt_lab, "io_models_lab": io_models_lab}
