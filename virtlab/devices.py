"""Devices, Xen split drivers and three ways to give a VM a device.

The lecture's *Gerätesteuerung* (device control) and the I/O half of the KVM
case study (*"QEMU-Prozess wickelt I/O-Befehle ab"*).  This module holds

* the physical devices (:class:`Device`: timer, NIC, disk) and the interrupt
  events they raise (:class:`IOEvent`, :func:`timer_ticks`,
  :func:`packet_burst`, :func:`disk_requests`) — the routing of those
  interrupts is :mod:`virtlab.interrupts`;
* the Xen split driver model (*geteilter Treiber*): a :class:`GrantTable`
  per domain, an interdomain :class:`EventChannel`, a shared request/response
  :class:`Ring`, and a :class:`SplitDriver` that moves one request through
  them and records every step (Xen 3.0 Interface Guide chs. 5, 6, 8 —
  facts.md §11);
* :func:`run_io` / :func:`compare_io`: the same workload served by a fully
  **emulated** device (every register access is a VM exit handled by a
  QEMU-like user process), a **paravirtual** one (virtio / Xen front and back
  end: requests batched in a ring, one notification per batch) and a
  **passthrough** device (assigned through the IOMMU: no exits for register
  accesses, but the VM can no longer migrate and the device is not shared).

All times are integer microseconds on the shared discrete-event core
:class:`virtlab.sim.Simulator`.  The cost table :class:`IOCosts` is
*illustrative*: the VM-exit cost follows the ≈2,000-cycle direct exit cost of
facts.md §9 (about 1 µs at 2 GHz); the other numbers are round, plausible
values chosen so the mechanisms are visible, not measurements.

Examples
--------
>>> cmp = compare_io(requests=32, gap_us=100, batch=8)
>>> [r.exits_per_request for r in cmp.results]     # requests spaced out: no batching
[7.0, 2.0, 1.0]
>>> burst = compare_io(requests=32, gap_us=0, batch=8, coalesce=8, coalesce_us=100)
>>> [round(r.exits_per_request, 2) for r in burst.results]   # batches, coalescing
[4.66, 0.25, 0.12]
>>> [r.mode for r in cmp.results]
['emulated', 'paravirtual', 'passthrough']
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import check_bool, check_choice, check_int, check_str, check_type
from .rng import make_rng
from .sim import Event, Simulator

__all__ = [
    "DEVICE_KINDS", "MODES", "MAX_EVENTS",
    "Device", "IOEvent", "default_devices", "timer_ticks", "packet_burst", "disk_requests",
    "merge_events", "make_arrivals",
    "Step", "GrantTable", "EventChannel", "Ring", "SplitDriver", "split_driver_request",
    "IOCosts", "IOResult", "IOComparison", "run_io", "compare_io",
]

#: Kinds of physical device in the model.
DEVICE_KINDS = ("timer", "nic", "disk")
#: The three ways to give a VM a device, in the order the notebook shows them.
MODES = ("emulated", "paravirtual", "passthrough")
#: Upper bound for generated events / requests (keeps hostile input from hanging).
MAX_EVENTS = 100_000
#: Upper bound for times in µs (about 11.5 days of simulated time).
MAX_TIME_US = 10**12


# ---------------------------------------------------------------------------
# Physical devices and the interrupt events they raise
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Device:
    """A physical device wired to one IRQ line of the interrupt controller.

    Parameters
    ----------
    name : str
        Unique name (``"nic"``).
    kind : {"timer", "nic", "disk"}
        What the device is.
    irq : int
        The IRQ line it raises (0–255; the controller checks its own range).

    Examples
    --------
    >>> Device("nic", "nic", 11)
    Device(name='nic', kind='nic', irq=11)
    >>> Device("nic", "gpu", 11)
    Traceback (most recent call last):
    ...
    ValueError: kind must be one of 'timer', 'nic', 'disk'; got 'gpu'
    """

    name: str
    kind: str
    irq: int

    def __post_init__(self) -> None:
        check_str("name", self.name)
        check_choice("kind", self.kind, DEVICE_KINDS)
        check_int("irq", self.irq, minimum=0, maximum=255)


def default_devices() -> tuple[Device, ...]:
    """The PC's classic wiring: timer on IRQ 0, NIC on IRQ 11, disk on IRQ 14.

    Examples
    --------
    >>> [(d.name, d.irq) for d in default_devices()]
    [('timer', 0), ('nic', 11), ('disk', 14)]
    """
    return (Device("timer", "timer", 0), Device("nic", "nic", 11), Device("disk", "disk", 14))


@dataclass(frozen=True)
class IOEvent:
    """A device raises its interrupt at ``time`` for data that belongs to ``target``.

    Parameters
    ----------
    time : int
        Microseconds.
    device : str
        Name of the raising device.
    target : str or None
        The domain the packet / disk block belongs to (None for timer ticks,
        which the hypervisor consumes itself).

    Examples
    --------
    >>> IOEvent(5, "nic", "domU1")
    IOEvent(time=5, device='nic', target='domU1')
    """

    time: int
    device: str
    target: str | None = None

    def __post_init__(self) -> None:
        check_int("time", self.time, minimum=0, maximum=MAX_TIME_US)
        check_str("device", self.device)
        if self.target is not None:
            check_str("target", self.target)


def timer_ticks(period_us: int = 1000, duration_us: int = 10_000,
                device: str = "timer") -> tuple[IOEvent, ...]:
    """Periodic timer interrupts at ``period_us, 2*period_us, ... <= duration_us``.

    Examples
    --------
    >>> [e.time for e in timer_ticks(100, 350)]
    [100, 200, 300]
    """
    check_int("period_us", period_us, minimum=1, maximum=MAX_TIME_US)
    check_int("duration_us", duration_us, minimum=0, maximum=MAX_TIME_US)
    check_str("device", device)
    if duration_us // period_us > MAX_EVENTS:
        raise ValueError(f"duration_us / period_us must be <= {MAX_EVENTS} ticks, "
                         f"got {duration_us // period_us}")
    return tuple(IOEvent(t, device, None) for t in range(period_us, duration_us + 1, period_us))


def packet_burst(target: str, n: int, start: int = 0, gap_us: int = 0,
                 device: str = "nic") -> tuple[IOEvent, ...]:
    """``n`` received packets for ``target``: one NIC interrupt each, ``gap_us`` apart.

    Examples
    --------
    >>> [e.time for e in packet_burst("domU1", 3, start=10, gap_us=5)]
    [10, 15, 20]
    """
    check_str("target", target)
    check_int("n", n, minimum=0, maximum=MAX_EVENTS)
    check_int("start", start, minimum=0, maximum=MAX_TIME_US)
    check_int("gap_us", gap_us, minimum=0, maximum=MAX_TIME_US // max(n, 1))
    check_str("device", device)
    return tuple(IOEvent(start + i * gap_us, device, target) for i in range(n))


def disk_requests(target: str, n: int, start: int = 0, service_us: int = 20,
                  device: str = "disk") -> tuple[IOEvent, ...]:
    """Completion interrupts of ``n`` disk requests submitted together at ``start``.

    The disk serves one request at a time, so completion ``i`` is at
    ``start + (i + 1) * service_us``.

    Examples
    --------
    >>> [e.time for e in disk_requests("domU2", 3, start=0, service_us=20)]
    [20, 40, 60]
    """
    check_str("target", target)
    check_int("n", n, minimum=0, maximum=MAX_EVENTS)
    check_int("start", start, minimum=0, maximum=MAX_TIME_US)
    check_int("service_us", service_us, minimum=1, maximum=MAX_TIME_US // max(n, 1))
    check_str("device", device)
    return tuple(IOEvent(start + (i + 1) * service_us, device, target) for i in range(n))


def merge_events(*groups: Iterable[IOEvent]) -> tuple[IOEvent, ...]:
    """Merge event groups into one time-ordered tuple (stable for equal times).

    Examples
    --------
    >>> ev = merge_events(packet_burst("domU1", 2, gap_us=10), timer_ticks(5, 5))
    >>> [(e.time, e.device) for e in ev]
    [(0, 'nic'), (5, 'timer'), (10, 'nic')]
    """
    out: list[IOEvent] = []
    for group in groups:
        for ev in group:
            check_type("event", ev, IOEvent)
            out.append(ev)
            if len(out) > MAX_EVENTS:
                raise ValueError(f"events must hold at most {MAX_EVENTS} events")
    out.sort(key=lambda e: e.time)
    return tuple(out)


def make_arrivals(n: int, mean_gap_us: int = 0, *, poisson: bool = False,
                  seed: int = 0) -> tuple[int, ...]:
    """Arrival times (µs) of ``n`` requests.

    With ``poisson=False`` the requests arrive ``mean_gap_us`` apart (0: one
    burst); with ``poisson=True`` the gaps are exponential with that mean,
    drawn from the model's own generator seeded with ``seed``.

    Examples
    --------
    >>> make_arrivals(3, 10)
    (0, 10, 20)
    >>> make_arrivals(4, 10, poisson=True, seed=1) == make_arrivals(4, 10, poisson=True, seed=1)
    True
    """
    check_int("n", n, minimum=1, maximum=MAX_EVENTS)
    check_int("mean_gap_us", mean_gap_us, minimum=0, maximum=MAX_TIME_US // n)
    check_bool("poisson", poisson)
    if not poisson or mean_gap_us == 0:
        return tuple(i * mean_gap_us for i in range(n))
    rng = make_rng(seed)
    t, out = 0, []
    for _ in range(n):
        out.append(t)
        t += int(round(rng.expovariate(1.0 / mean_gap_us)))
    return tuple(out)


# ---------------------------------------------------------------------------
# Xen split driver: grant table, event channel, ring
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One recorded step of a request or interrupt: who did what, when (µs).

    Examples
    --------
    >>> Step(3, "domU1 frontend", "put request 0 on the ring")
    Step(time=3, actor='domU1 frontend', action='put request 0 on the ring')
    """

    time: int
    actor: str
    action: str


