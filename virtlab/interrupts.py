"""The hypervisor as interrupt multiplexer (*Interruptverarbeitung*).

The lecture: *"Hypervisor ist in der Rolle des Multiplexers für
Interruptbearbeitung"* — every physical interrupt reaches the hypervisor
first; in Xen a privileged VM (dom0, the driver domain) drives the real
devices and talks to virtual drivers in the other VMs.  This module models

* the physical :class:`InterruptController` (IRQ lines, priorities, masking,
  pending bits, in-service bits and end-of-interrupt, as in an 8259 PIC in
  fully nested mode);
* a per-VM :class:`VirtualInterruptController` with the guest's interrupt
  flag (IF): with IF clear, virtual interrupts stay pending;
* a :class:`Platform`: domains, devices and who owns each device — the
  hypervisor (timer), the driver domain (real driver + split-driver backends)
  or one domU (passthrough through the IOMMU, exclusive);
* :func:`simulate_interrupts`: a discrete-event run on
  :class:`virtlab.sim.Simulator` that raises device interrupts, lets the
  hypervisor acknowledge and route each one to exactly one owner, injects
  virtual interrupts at the owner's next VM entry (so the latency depends on
  whether its vCPU is running: pass the vCPU run intervals, e.g. from the
  scheduler), runs the dom0 backend which notifies the domU's event channel,
  and records every event's journey.

Times are integer microseconds; the costs in :class:`InterruptCosts` are
illustrative round numbers (a VM exit is ≈1 µs, facts.md §9).

Examples
--------
>>> from virtlab.devices import packet_burst
>>> plat = Platform()
>>> trace = simulate_interrupts(plat, packet_burst("domU1", 3, gap_us=50))
>>> trace.delivered_by_owner()
{'dom0': 3}
>>> [s.actor for s in trace.journeys[0]]
['nic', 'hypervisor', 'hypervisor', 'dom0', 'dom0', 'domU1', 'domU1']
>>> trace.latencies("domU1")
[10, 10, 10]
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import networkx as nx

from .devices import Device, IOEvent, MAX_EVENTS, MAX_TIME_US, Step, default_devices
from .errors import check_bool, check_choice, check_int, check_str, check_type
from .scheduler import Trace
from .sim import Simulator

__all__ = [
    "HYPERVISOR", "EVTCHN_BASE",
    "InterruptController", "VirtualInterruptController", "Platform", "InterruptCosts",
    "Delivery", "Injection", "InterruptTrace", "simulate_interrupts",
    "round_robin_schedule", "schedule_from_trace", "routing_graph", "check_trace",
]

#: Owner name of devices the hypervisor keeps for itself (the timer).
HYPERVISOR = "hypervisor"
#: Virtual line of event-channel port ``p`` in a domU's controller: ``EVTCHN_BASE + p``
#: (or ``lines + p`` on a platform with more than 32 IRQ lines, so the two never clash).
EVTCHN_BASE = 32


# ---------------------------------------------------------------------------
# Interrupt controllers
# ---------------------------------------------------------------------------

class InterruptController:
    """A physical interrupt controller: IRQ lines with pending, mask and in-service bits.

    Each line has a priority (smaller number = more urgent; by default the
    line number, as in the 8259 PIC where IRQ 0, the timer, is most urgent).
    :meth:`raise_line` sets the line's pending bit; a second raise while the
    bit is still set *merges* with it (the device's status register tells the
    driver how much work there is).  A real 8259 keeps one pending bit (IRR)
    per line and loses the further edges; **model convention:** this
    controller also counts the merged edges behind each pending bit, so a
    notebook or exercise can show how many merged (8259A datasheet; facts.md
    section 12).  :meth:`acknowledge` hands out the most urgent pending,
    unmasked line that outranks everything in service; :meth:`eoi` ends it.

    Parameters
    ----------
    lines : int
        Number of IRQ lines (default 24, an I/O APIC).
    priorities : sequence of int, optional
        Priority per line (default: the line number).

    Examples
    --------
    >>> pic = InterruptController(8)
    >>> pic.mask(1)
    >>> for line in (3, 1, 5):
    ...     _ = pic.raise_line(line)
    >>> pic.acknowledge()          # line 1 is masked: 3 is the most urgent
    (3, 1)
    >>> pic.acknowledge() is None  # 5 does not outrank 3, which is in service
    True
    >>> pic.eoi(3)
    >>> pic.unmask(1)
    True
    >>> pic.acknowledge(), pic.pending
    ((1, 1), (5,))
    """

    def __init__(self, lines: int = 24, priorities: Sequence[int] | None = None):
        self.lines = check_int("lines", lines, minimum=1, maximum=256)
        if priorities is None:
            prio = list(range(self.lines))
        else:
            if isinstance(priorities, (str, bytes)) or not isinstance(priorities, Sequence):
                raise TypeError("priorities must be a sequence of integers, "
                                f"got {type(priorities).__name__}")
            if len(priorities) != self.lines:
                raise ValueError(f"priorities must have {self.lines} entries (one per line), "
                                 f"got {len(priorities)}")
            prio = [check_int("priorities", p, minimum=0, maximum=1_000_000) for p in priorities]
        self.priority = tuple(prio)
        self._count = [0] * self.lines         # merged events behind each pending bit
        self._pending: set[int] = set()        # lines whose pending bit is set
        self._masked = [False] * self.lines
        self._in_service: list[int] = []
        self.raised = 0
        self.acknowledged = 0

    def _line(self, line: Any) -> int:
        if type(line) is int and 0 <= line < self.lines:   # fast path
            return line
        return check_int("line", line, minimum=0, maximum=self.lines - 1)

    def _key(self, line: int) -> tuple[int, int]:
        return (self.priority[line], line)

    @property
    def pending(self) -> tuple[int, ...]:
        """Lines whose pending bit is set (masked or not), in line order."""
        return tuple(i for i, c in enumerate(self._count) if c)

    @property
    def masked(self) -> tuple[int, ...]:
        """Masked lines."""
        return tuple(i for i, m in enumerate(self._masked) if m)

    @property
    def in_service(self) -> tuple[int, ...]:
        """Lines acknowledged but not yet ended with :meth:`eoi`."""
        return tuple(self._in_service)

    def events_pending(self, line: int) -> int:
        """Number of merged events behind ``line``'s pending bit."""
        return self._count[self._line(line)]

    def raise_line(self, line: int) -> bool:
        """Raise ``line``; return True if this set its pending bit (False: merged)."""
        line = self._line(line)
        self._count[line] += 1
        self._pending.add(line)
        self.raised += 1
        return self._count[line] == 1

    def mask(self, line: int) -> None:
        """Mask ``line``: it can still become pending but is not acknowledged."""
        self._masked[self._line(line)] = True

    def unmask(self, line: int) -> bool:
        """Unmask ``line``; return True if it is pending (now deliverable)."""
        line = self._line(line)
        self._masked[line] = False
        return self._count[line] > 0

    def next_line(self) -> int | None:
        """The line :meth:`acknowledge` would return, without acknowledging it."""
        best = None
        for line in self._pending:
            if not self._masked[line] and (best is None or self._key(line) < self._key(best)):
                best = line
        if best is None:
            return None
        if self._in_service and not all(self._key(best) < self._key(s)
                                        for s in self._in_service):
            return None
        return best

    def acknowledge(self) -> tuple[int, int] | None:
        """Take the most urgent deliverable line: ``(line, merged events)`` or None."""
        line = self.next_line()
        if line is None:
            return None
        count, self._count[line] = self._count[line], 0
        self._pending.discard(line)
        self._in_service.append(line)
        self.acknowledged += count
        return line, count

    def eoi(self, line: int | None = None) -> None:
        """End of interrupt: clear ``line``'s in-service bit (default: the most urgent)."""
        if line is None:
            if not self._in_service:
                raise ValueError("line: no interrupt is in service")
            line = min(self._in_service, key=self._key)
        line = self._line(line)
        if line not in self._in_service:
            raise ValueError(f"line {line} is not in service; in service: "
                             f"{list(self._in_service)}")
        self._in_service.remove(line)


class VirtualInterruptController(InterruptController):
    """A VM's virtual interrupt controller (virtual APIC / event-channel bits).

    Same pending / mask / in-service logic as the physical controller, plus
    the guest's interrupt flag: while ``interrupts_enabled`` is False (the
    guest executed ``cli``), nothing is acknowledged and every virtual
    interrupt stays pending; after ``sti`` they come out in priority order.

    Examples
    --------
    >>> vic = VirtualInterruptController(64)
    >>> vic.cli()
    >>> _ = vic.raise_line(40); _ = vic.raise_line(11)
    >>> vic.acknowledge() is None
    True
    >>> vic.sti()
    >>> vic.acknowledge()
    (11, 1)
    """

    def __init__(self, lines: int = 64, priorities: Sequence[int] | None = None):
        super().__init__(lines, priorities)
        self.interrupts_enabled = True

    def cli(self) -> None:
        """Guest clears IF: virtual interrupts stay pending."""
        self.interrupts_enabled = False

    def sti(self) -> None:
        """Guest sets IF again."""
        self.interrupts_enabled = True

    def next_line(self) -> int | None:
        """As :meth:`InterruptController.next_line`, but None while IF is clear."""
        if not self.interrupts_enabled:
            return None
        return super().next_line()


# ---------------------------------------------------------------------------
# The platform: domains, devices, owners
# ---------------------------------------------------------------------------