class GrantTable:
    """One domain's grant table: integer grant references to its own pages.

    A grant reference is a capability: the granting domain lets one other
    domain map one page without revealing its machine address (facts.md §11).

    Parameters
    ----------
    domain : str
        The granting domain (the owner of the pages).
    size : int
        Number of grant entries (default 64).

    Examples
    --------
    >>> gt = GrantTable("domU1")
    >>> ref = gt.grant(page=0x42, grantee="dom0")
    >>> gt.map(ref, by="dom0")
    66
    >>> gt.map(ref, by="domU2")
    Traceback (most recent call last):
    ...
    ValueError: by: grant 0 of domU1 is for 'dom0', not 'domU2'
    >>> gt.unmap(ref, by="dom0"); gt.end(ref); gt.active
    0
    """

    def __init__(self, domain: str, size: int = 64):
        self.domain = check_str("domain", domain)
        self.size = check_int("size", size, minimum=1, maximum=65536)
        # ref -> [page, grantee, readonly, map count]
        self._entries: dict[int, list[Any]] = {}
        self._next = 0

    @property
    def active(self) -> int:
        """Number of grant references currently granted."""
        return len(self._entries)

    def grant(self, page: int, grantee: str, readonly: bool = False) -> int:
        """Grant ``grantee`` access to ``page``; return the grant reference."""
        check_int("page", page, minimum=0)
        check_str("grantee", grantee)
        check_bool("readonly", readonly)
        if grantee == self.domain:
            raise ValueError(f"grantee must be another domain than {self.domain!r}")
        if len(self._entries) >= self.size:
            raise ValueError(f"grant table of {self.domain} is full ({self.size} entries)")
        ref = self._next
        while ref in self._entries:
            ref = (ref + 1) % self.size
        self._next = (ref + 1) % self.size
        self._entries[ref] = [page, grantee, readonly, 0]
        return ref

    def _entry(self, ref: int, by: str) -> list[Any]:
        check_int("ref", ref, minimum=0, maximum=self.size - 1)
        check_str("by", by)
        entry = self._entries.get(ref)
        if entry is None:
            raise ValueError(f"ref: grant {ref} of {self.domain} is not active")
        if entry[1] != by:
            raise ValueError(f"by: grant {ref} of {self.domain} is for {entry[1]!r}, not {by!r}")
        return entry

    def map(self, ref: int, by: str) -> int:
        """The grantee maps the granted page; returns the page number."""
        entry = self._entry(ref, by)
        entry[3] += 1
        return entry[0]

    def unmap(self, ref: int, by: str) -> None:
        """The grantee unmaps the page again."""
        entry = self._entry(ref, by)
        if entry[3] == 0:
            raise ValueError(f"ref: grant {ref} of {self.domain} is not mapped by {by!r}")
        entry[3] -= 1

    def end(self, ref: int) -> None:
        """The granting domain revokes the grant (refused while it is mapped)."""
        check_int("ref", ref, minimum=0, maximum=self.size - 1)
        entry = self._entries.get(ref)
        if entry is None:
            raise ValueError(f"ref: grant {ref} of {self.domain} is not active")
        if entry[3]:
            raise ValueError(f"ref: grant {ref} of {self.domain} is still mapped")
        del self._entries[ref]