class Platform:
    """Domains, devices on IRQ lines, and who owns each device.

    * the **timer** belongs to the hypervisor (it drives the scheduler);
    * other devices belong to the **driver domain** (``dom0``) by default:
      it runs the real driver and one split-driver backend per other domain,
      each with its own event channel (ports 1, 2, ... in device order);
    * :meth:`assign` passes a device through to one domU (via the IOMMU):
      exclusive — assigning it again elsewhere is refused until
      :meth:`release` gives it back to the driver domain.

    Parameters
    ----------
    domains : sequence of str
        Domain names; must include ``driver_domain``.
    devices : sequence of Device, optional
        Default :func:`virtlab.devices.default_devices`.
    lines : int
        IRQ lines of the physical controller (default 24).
    driver_domain : str
        The privileged domain with the real drivers (default ``"dom0"``).

    Examples
    --------
    >>> plat = Platform()
    >>> plat.owner("nic"), plat.mode("nic")
    ('dom0', 'split')
    >>> plat.assign("nic", "domU1")
    >>> plat.owner("nic"), plat.mode("nic")
    ('domU1', 'passthrough')
    >>> plat.assign("nic", "domU2")
    Traceback (most recent call last):
    ...
    ValueError: device 'nic' is already assigned to 'domU1'; release it first
    >>> plat.assign("disk", "domU9")
    Traceback (most recent call last):
    ...
    ValueError: domain must be one of 'dom0', 'domU1', 'domU2'; got 'domU9'
    >>> plat.owner("disk")   # the failed calls changed nothing
    'dom0'
    """

    def __init__(self, domains: Sequence[str] = ("dom0", "domU1", "domU2"),
                 devices: Sequence[Device] | None = None, *, lines: int = 24,
                 driver_domain: str = "dom0"):
        if isinstance(domains, (str, bytes)) or not isinstance(domains, Sequence):
            raise TypeError(f"domains must be a sequence of names, got {type(domains).__name__}")
        names = [check_str("domains", d) for d in domains]
        if not names:
            raise ValueError("domains must name at least one domain")
        if len(names) > 64:
            raise ValueError(f"domains must hold at most 64 domains, got {len(names)}")
        if len(set(names)) != len(names):
            raise ValueError("domains must be unique")
        if HYPERVISOR in names:
            raise ValueError(f"domains must not use the reserved name {HYPERVISOR!r}")
        check_str("driver_domain", driver_domain)
        check_choice("driver_domain", driver_domain, names)
        self.domains = tuple(names)
        self.driver_domain = driver_domain
        self.lines = check_int("lines", lines, minimum=1, maximum=256)
        self.devices: dict[str, Device] = {}
        self._owner: dict[str, str] = {}
        for dev in default_devices() if devices is None else devices:
            self.add_device(dev)

    # -- set-up ------------------------------------------------------------
    def add_device(self, device: Device) -> None:
        """Wire ``device`` to its IRQ line (unique line and name)."""
        check_type("device", device, Device)
        if device.name in self.devices:
            raise ValueError(f"device name {device.name!r} is already used")
        check_int("irq", device.irq, minimum=0, maximum=self.lines - 1)
        for other in self.devices.values():
            if other.irq == device.irq:
                raise ValueError(f"irq {device.irq} is already used by {other.name!r}")
        self.devices[device.name] = device
        self._owner[device.name] = HYPERVISOR if device.kind == "timer" else self.driver_domain

    def check_domain(self, domain: Any, name: str = "domain") -> str:
        """Return ``domain`` if it is one of the platform's domains."""
        check_str(name, domain)
        return check_choice(name, domain, self.domains)

    def check_device(self, device: Any) -> str:
        """Return ``device`` if it is one of the platform's device names."""
        check_str("device", device)
        return check_choice("device", device, list(self.devices))

    def assign(self, device: str, domain: str) -> None:
        """Pass ``device`` through to ``domain`` (or give it back to the driver domain)."""
        self.check_device(device)
        self.check_domain(domain)
        if self.devices[device].kind == "timer":
            raise ValueError(f"device {device!r} is the hypervisor's timer and cannot be "
                             "assigned to a domain")
        current = self._owner[device]
        if domain == self.driver_domain:
            self._owner[device] = domain
            return
        if current != self.driver_domain:
            raise ValueError(f"device {device!r} is already assigned to {current!r}; "
                             "release it first")
        self._owner[device] = domain

    def release(self, device: str) -> None:
        """Give a passed-through device back to the driver domain."""
        self.check_device(device)
        if self.devices[device].kind != "timer":
            self._owner[device] = self.driver_domain

    # -- queries -----------------------------------------------------------
    def owner(self, device: str) -> str:
        """Who receives ``device``'s physical interrupts."""
        return self._owner[self.check_device(device)]

    def mode(self, device: str) -> str:
        """``"hypervisor"``, ``"split"`` (driver domain + backends) or ``"passthrough"``."""
        owner = self.owner(device)
        if owner == HYPERVISOR:
            return "hypervisor"
        return "split" if owner == self.driver_domain else "passthrough"

    def channels(self) -> list[tuple[int, str, str]]:
        """Event channels ``(port, device, domU)`` of the split drivers.

        Examples
        --------
        >>> Platform(("dom0", "domU1")).channels()
        [(1, 'nic', 'domU1'), (2, 'disk', 'domU1')]
        """
        out, port = [], 1
        for name in self.devices:
            if self.mode(name) != "split":
                continue
            for dom in self.domains:
                if dom != self.driver_domain:
                    out.append((port, name, dom))
                    port += 1
        return out

    def copy(self) -> Platform:
        """An independent copy (same devices and owners)."""
        new = Platform(self.domains, list(self.devices.values()), lines=self.lines,
                       driver_domain=self.driver_domain)
        new._owner = dict(self._owner)
        return new

    def __repr__(self) -> str:
        owners = ", ".join(f"{d}->{o}" for d, o in self._owner.items())
        return f"<Platform domains={list(self.domains)} {owners}>"


# ---------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class InterruptCosts:
    """Illustrative costs (integer µs) of the interrupt path.

    Attributes
    ----------
    hv_dispatch_us : int
        Hypervisor: acknowledge the physical interrupt, find the owner, EOI.
    kick_us : int
        Force a running vCPU out (IPI → VM exit) so the virtual interrupt is
        injected at the following VM entry; also the interrupt-window exit
        after the guest sets IF again.
    guest_handler_us : int
        A guest's interrupt handler.
    backend_us : int
        Driver-domain backend work per event it passes on to a domU.
    notify_us : int
        One event-channel notification (hypercall).

    Examples
    --------
    >>> InterruptCosts().kick_us
    1
    """

    hv_dispatch_us: int = 1
    kick_us: int = 1
    guest_handler_us: int = 2
    backend_us: int = 2
    notify_us: int = 1

    def __post_init__(self) -> None:
        for f in fields(self):
            check_int(f.name, getattr(self, f.name), minimum=0, maximum=1_000_000)


@dataclass(frozen=True)
class Delivery:
    """The hypervisor routed one physical interrupt (``events`` merged) to ``owner``.

    Examples
    --------
    >>> from virtlab.devices import IOEvent
    >>> simulate_interrupts(Platform(), [IOEvent(0, "timer")]).deliveries
    (Delivery(time=1, line=0, device='timer', owner='hypervisor', events=(0,)),)
    """

    time: int
    line: int
    device: str
    owner: str
    events: tuple[int, ...]


@dataclass(frozen=True)
class Injection:
    """A virtual interrupt injected into ``domain``'s vCPU; its handler ran until ``end``.

    Examples
    --------
    >>> from virtlab.devices import IOEvent
    >>> simulate_interrupts(Platform(), [IOEvent(0, "nic", "dom0")]).injections
    (Injection(time=2, end=4, domain='dom0', line=11, source='nic', events=(0,)),)
    """

    time: int
    end: int
    domain: str
    line: int
    source: str
    events: tuple[int, ...]


@dataclass(frozen=True)
class InterruptTrace:
    """Everything :func:`simulate_interrupts` observed.

    Attributes
    ----------
    events : tuple of IOEvent
        The input events (their index is their id below).
    owners : tuple of (device, owner, mode)
        The platform's assignment during the run.
    irqs : tuple of (device, line)
        The IRQ line of each device.
    channels : tuple of (port, device, domU)
        Split-driver event channels.
    domains : tuple of str
    driver_domain : str
    deliveries : tuple of Delivery
        Physical interrupts as routed by the hypervisor.
    injections : tuple of Injection
        Virtual interrupts injected into vCPUs.
    done_at : tuple of (int or None)
        When each event's final handler finished (None: still pending).
    final : tuple of str
        Who handles each event in the end (target domain or hypervisor).
    journeys : tuple of tuple of Step
        Each event's path: device, hypervisor, driver domain, domU.

    Examples
    --------
    >>> from virtlab.devices import packet_burst
    >>> t = simulate_interrupts(Platform(), packet_burst("domU1", 2, gap_us=100))
    >>> t.done_at, t.final, t.pending
    ((10, 110), ('domU1', 'domU1'), ())
    """

    events: tuple[IOEvent, ...]
    owners: tuple[tuple[str, str, str], ...]
    irqs: tuple[tuple[str, int], ...]
    channels: tuple[tuple[int, str, str], ...]
    domains: tuple[str, ...]
    driver_domain: str
    deliveries: tuple[Delivery, ...]
    injections: tuple[Injection, ...]
    done_at: tuple[int | None, ...]
    final: tuple[str, ...]
    journeys: tuple[tuple[Step, ...], ...]

    @property
    def pending(self) -> tuple[int, ...]:
        """Ids of events not handled by the end (their vCPU never ran again)."""
        return tuple(i for i, d in enumerate(self.done_at) if d is None)

    def delivered_by_owner(self) -> dict[str, int]:
        """Physical interrupt *events* per owner (merged events counted singly)."""
        out: dict[str, int] = {}
        for d in self.deliveries:
            out[d.owner] = out.get(d.owner, 0) + len(d.events)
        return out

    def interrupts_by_domain(self) -> dict[str, int]:
        """Virtual interrupts injected per domain (every domain listed)."""
        out = {d: 0 for d in self.domains}
        for inj in self.injections:
            out[inj.domain] += 1
        return out

    def latencies(self, domain: str) -> list[int]:
        """Raise-to-handled latency (µs) of the events finally handled by ``domain``."""
        return [d - e.time for e, d, f in zip(self.events, self.done_at, self.final)
                if f == domain and d is not None]

    def summary(self) -> list[tuple[str, int, int, float, int]]:
        """Rows ``(domain, events handled, virtual IRQs, mean latency µs, max latency µs)``.

        Examples
        --------
        >>> from virtlab.devices import packet_burst
        >>> simulate_interrupts(Platform(), packet_burst("domU2", 2, gap_us=30)).summary()[2]
        ('domU2', 2, 2, 10.0, 10)
        """
        per = self.interrupts_by_domain()
        rows = []
        for dom in self.domains:
            lat = self.latencies(dom)
            mean = round(sum(lat) / len(lat), 1) if lat else 0.0
            rows.append((dom, len(lat), per[dom], mean, max(lat) if lat else 0))
        return rows


def _check_intervals(name: str, value: Any) -> tuple[tuple[int, int], ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a sequence of (start, end) pairs, "
                        f"got {type(value).__name__}")
    out: list[tuple[int, int]] = []
    for pair in value:
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError(f"{name} must hold (start, end) pairs, got {pair!r}")
        start = check_int(name, pair[0], minimum=0, maximum=MAX_TIME_US)
        end = check_int(name, pair[1], minimum=0, maximum=MAX_TIME_US)
        if end <= start:
            raise ValueError(f"{name}: interval end must be > start, got ({start}, {end})")
        if out and start < out[-1][1]:
            raise ValueError(f"{name}: intervals must be sorted and must not overlap, "
                             f"got ({start}, {end}) after {out[-1]}")
        out.append((start, end))
        if len(out) > MAX_EVENTS:
            raise ValueError(f"{name} must hold at most {MAX_EVENTS} intervals")
    return tuple(out)