class EventChannel:
    """An interdomain event channel: one pending bit and one mask bit per end.

    ``notify(sender)`` sets the pending bit at the *other* end and returns
    True when that needs an upcall (the bit was clear and the end is not
    masked); a notification that finds the bit already set merges with it —
    the receiver looks at the shared ring anyway.  Masking works like
    disabling interrupts: the bit stays pending and ``unmask`` reports it.

    Examples
    --------
    >>> ch = EventChannel(3, "domU1", "dom0")
    >>> ch.notify("domU1"), ch.notify("domU1")
    (True, False)
    >>> ch.consume("dom0"), ch.consume("dom0")
    (True, False)
    >>> ch.mask("dom0"); ch.notify("domU1")
    False
    >>> ch.unmask("dom0")
    True
    """

    def __init__(self, port: int, a: str, b: str):
        self.port = check_int("port", port, minimum=0, maximum=4095)
        check_str("a", a)
        check_str("b", b)
        if a == b:
            raise ValueError("b must differ from a: an interdomain channel joins two domains")
        self.ends = (a, b)
        self.pending = {a: False, b: False}
        self.masked = {a: False, b: False}
        self.sent = {a: 0, b: 0}

    def _end(self, name: str, domain: str) -> str:
        check_str(name, domain)
        if domain not in self.pending:
            raise ValueError(f"{name} must be one of {self.ends[0]!r}, {self.ends[1]!r}; "
                             f"got {domain!r}")
        return domain

    def other(self, domain: str) -> str:
        """The domain at the other end."""
        self._end("domain", domain)
        return self.ends[1] if domain == self.ends[0] else self.ends[0]

    def notify(self, sender: str) -> bool:
        """Notify the other end; True if this raised a new upcall."""
        receiver = self.other(self._end("sender", sender))
        self.sent[sender] += 1
        was = self.pending[receiver]
        self.pending[receiver] = True
        return not was and not self.masked[receiver]

    def consume(self, domain: str) -> bool:
        """Clear this end's pending bit; return whether it was set."""
        self._end("domain", domain)
        was = self.pending[domain]
        self.pending[domain] = False
        return was

    def mask(self, domain: str) -> None:
        """Mask this end (notifications stay pending)."""
        self.masked[self._end("domain", domain)] = True

    def unmask(self, domain: str) -> bool:
        """Unmask this end; True if a pending notification is now due."""
        self.masked[self._end("domain", domain)] = False
        return self.pending[domain]


class Ring:
    """A shared request/response ring (one page in Xen; 32 slots by default).

    Requests and responses share the slots: at most ``size`` requests can be
    outstanding (put but whose response has not been taken yet).

    Examples
    --------
    >>> r = Ring(4)
    >>> for i in range(3): r.put_request(i)
    >>> r.take_requests()
    [0, 1, 2]
    >>> r.put_response(0); r.free
    1
    >>> r.take_responses(), r.free
    ([0], 2)
    """

    def __init__(self, size: int = 32):
        self.size = check_int("size", size, minimum=1, maximum=4096)
        self._requests: deque[Any] = deque()
        self._responses: deque[Any] = deque()
        self.outstanding = 0

    @property
    def free(self) -> int:
        """Slots free for new requests."""
        return self.size - self.outstanding

    def put_request(self, request: Any) -> None:
        """Frontend: produce a request (refused when the ring is full)."""
        if self.outstanding >= self.size:
            raise ValueError(f"ring is full ({self.size} outstanding requests)")
        self._requests.append(request)
        self.outstanding += 1

    def take_requests(self) -> list[Any]:
        """Backend: consume every request produced so far."""
        out = list(self._requests)
        self._requests.clear()
        return out

    def put_response(self, response: Any) -> None:
        """Backend: produce a response."""
        self._responses.append(response)

    def take_responses(self) -> list[Any]:
        """Frontend: consume every response, freeing their slots."""
        out = list(self._responses)
        self._responses.clear()
        self.outstanding -= len(out)
        return out


class SplitDriver:
    """A Xen split driver for one device and one guest: frontend, backend, ring.

    The frontend in ``frontend`` (a domU) grants its buffer page to the
    backend domain, puts a request on the shared ring and notifies the event
    channel; the backend (usually dom0) maps the grant, drives the real device,
    writes the response and notifies back.  Every step is appended to
    :attr:`steps` with the time the caller gives.

    Examples
    --------
    >>> drv = SplitDriver("domU1", "dom0", "disk")
    >>> drv.frontend_submit(0, request_id=7, page=0x10)
    True
    >>> [r[0] for r in drv.backend_take(2)]
    [7]
    >>> drv.backend_respond(30, 7)
    True
    >>> drv.frontend_complete(32)
    [7]
    >>> len(drv.steps), drv.grants.active
    (10, 0)
    """

    def __init__(self, frontend: str, backend: str, device: str, *, ring_size: int = 32,
                 port: int = 1, record: bool = True):
        self.frontend = check_str("frontend", frontend)
        self.backend = check_str("backend", backend)
        self.device = check_str("device", device)
        self.ring = Ring(ring_size)
        self.grants = GrantTable(frontend, size=max(64, ring_size))
        self.channel = EventChannel(port, frontend, backend)
        self.record = check_bool("record", record)
        self.steps: list[Step] = []
        self._refs: dict[Any, int] = {}

    def _log(self, time: int, actor: str, action: str) -> None:
        if self.record:
            self.steps.append(Step(time, actor, action))

    def frontend_submit(self, time: int, request_id: Any, page: int, *,
                        notify: bool = True) -> bool:
        """Grant the buffer, put the request on the ring, optionally notify.

        Returns True if the notification raised a new upcall in the backend.
        """
        check_int("time", time, minimum=0)
        check_int("page", page, minimum=0)
        if self.ring.free == 0:
            raise ValueError(f"ring is full ({self.ring.size} outstanding requests)")
        ref = self.grants.grant(page, self.backend)
        self._refs[request_id] = ref
        self.ring.put_request((request_id, ref))
        fe = f"{self.frontend} frontend"
        self._log(time, fe, f"grant page {page:#x} to {self.backend} (gref {ref})")
        self._log(time, fe, f"put request {request_id} on the {self.device} ring")
        return self.notify_backend(time) if notify else False

    def notify_backend(self, time: int) -> bool:
        """Frontend notifies the event channel (one hypercall)."""
        up = self.channel.notify(self.frontend)
        self._log(time, f"{self.frontend} frontend",
                  f"notify event channel {self.channel.port} (hypercall)")
        if up:
            self._log(time, "hypervisor", f"set pending bit, upcall to {self.backend}")
        return up

    def backend_take(self, time: int) -> list[tuple[Any, int]]:
        """Backend: consume the ring, map each grant; return (id, page) pairs."""
        check_int("time", time, minimum=0)
        self.channel.consume(self.backend)
        out = []
        be = f"{self.backend} backend"
        for request_id, ref in self.ring.take_requests():
            page = self.grants.map(ref, by=self.backend)
            self._log(time, be, f"take request {request_id}, validate, map gref {ref}")
            self._log(time, be, f"submit request {request_id} to the real {self.device} driver")
            out.append((request_id, page))
        return out

    def backend_respond(self, time: int, request_id: Any, *, notify: bool = True) -> bool:
        """Backend: unmap the grant, write the response, optionally notify."""
        check_int("time", time, minimum=0)
        if request_id not in self._refs:
            raise ValueError(f"request_id {request_id!r} is not outstanding")
        self.grants.unmap(self._refs[request_id], by=self.backend)
        self.ring.put_response(request_id)
        self._log(time, f"{self.backend} backend",
                  f"unmap grant, put response {request_id} on the ring")
        return self.notify_frontend(time) if notify else False

    def notify_frontend(self, time: int) -> bool:
        """Backend notifies the frontend's end of the event channel."""
        up = self.channel.notify(self.backend)
        self._log(time, f"{self.backend} backend", f"notify event channel {self.channel.port}")
        if up:
            self._log(time, "hypervisor", f"set pending bit, upcall to {self.frontend}")
        return up

    def frontend_complete(self, time: int) -> list[Any]:
        """Frontend: take every response and end the grants; return the ids."""
        check_int("time", time, minimum=0)
        self.channel.consume(self.frontend)
        done = self.ring.take_responses()
        for request_id in done:
            self.grants.end(self._refs.pop(request_id))
            self._log(time, f"{self.frontend} frontend",
                      f"take response {request_id}, end grant")
        return done