def _check_windows(name: str, value: Any, keys: Sequence[str] | None,
                   key_name: str) -> dict[Any, tuple[tuple[int, int], ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping, got {type(value).__name__}")
    out = {}
    for key, intervals in value.items():
        if keys is not None:
            check_str(key_name, key)
            check_choice(key_name, key, keys)
        out[key] = _check_intervals(f"{name}[{key!r}]", intervals)
    return out


class _Timeline:
    """Run intervals of one vCPU (None: always running) and its IF-clear windows."""

    __slots__ = ("runs", "starts", "cli", "cli_starts")

    def __init__(self, runs: tuple[tuple[int, int], ...] | None,
                 cli: tuple[tuple[int, int], ...]):
        self.runs = runs
        self.starts = [r[0] for r in runs] if runs is not None else []
        self.cli = cli
        self.cli_starts = [w[0] for w in cli]

    def running_at(self, t: int) -> bool:
        if self.runs is None:
            return True
        i = bisect.bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.runs[i][1]

    def next_run(self, t: int) -> int | None:
        """Earliest time >= t at which the vCPU runs."""
        if self.runs is None:
            return t
        i = bisect.bisect_right(self.starts, t) - 1
        if i >= 0 and t < self.runs[i][1]:
            return t
        return self.runs[i + 1][0] if i + 1 < len(self.runs) else None

    def cli_end(self, t: int) -> int | None:
        """End of the IF-clear window containing t, or None if IF is set at t."""
        i = bisect.bisect_right(self.cli_starts, t) - 1
        if i >= 0 and t < self.cli[i][1]:
            return self.cli[i][1]
        return None

    def ready(self, t: int) -> tuple[int, str] | None:
        """Earliest (time, why) >= t when a virtual interrupt can be injected."""
        why = "kick"
        for _ in range(2 * (len(self.runs or ()) + len(self.cli)) + 2):
            start = self.next_run(t)
            if start is None:
                return None
            if start > t:
                why = "entry"
            end = self.cli_end(start)
            if end is None:
                return start, why
            t, why = end, "window"
        return None  # pragma: no cover - loop bound is generous

    def finish(self, t: int, work: int) -> int:
        """Time at which ``work`` µs of vCPU time started at t are done."""
        if self.runs is None:
            return t + work
        i = bisect.bisect_right(self.starts, t) - 1
        while work > 0:
            if i < 0 or t >= self.runs[i][1]:
                i += 1
                if i >= len(self.runs):
                    return t + work  # ran out of schedule: finish as if running
                t = max(t, self.runs[i][0])
            step = min(work, self.runs[i][1] - t)
            work -= step
            t += step
        return t


def round_robin_schedule(domains: Sequence[str], slice_us: int = 100,
                         duration_us: int = 10_000) -> dict[str, tuple[tuple[int, int], ...]]:
    """Run intervals of one-vCPU domains taking turns on one pCPU.

    The same shape a scheduler trace provides (per vCPU: sorted
    ``(start, end)`` intervals in µs), so a trace from
    :mod:`virtlab.scheduler` can be passed to :func:`simulate_interrupts`
    the same way.

    Examples
    --------
    >>> round_robin_schedule(["domU1", "domU2"], slice_us=10, duration_us=40)
    {'domU1': ((0, 10), (20, 30)), 'domU2': ((10, 20), (30, 40))}
    """
    if isinstance(domains, (str, bytes)) or not isinstance(domains, Sequence):
        raise TypeError(f"domains must be a sequence of names, got {type(domains).__name__}")
    names = [check_str("domains", d) for d in domains]
    if not names or len(set(names)) != len(names):
        raise ValueError("domains must hold at least one name, without repeats")
    check_int("slice_us", slice_us, minimum=1, maximum=MAX_TIME_US)
    check_int("duration_us", duration_us, minimum=1, maximum=MAX_TIME_US)
    if duration_us // slice_us > MAX_EVENTS:
        raise ValueError(f"duration_us / slice_us must be <= {MAX_EVENTS} slices")
    out: dict[str, list[tuple[int, int]]] = {d: [] for d in names}
    t, k = 0, 0
    while t < duration_us:
        out[names[k % len(names)]].append((t, min(t + slice_us, duration_us)))
        t += slice_us
        k += 1
    return {d: tuple(v) for d, v in out.items()}


def schedule_from_trace(trace: Any, domains: Sequence[str] | None = None,
                        vcpu: int = 0) -> dict[str, tuple[tuple[int, int], ...]]:
    """Run intervals of each VM's vCPU ``vcpu`` from a :mod:`virtlab.scheduler` trace.

    Adjacent intervals (the vCPU moved to another pCPU or was re-picked at
    once) are merged.  The result is the ``schedule=`` argument of
    :func:`simulate_interrupts`: interrupt delivery then waits for the
    scheduler's real VM entries.

    Parameters
    ----------
    trace : virtlab.scheduler.Trace
    domains : sequence of str, optional
        VM names to take (default: every VM of the trace).
    vcpu : int
        Which vCPU receives the interrupts (default 0).

    Examples
    --------
    >>> from virtlab.scheduler import CreditScheduler, VM, simulate
    >>> t = simulate(CreditScheduler(), [VM("domU1"), VM("domU2")], pcpus=1, duration_ms=90)
    >>> sched = schedule_from_trace(t)
    >>> sched["domU1"][0][0], sched["domU2"][0][0]     # 30 ms Credit time slices
    (0, 30000)
    """

    check_type("trace", trace, Trace)
    names = [vm.name for vm in trace.vms]
    if domains is None:
        domains = names
    elif isinstance(domains, (str, bytes)) or not isinstance(domains, Sequence):
        raise TypeError(f"domains must be a sequence of VM names, got {type(domains).__name__}")
    out = {}
    for dom in domains:
        check_str("domains", dom)
        check_choice("domains", dom, names)
        vm = next(v for v in trace.vms if v.name == dom)
        check_int("vcpu", vcpu, minimum=0, maximum=vm.vcpus - 1)
        merged: list[list[int]] = []
        for start, end, _pcpu in trace.vcpu_intervals(dom, vcpu):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            elif end > start:
                merged.append([start, end])
        out[dom] = tuple((a, b) for a, b in merged)
    return out


def simulate_interrupts(platform: Platform, events: Iterable[IOEvent], *,
                        schedule: Mapping[str, Sequence[tuple[int, int]]] | None = None,
                        if_clear: Mapping[str, Sequence[tuple[int, int]]] | None = None,
                        masked: Mapping[int, Sequence[tuple[int, int]]] | None = None,
                        costs: InterruptCosts | None = None,
                        record: bool = True) -> InterruptTrace:
    """Raise ``events`` and follow every interrupt to its final handler.

    Parameters
    ----------
    platform : Platform
        Domains, devices and owners (not modified).
    events : iterable of IOEvent
        Device interrupts (any order; sorted by time, stably).  A NIC / disk
        event names the domain its data is for; timer events have no target.
    schedule : mapping of domain to (start, end) intervals, optional
        When each domain's (single) vCPU runs, in µs — e.g. from a scheduler
        trace or :func:`round_robin_schedule`.  Domains not listed are always
        running (a pCPU of their own).  A virtual interrupt for a descheduled
        vCPU waits for its next VM entry.
    if_clear : mapping of domain to (start, end) intervals, optional
        Windows in which the guest has interrupts disabled (IF clear): its
        virtual interrupts stay pending until the window ends.
    masked : mapping of IRQ line to (start, end) intervals, optional
        Windows in which a *physical* line is masked at the controller.
    costs : InterruptCosts, optional
    record : bool
        Record per-event journeys (default True).

    Returns
    -------
    InterruptTrace

    Raises
    ------
    ValueError, TypeError
        Unknown device or domain, a packet for a domain that cannot receive
        it (the NIC is passed through to another domU), a target on a timer
        event, bad intervals.  Nothing is run then.

    Examples
    --------
    >>> from virtlab.devices import IOEvent, packet_burst
    >>> plat = Platform()
    >>> plat.assign("nic", "domU1")
    >>> t = simulate_interrupts(plat, packet_burst("domU1", 2, gap_us=20))
    >>> t.delivered_by_owner(), t.latencies("domU1")
    ({'domU1': 2}, [4, 4])
    >>> simulate_interrupts(plat, [IOEvent(0, "nic", "domU2")])
    Traceback (most recent call last):
    ...
    ValueError: events[0]: target 'domU2' cannot receive from 'nic', which is passed through to 'domU1'
    """
    check_type("platform", platform, Platform)
    costs = InterruptCosts() if costs is None else check_type("costs", costs, InterruptCosts)
    check_bool("record", record)
    if isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
        raise TypeError(f"events must be an iterable of IOEvent, got {type(events).__name__}")
    evs: list[IOEvent] = []
    for ev in events:
        check_type("events", ev, IOEvent)
        evs.append(ev)
        if len(evs) > MAX_EVENTS:
            raise ValueError(f"events must hold at most {MAX_EVENTS} events")
    evs.sort(key=lambda e: e.time)
    plat = platform.copy()
    for k, ev in enumerate(evs):
        if ev.device not in plat.devices:
            raise ValueError(f"events[{k}]: device must be one of "
                             f"{', '.join(repr(d) for d in plat.devices)}; got {ev.device!r}")
        mode = plat.mode(ev.device)
        if mode == "hypervisor":
            if ev.target is not None:
                raise ValueError(f"events[{k}]: target must be None for the timer "
                                 f"{ev.device!r}, got {ev.target!r}")
            continue
        if ev.target is None:
            raise ValueError(f"events[{k}]: target must name a domain for {ev.device!r}")
        if ev.target not in plat.domains:
            raise ValueError(f"events[{k}]: target must be one of "
                             f"{', '.join(repr(d) for d in plat.domains)}; got {ev.target!r}")
        if mode == "passthrough" and ev.target != plat.owner(ev.device):
            raise ValueError(f"events[{k}]: target {ev.target!r} cannot receive from "
                             f"{ev.device!r}, which is passed through to "
                             f"{plat.owner(ev.device)!r}")
    runs = _check_windows("schedule", schedule, plat.domains, "schedule domain")
    clis = _check_windows("if_clear", if_clear, plat.domains, "if_clear domain")
    if masked is not None and not isinstance(masked, Mapping):
        raise TypeError(f"masked must be a mapping, got {type(masked).__name__}")
    masks = {}
    for line, windows in (masked or {}).items():
        check_int("masked line", line, minimum=0, maximum=plat.lines - 1)
        masks[line] = _check_intervals(f"masked[{line}]", windows)

    # ---- state -----------------------------------------------------------
    sim = Simulator()
    pic = InterruptController(plat.lines)
    line_queue: dict[int, deque[int]] = {d.irq: deque() for d in plat.devices.values()}
    device_of_line = {d.irq: d.name for d in plat.devices.values()}
    port_of = {(dev, dom): port for port, dev, dom in plat.channels()}
    driver = plat.driver_domain
    n = len(evs)
    done_at: list[int | None] = [None] * n
    final = [HYPERVISOR if plat.mode(e.device) == "hypervisor" else e.target for e in evs]
    journeys: list[list[Step]] = [[] for _ in range(n)]
    deliveries: list[Delivery] = []
    injections: list[Injection] = []
    evtchn_base = max(EVTCHN_BASE, plat.lines)
    vlines = evtchn_base + max([p for p, _, _ in plat.channels()] + [0]) + 1

    class _Dom:
        __slots__ = ("vic", "queue", "busy", "armed", "time")

        def __init__(self, name: str):
            self.vic = VirtualInterruptController(vlines)
            self.queue: dict[int, deque[int]] = {}
            self.busy = False
            self.armed = False
            self.time = _Timeline(runs.get(name), clis.get(name, ()))

    doms = {d: _Dom(d) for d in plat.domains}
    hv = {"busy": False}

    def hop(ids: Iterable[int], actor: str, action: str) -> None:
        if record:
            step = Step(sim.now, actor, action)
            for i in ids:
                journeys[i].append(step)

    # ---- physical side ---------------------------------------------------
    def raise_event(i: int) -> None:
        dev = plat.devices[evs[i].device]
        merged = not pic.raise_line(dev.irq)
        line_queue[dev.irq].append(i)
        hop((i,), dev.name, f"raise IRQ {dev.irq}" + (" (merged: line already pending)"
                                                       if merged else ""))
        hv_wake()

    def hv_wake() -> None:
        if not hv["busy"]:
            hv["busy"] = True
            sim.schedule(0, hv_dispatch)

    def hv_dispatch() -> None:
        ack = pic.acknowledge()
        if ack is None:
            hv["busy"] = False
            return
        line, count = ack
        q = line_queue[line]
        ids = tuple(q.popleft() for _ in range(count))
        hop(ids, HYPERVISOR, f"acknowledge IRQ {line} ({count} event(s))")
        sim.schedule(costs.hv_dispatch_us, hv_route, line, ids)

    def hv_route(line: int, ids: tuple[int, ...]) -> None:
        device = device_of_line[line]
        owner = plat.owner(device)
        deliveries.append(Delivery(sim.now, line, device, owner, ids))
        pic.eoi(line)
        if owner == HYPERVISOR:
            hop(ids, HYPERVISOR, f"timer tick consumed by the hypervisor (EOI {line})")
            for i in ids:
                done_at[i] = sim.now
        else:
            hop(ids, HYPERVISOR, f"route to owner {owner}, post virtual IRQ {line}, EOI")
            post(owner, line, ids, device)
        hv_dispatch()

    def set_mask(line: int, on: bool) -> None:
        if on:
            pic.mask(line)
        elif pic.unmask(line):
            hv_wake()

    # ---- virtual side ----------------------------------------------------
    sources: dict[tuple[str, int], str] = {}

    def post(dom: str, vline: int, ids: Iterable[int], source: str) -> None:
        st = doms[dom]
        q = st.queue.setdefault(vline, deque())
        for i in ids:
            st.vic.raise_line(vline)
            q.append(i)
        sources[(dom, vline)] = source
        arm(dom)

    def arm(dom: str) -> None:
        st = doms[dom]
        if st.busy or st.armed or st.vic.next_line() is None:
            return
        ready = st.time.ready(sim.now)
        if ready is None:
            return  # the vCPU never runs again: stays pending (reported)
        t, why = ready
        delay = costs.kick_us if why in ("kick", "window") else 0
        st.armed = True
        sim.at(t + delay, inject, dom, why)

    def inject(dom: str, why: str) -> None:
        st = doms[dom]
        st.armed = False
        ack = st.vic.acknowledge()
        if ack is None:  # pragma: no cover - arm() checked it
            return
        vline, count = ack
        q = st.queue[vline]
        ids = tuple(q.popleft() for _ in range(count))
        how = {"kick": "vCPU kicked out, injected at VM entry",
               "entry": "injected at the next VM entry (vCPU was descheduled)",
               "window": "injected after IF was set again (interrupt window)"}[why]
        hop(ids, dom, f"virtual IRQ {vline}: {how}")
        work = costs.guest_handler_us
        forward = [i for i in ids if final[i] != dom]
        if forward:  # driver domain: backend work + one notification per domU
            work += costs.backend_us * len(forward) + costs.notify_us * len(
                {final[i] for i in forward})
        st.busy = True
        end = st.time.finish(sim.now, work)
        injections.append(Injection(sim.now, end, dom, vline, sources[(dom, vline)], ids))
        sim.at(end, handled, dom, vline, ids)

    def handled(dom: str, vline: int, ids: tuple[int, ...]) -> None:
        st = doms[dom]
        st.busy = False
        st.vic.eoi(vline)
        by_target: dict[str, list[int]] = {}
        for i in ids:
            if final[i] == dom:
                done_at[i] = sim.now
                hop((i,), dom, "guest handler done")
            else:
                by_target.setdefault(final[i], []).append(i)  # type: ignore[arg-type]
        for target, fwd in by_target.items():
            device = evs[fwd[0]].device
            port = port_of[(device, target)]
            hop(fwd, dom, f"backend: response on the ring, notify event channel {port}")
            post(target, evtchn_base + port, fwd, f"evtchn {port}")
        arm(dom)

    # ---- run -------------------------------------------------------------
    for i, ev in enumerate(evs):
        sim.at(ev.time, raise_event, i)
    for line, windows in masks.items():
        for start, end in windows:
            sim.at(start, set_mask, line, True, priority=-1)
            sim.at(end, set_mask, line, False, priority=-1)
    sim.run()
    owners = tuple((d, plat.owner(d), plat.mode(d)) for d in plat.devices)
    irqs = tuple((d.name, d.irq) for d in plat.devices.values())
    return InterruptTrace(events=tuple(evs), owners=owners, irqs=irqs,
                          channels=tuple(plat.channels()),
                          domains=plat.domains, driver_domain=plat.driver_domain,
                          deliveries=tuple(deliveries),
                          injections=tuple(injections), done_at=tuple(done_at),
                          final=tuple(final),  # type: ignore[arg-type]
                          journeys=tuple(tuple(j) for j in journeys))


def routing_graph(trace: InterruptTrace):
    """The interrupt routing of a run as a :class:`networkx.DiGraph`.

    Nodes carry ``layer`` (0 devices, 1 controller, 2 hypervisor, 3 driver
    domain, 4 event channels, 5 domUs) and ``kind``; edges carry ``events``
    (how many interrupt events took that edge in the run).  Passed-through
    devices get an edge from the hypervisor straight to their domU.

    Examples
    --------
    >>> from virtlab.devices import packet_burst
    >>> g = routing_graph(simulate_interrupts(Platform(), packet_burst("domU1", 4)))
    >>> g.edges["dom0", "evtchn 1"]["events"], g.edges["evtchn 1", "domU1"]["events"]
    (4, 4)
    >>> g.nodes["hypervisor"]["layer"]
    2
    """

    check_type("trace", trace, InterruptTrace)
    g = nx.DiGraph()
    g.add_node("controller", layer=1, kind="controller")
    g.add_node(HYPERVISOR, layer=2, kind="hypervisor")
    g.add_edge("controller", HYPERVISOR, events=0)
    for dom in trace.domains:
        g.add_node(dom, layer=3 if dom == trace.driver_domain else 5, kind="domain")
    per_device: dict[str, int] = {}
    for d in trace.deliveries:
        per_device[d.device] = per_device.get(d.device, 0) + len(d.events)
    for device, owner, mode in trace.owners:
        n = per_device.get(device, 0)
        g.add_node(device, layer=0, kind="device", mode=mode, irq=dict(trace.irqs)[device])
        g.add_edge(device, "controller", events=n)
        g.edges["controller", HYPERVISOR]["events"] += n
        if owner != HYPERVISOR:
            if g.has_edge(HYPERVISOR, owner):
                g.edges[HYPERVISOR, owner]["events"] += n
            else:
                g.add_edge(HYPERVISOR, owner, events=n)
    port_events: dict[int, int] = {}
    for inj in trace.injections:
        if inj.source.startswith("evtchn "):
            port = int(inj.source.split()[1])
            port_events[port] = port_events.get(port, 0) + len(inj.events)
    for port, device, dom in trace.channels:
        node = f"evtchn {port}"
        owner = dict((d, o) for d, o, _ in trace.owners)[device]
        g.add_node(node, layer=4, kind="evtchn", device=device)
        g.add_edge(owner, node, events=port_events.get(port, 0))
        g.add_edge(node, dom, events=port_events.get(port, 0))
    return g


def check_trace(trace: InterruptTrace) -> list[str]:
    """Conformance checker for an interrupt trace; returns a list of violations.

    * every event is in exactly one physical delivery, of its own device, to
      the owner the device had (none lost, none duplicated);
    * an event handled by a domain was injected into that domain, and the
      handler ended no earlier than the injection;
    * events are never handled before they are raised, and each journey's
      steps are in time order;
    * injections into one domain do not overlap (one vCPU, one handler at a time).

    Examples
    --------
    >>> from virtlab.devices import packet_burst
    >>> check_trace(simulate_interrupts(Platform(), packet_burst("domU1", 20)))
    []
    """
    check_type("trace", trace, InterruptTrace)
    errors: list[str] = []
    owner = {d: o for d, o, _ in trace.owners}
    seen: dict[int, int] = {}
    for d in trace.deliveries:
        if d.owner != owner.get(d.device):
            errors.append(f"delivery of {d.device} went to {d.owner}, owner is "
                          f"{owner.get(d.device)}")
        for i in d.events:
            seen[i] = seen.get(i, 0) + 1
            if trace.events[i].device != d.device:
                errors.append(f"event {i} of {trace.events[i].device} delivered as {d.device}")
    for i in range(len(trace.events)):
        if seen.get(i, 0) != 1:
            errors.append(f"event {i} delivered {seen.get(i, 0)} times")
    injected: dict[tuple[str, int], Injection] = {}
    for inj in trace.injections:
        for i in inj.events:
            injected[(inj.domain, i)] = inj
        if inj.end < inj.time:
            errors.append(f"injection into {inj.domain} ends before it starts")
    for i, (ev, done, fin) in enumerate(zip(trace.events, trace.done_at, trace.final)):
        if done is not None and done < ev.time:
            errors.append(f"event {i} handled at {done} before it was raised at {ev.time}")
        if done is not None and fin != HYPERVISOR and (fin, i) not in injected:
            errors.append(f"event {i} handled by {fin} without an injection into it")
        times = [s.time for s in trace.journeys[i]]
        if times != sorted(times):
            errors.append(f"journey of event {i} goes back in time")
    by_dom: dict[str, list[Injection]] = {}
    for inj in trace.injections:
        by_dom.setdefault(inj.domain, []).append(inj)
    for dom, injs in by_dom.items():
        injs.sort(key=lambda j: j.time)
        for a, b in zip(injs, injs[1:]):
            if b.time < a.end:
                errors.append(f"{dom}: handlers overlap at {b.time} µs")
    return errors