def split_driver_request(frontend: str = "domU1", backend: str = "dom0",
                         device: str = "disk", costs: IOCosts | None = None) -> tuple[Step, ...]:
    """The recorded steps of one request through a Xen split driver.

    Times follow ``costs`` (default :class:`IOCosts`): the frontend's driver
    work, the hypercall, the backend's work, the device's service time, the
    response and the upcall into the frontend.

    Examples
    --------
    >>> for s in split_driver_request()[:4]:
    ...     print(s.time, s.actor, "|", s.action)
    1 domU1 frontend | grant page 0x1000 to dom0 (gref 0)
    1 domU1 frontend | put request 0 on the disk ring
    1 domU1 frontend | notify event channel 1 (hypercall)
    1 hypervisor | set pending bit, upcall to dom0
    """
    costs = IOCosts() if costs is None else check_type("costs", costs, IOCosts)
    drv = SplitDriver(frontend, backend, device)
    kind = "disk" if device == "disk" else "nic"
    t = costs.driver_us
    drv.frontend_submit(t, 0, 0x1000)
    t += costs.exit_us
    drv.backend_take(t)
    t += costs.backend_us + costs.service(kind)
    drv._log(t, device, "transfer done (DMA), raise IRQ; hypervisor routes it to "
             f"{backend}")
    t += costs.exit_us
    drv.backend_respond(t, 0)
    t += costs.exit_us + costs.isr_us
    drv.frontend_complete(t)
    return tuple(drv.steps)


# ---------------------------------------------------------------------------
# Emulated vs paravirtual vs passthrough on one workload
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IOCosts:
    """Illustrative costs (integer µs) for the I/O paths.

    Attributes
    ----------
    exit_us : int
        One VM exit plus re-entry (≈2,000 cycles direct cost, facts.md §9,
        ≈1 µs at 2 GHz).
    qemu_us : int
        Switch to the QEMU-like user process, emulate one register access,
        return to KVM (illustrative).
    driver_us : int
        Guest driver work per request (build a descriptor).
    backend_us : int
        Backend (dom0 / vhost) work per request: validate, map the grant, submit.
    isr_us : int
        Guest interrupt handler, per interrupt.
    nic_service_us, disk_service_us : int
        Device time per request (one packet / one 4 KiB block; illustrative).
    mmio_per_request : int
        Register accesses (port I/O or MMIO) to start one request on the
        emulated device (address, length, command, doorbell).
    isr_accesses : int
        Register accesses in the emulated device's interrupt handler
        (read status, acknowledge).

    Examples
    --------
    >>> IOCosts().exit_us
    1
    >>> IOCosts(exit_us=-1)
    Traceback (most recent call last):
    ...
    ValueError: exit_us must be an integer in [0, 1000000], got -1
    """

    exit_us: int = 1
    qemu_us: int = 4
    driver_us: int = 1
    backend_us: int = 2
    isr_us: int = 1
    nic_service_us: int = 2
    disk_service_us: int = 20
    mmio_per_request: int = 4
    isr_accesses: int = 2

    def __post_init__(self) -> None:
        for f in fields(self):
            lo = 1 if f.name in ("mmio_per_request", "nic_service_us", "disk_service_us") else 0
            check_int(f.name, getattr(self, f.name), minimum=lo, maximum=1_000_000)

    def service(self, kind: str) -> int:
        """Device time per request for ``kind`` ("nic" or "disk")."""
        check_choice("kind", kind, ("nic", "disk"))
        return self.nic_service_us if kind == "nic" else self.disk_service_us


@dataclass(frozen=True)
class IOResult:
    """What one device model did with one workload.

    Attributes
    ----------
    mode : str
        ``"emulated"``, ``"paravirtual"`` or ``"passthrough"``.
    requests : int
        Number of requests served.
    exits : int
        VM exits of the guest's vCPU (register accesses, notifications,
        interrupt injections).
    notifications : int
        Guest → device notifications (doorbell writes / kicks / hypercalls).
    interrupts : int
        Completion interrupts delivered to the guest.
    latencies : tuple of int
        Per request: arrival to the end of the guest's completion handler (µs).
    makespan_us : int
        First arrival to last completion.
    host_us : int
        CPU time outside the guest (QEMU process, backend, exits).
    migratable, shared : bool
        Whether the VM can still live-migrate and whether other VMs can use
        the same physical device.
    steps : tuple of Step
        The recorded path of the first request.

    Examples
    --------
    >>> r = run_io("passthrough", [0, 100])
    >>> r.exits_per_request, r.latencies, r.migratable
    (1.0, (5, 5), False)
    """

    mode: str
    kind: str
    requests: int
    exits: int
    notifications: int
    interrupts: int
    latencies: tuple[int, ...]
    makespan_us: int
    host_us: int
    migratable: bool
    shared: bool
    steps: tuple[Step, ...] = field(repr=False, default=())

    @property
    def exits_per_request(self) -> float:
        """VM exits per request."""
        return self.exits / self.requests

    @property
    def mean_latency_us(self) -> float:
        """Mean request latency in µs."""
        return sum(self.latencies) / len(self.latencies)

    @property
    def max_latency_us(self) -> int:
        """Worst request latency in µs."""
        return max(self.latencies)

    @property
    def throughput_kops(self) -> float:
        """Thousand requests per second over the makespan."""
        return 1000.0 * self.requests / max(self.makespan_us, 1)


@dataclass(frozen=True)
class IOComparison:
    """The three device models on the same workload (see :func:`compare_io`).

    Examples
    --------
    >>> cmp = compare_io(requests=8)
    >>> cmp.by_mode("passthrough").migratable
    False
    >>> cmp.table()[0][:3]
    ('emulated', 8, 56)
    """

    arrivals: tuple[int, ...]
    kind: str
    batch: int
    coalesce: int
    results: tuple[IOResult, ...]

    def by_mode(self, mode: str) -> IOResult:
        """The result of one mode."""
        check_choice("mode", mode, MODES)
        return next(r for r in self.results if r.mode == mode)

    def table(self) -> list[tuple]:
        """Rows ``(mode, requests, exits, exits/request, notifications, interrupts,
        mean latency µs, max latency µs, kops/s, migratable, shared)``."""
        return [(r.mode, r.requests, r.exits, round(r.exits_per_request, 2), r.notifications,
                 r.interrupts, round(r.mean_latency_us, 1), r.max_latency_us,
                 round(r.throughput_kops, 1), r.migratable, r.shared) for r in self.results]


class _Fifo:
    """A single server running jobs in submission order (vCPU, QEMU, backend, device)."""

    __slots__ = ("sim", "busy", "queue", "busy_us")

    def __init__(self, sim: Simulator):
        self.sim = sim
        self.busy = False
        self.queue: deque[tuple[int, Callable[..., Any], tuple]] = deque()
        self.busy_us = 0

    def submit(self, duration: int, done: Callable[..., Any], *args: Any,
               urgent: bool = False) -> None:
        # urgent jobs (interrupt handlers) run before queued ordinary work,
        # but do not preempt the job that is running.
        if urgent:
            self.queue.appendleft((duration, done, args))
        else:
            self.queue.append((duration, done, args))
        if not self.busy:
            self._start()

    def submit_late(self, begin: Callable[[], tuple[int, tuple]],
                    done: Callable[..., Any]) -> None:
        """Like :meth:`submit`, but ``begin()`` is called when the job starts and
        returns ``(duration, args)`` (an interrupt handler reads the device
        status when it starts, not when the interrupt was raised).  Always
        urgent."""
        self.queue.appendleft((-1, done, (begin,)))
        if not self.busy:
            self._start()

    def _start(self) -> None:
        duration, done, args = self.queue.popleft()
        if duration < 0:
            duration, args = args[0]()
        self.busy = True
        self.busy_us += duration
        self.sim.schedule(duration, self._finish, done, args)

    def _finish(self, done: Callable[..., Any], args: tuple) -> None:
        self.busy = False
        done(*args)
        if self.queue and not self.busy:
            self._start()


class _Coalescer:
    """Interrupt moderation: fire after ``frames`` completions or ``timeout`` µs."""

    def __init__(self, sim: Simulator, frames: int, timeout: int,
                 fire: Callable[[list[int]], None]):
        self.sim, self.frames, self.timeout, self.fire = sim, frames, timeout, fire
        self.pending: list[int] = []
        self.timer: Event | None = None

    def add(self, request: int) -> None:
        self.pending.append(request)
        if len(self.pending) >= self.frames:
            self._flush()
        elif self.timer is None:
            self.timer = self.sim.schedule(self.timeout, self._flush)

    def _flush(self) -> None:
        if self.timer is not None:
            self.sim.cancel(self.timer)
            self.timer = None
        batch, self.pending = self.pending, []
        if batch:
            self.fire(batch)


def _validate_run(mode: str, arrivals: Iterable[int], kind: str, batch: int, coalesce: int,
                  coalesce_us: int, ring_size: int, costs: IOCosts | None
                  ) -> tuple[tuple[int, ...], IOCosts]:
    check_choice("mode", mode, MODES)
    check_choice("kind", kind, ("nic", "disk"))
    check_int("batch", batch, minimum=1, maximum=4096)
    check_int("coalesce", coalesce, minimum=1, maximum=4096)
    check_int("coalesce_us", coalesce_us, minimum=0, maximum=1_000_000)
    check_int("ring_size", ring_size, minimum=1, maximum=4096)
    if batch > ring_size:
        raise ValueError(f"batch must be <= ring_size ({ring_size}), got {batch}")
    costs = IOCosts() if costs is None else check_type("costs", costs, IOCosts)
    if isinstance(arrivals, (str, bytes)) or not isinstance(arrivals, Iterable):
        raise TypeError(f"arrivals must be a sequence of integers, got {type(arrivals).__name__}")
    out = []
    for t in arrivals:
        out.append(check_int("arrivals", t, minimum=0, maximum=MAX_TIME_US))
        if len(out) > MAX_EVENTS:
            raise ValueError(f"arrivals must hold at most {MAX_EVENTS} requests")
    if not out:
        raise ValueError("arrivals must hold at least one request")
    if any(b < a for a, b in zip(out, out[1:])):
        raise ValueError("arrivals must be sorted in time")
    return tuple(out), costs


def run_io(mode: str, arrivals: Iterable[int], *, kind: str = "nic", batch: int = 8,
           coalesce: int = 1, coalesce_us: int = 20, ring_size: int = 32,
           costs: IOCosts | None = None) -> IOResult:
    """Serve requests arriving at ``arrivals`` (µs) with one device model.

    Parameters
    ----------
    mode : {"emulated", "paravirtual", "passthrough"}
        How the VM gets its device.
    arrivals : sequence of int
        Sorted arrival times of the guest's requests (µs).
    kind : {"nic", "disk"}
        Sets the device's service time.
    batch : int
        Paravirtual only: requests put on the ring per notification (at most
        this many of those waiting when the guest driver runs; <= ring_size).
    coalesce : int
        Interrupt coalescing: completions per interrupt (1 = none).
    coalesce_us : int
        Coalescing timeout: an interrupt fires at the latest this long after
        the first unreported completion.
    ring_size : int
        Slots in the paravirtual ring (default 32, one page in Xen).
    costs : IOCosts, optional
        The cost table (default :class:`IOCosts`).

    Notes
    -----
    The guest has one vCPU on its own pCPU.  Emulated register accesses are
    synchronous: the vCPU waits for QEMU (KVM completes the access on the
    next ``KVM_RUN``, facts.md §10).  Every interrupt injection is counted
    as one exit (the kick of a running vCPU, or the HLT exit of an idle one).
    Passthrough interrupts still go through the hypervisor (one exit each;
    posted interrupts, which avoid it, are not modelled).

    Examples
    --------
    >>> r = run_io("emulated", [0, 0, 0, 0])
    >>> r.exits, r.interrupts
    (28, 4)
    >>> run_io("paravirtual", [0] * 16, batch=16, coalesce=16, coalesce_us=100).exits
    2
    """
    arrivals, costs = _validate_run(mode, arrivals, kind, batch, coalesce, coalesce_us,
                                    ring_size, costs)
    sim = Simulator()
    vcpu, host, dev = _Fifo(sim), _Fifo(sim), _Fifo(sim)
    n = len(arrivals)
    done_at: list[int | None] = [None] * n
    counts = {"exits": 0, "notifications": 0, "interrupts": 0, "host": 0}
    steps: list[Step] = []
    service = costs.service(kind)
    c = costs
    guest = "guest"

    def log(i_or_batch: Any, actor: str, action: str) -> None:
        first = i_or_batch == 0 if isinstance(i_or_batch, int) else 0 in i_or_batch
        if first:
            steps.append(Step(sim.now, actor, action))

    def complete(batch_ids: list[int]) -> None:
        for i in batch_ids:
            done_at[i] = sim.now
        log(batch_ids, guest, f"interrupt handler done: {len(batch_ids)} completion(s)")

    # A raised but not yet handled virtual interrupt stays pending: completions
    # that arrive meanwhile merge into it, and the handler takes every
    # completion reported when it starts (emulated and passthrough devices; the
    # paravirtual path gets the same effect from the event channel's pending bit).
    irq = {"pending": False, "done": []}

    def raise_irq(batch_ids: list[int], exits: int, host_us: int, handler_us: int) -> None:
        irq["done"].extend(batch_ids)
        if irq["pending"]:
            return
        irq["pending"] = True
        counts["interrupts"] += 1
        counts["exits"] += exits
        counts["host"] += host_us

        def begin() -> tuple[int, tuple]:
            ids, irq["done"], irq["pending"] = irq["done"], [], False
            return handler_us, (ids,)
        vcpu.submit_late(begin, complete)

    if mode == "emulated":
        access = c.exit_us + c.qemu_us

        def arrive(i: int) -> None:
            vcpu.submit(c.driver_us + c.mmio_per_request * access, started, i)
            log(i, guest, "driver starts request: "
                f"{c.mmio_per_request} register accesses, each a VM exit "
                "(KVM_EXIT_MMIO 6 / KVM_EXIT_IO 2) handled by QEMU")

        def started(i: int) -> None:
            counts["exits"] += c.mmio_per_request
            counts["notifications"] += 1
            counts["host"] += c.mmio_per_request * access
            log(i, "QEMU", "doorbell emulated: start the real I/O")
            dev.submit(service, dev_done, i)

        def dev_done(i: int) -> None:
            log(i, "device", "transfer done")
            host.submit(c.qemu_us, emulated_done, i)

        def emulated_done(i: int) -> None:
            counts["host"] += c.qemu_us
            log(i, "QEMU", "update device state, ask KVM to inject the interrupt")
            coal.add(i)

        isr = c.exit_us + c.isr_us + c.isr_accesses * access

        def fire(batch_ids: list[int]) -> None:
            log(batch_ids, "KVM", "inject virtual interrupt at the next VM entry")
            raise_irq(batch_ids, 1 + c.isr_accesses, c.exit_us + c.isr_accesses * access, isr)

    elif mode == "paravirtual":
        drv = SplitDriver(guest, "backend", kind, ring_size=ring_size, record=False)
        waiting: deque[int] = deque()
        state = {"driving": False}

        def arrive(i: int) -> None:
            log(i, guest, "request arrives; frontend queues it for the ring")
            waiting.append(i)
            if not state["driving"]:
                state["driving"] = True
                sim.schedule(0, drive)  # after every request arriving now

        def drive() -> None:
            take = min(batch, drv.ring.free, len(waiting))
            if take == 0:           # ring full (or nothing left): wait for responses
                state["driving"] = False
                return
            ids = [waiting.popleft() for _ in range(take)]
            vcpu.submit(take * c.driver_us + c.exit_us, pushed, ids)

        def pushed(ids: list[int]) -> None:
            for i in ids:
                drv.frontend_submit(sim.now, i, 0x1000 + i, notify=False)
            log(ids, guest, f"frontend put {len(ids)} request(s) on the ring")
            drv.notify_backend(sim.now)
            counts["exits"] += 1
            counts["notifications"] += 1
            counts["host"] += c.exit_us
            log(ids, guest, "one notification for the batch (kick: VM exit)")
            host.submit(0, backend_run)
            drive()

        def backend_run() -> None:
            reqs = drv.backend_take(sim.now)
            if reqs:
                ids = [r[0] for r in reqs]
                host.submit(c.backend_us * len(ids), backend_submit, ids)

        def backend_submit(ids: list[int]) -> None:
            counts["host"] += c.backend_us * len(ids)
            log(ids, "backend", f"take {len(ids)} request(s), map grants, submit")
            for i in ids:
                dev.submit(service, dev_done, i)

        def dev_done(i: int) -> None:
            drv.backend_respond(sim.now, i, notify=False)
            log(i, "device", "transfer done; backend puts the response on the ring")
            coal.add(i)

        def fire(batch_ids: list[int]) -> None:
            if drv.notify_frontend(sim.now):   # a pending upcall absorbs later ones
                counts["interrupts"] += 1
                counts["exits"] += 1
                counts["host"] += c.exit_us
                log(batch_ids, "hypervisor", "event channel upcall into the guest")
                vcpu.submit(c.exit_us + c.isr_us, frontend_done, urgent=True)

        def frontend_done() -> None:
            ids = drv.frontend_complete(sim.now)
            complete(ids)
            if waiting and not state["driving"]:
                state["driving"] = True
                drive()

    else:  # passthrough
        def arrive(i: int) -> None:
            log(i, guest, "request arrives; driver builds the descriptor")
            vcpu.submit(c.driver_us, started, i)

        def started(i: int) -> None:
            counts["notifications"] += 1
            log(i, guest, "driver writes the doorbell directly (MMIO mapped, no exit)")
            dev.submit(service, dev_done, i)

        def dev_done(i: int) -> None:
            log(i, "device", "DMA through the IOMMU done")
            coal.add(i)

        def fire(batch_ids: list[int]) -> None:
            log(batch_ids, "hypervisor", "physical interrupt exit; inject it into the guest")
            raise_irq(batch_ids, 1, c.exit_us, c.exit_us + c.isr_us)

    coal = _Coalescer(sim, coalesce, coalesce_us, fire)
    for i, t in enumerate(arrivals):
        sim.at(t, arrive, i)
    sim.run()
    if any(d is None for d in done_at):   # pragma: no cover - a model bug, not user input
        raise RuntimeError(f"{mode}: {done_at.count(None)} request(s) never completed")
    latencies = tuple(d - a for d, a in zip(done_at, arrivals))  # type: ignore[operator]
    return IOResult(mode=mode, kind=kind, requests=n, exits=counts["exits"],
                    notifications=counts["notifications"], interrupts=counts["interrupts"],
                    latencies=latencies, makespan_us=max(done_at) - arrivals[0],  # type: ignore
                    host_us=counts["host"], migratable=mode != "passthrough",
                    shared=mode != "passthrough", steps=tuple(steps))


def compare_io(requests: int = 64, *, kind: str = "nic", gap_us: int = 0, poisson: bool = False,
               batch: int = 8, coalesce: int = 1, coalesce_us: int = 20, ring_size: int = 32,
               costs: IOCosts | None = None, seed: int = 0) -> IOComparison:
    """Run the same workload through all three device models.

    Parameters
    ----------
    requests : int
        Number of requests (packets to send / blocks to read).
    kind : {"nic", "disk"}
        The device.
    gap_us : int
        Gap between arrivals (0: one burst); the mean gap with ``poisson=True``.
    poisson : bool
        Exponential gaps drawn with ``seed`` (see :func:`make_arrivals`).
    batch, coalesce, coalesce_us, ring_size, costs
        As in :func:`run_io`.
    seed : int
        Seed for the arrivals.

    Examples
    --------
    >>> cmp = compare_io(requests=64, batch=8)
    >>> emu, pv, pt = cmp.results
    >>> emu.exits_per_request > pv.exits_per_request
    True
    >>> emu.exits_per_request > pt.exits_per_request
    True
    >>> pv.notifications    # the 32-slot ring fills up: some batches are short
    15
    >>> [compare_io(requests=64, batch=b, ring_size=64).by_mode("paravirtual").notifications
    ...  for b in (1, 8, 64)]
    [64, 8, 1]
    """
    check_int("requests", requests, minimum=1, maximum=MAX_EVENTS)
    arrivals = make_arrivals(requests, gap_us, poisson=poisson, seed=seed)
    results = tuple(run_io(m, arrivals, kind=kind, batch=batch, coalesce=coalesce,
                           coalesce_us=coalesce_us, ring_size=ring_size, costs=costs)
                    for m in MODES)
    return IOComparison(arrivals=arrivals, kind=kind, batch=batch, coalesce=coalesce,
                        results=results)
