"""The simulated machine: pCPUs, VMs and vCPUs on the discrete-event core.

:func:`simulate` builds a :class:`System` (the engine), runs it on
:class:`virtlab.sim.Simulator` (integer microseconds, callbacks only on the
hot path) and returns a :class:`~virtlab.scheduler.trace.Trace`.

The engine owns the mechanics every scheduler shares — dispatching, run
intervals, workload phases, blocking and wake-ups, preemption requests
(*tickles*) and co-scheduling — and asks the scheduler strategy only *what*
to run (hooks in :mod:`virtlab.scheduler.base`).  Co-scheduling therefore
works with every scheduler:

* ``strict`` (gang scheduling, VMware ESX 2): the scheduler sees only vCPU 0
  of a multi-vCPU VM as a proxy (runnable while any vCPU is awake).  When it
  is picked, the engine needs one free pCPU per vCPU; if they are not free it
  *reserves* pCPUs as they come free (they idle: CPU fragmentation) until all
  are there, then co-starts every vCPU; any preemption co-stops them all.
  A blocked vCPU keeps its pCPU while its gang runs (it idles in the guest).
  ESX 2 tolerated a small skew before co-stopping the whole VM; virtlab's
  strict mode is the limit of that rule with threshold 0, so that a strict
  subset of a VM's vCPUs never runs (the definition on the slide).
* ``relaxed`` (the ESX 4 rule; ESX 3 still co-stopped the whole VM):
  progress = CPU time; a running vCPU more than the
  threshold ahead of its slowest runnable sibling is co-stopped (paused)
  until the laggards have caught up to half the threshold.  A vCPU waking
  from idle counts as having kept pace (idle is progress, ESX 3).

Examples
--------
>>> from virtlab.scheduler import CreditScheduler, VM
>>> t = simulate(CreditScheduler(), [VM("a"), VM("b")], pcpus=2, duration_ms=100)
>>> t.share("a"), t.share("b")
(1.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..errors import check_int, check_number, check_type
from ..rng import derive_seed, make_rng
from ..sim import Simulator
from .base import MAX_PCPUS, VM, Scheduler
from .trace import Trace, build_trace

__all__ = ["simulate", "MAX_DURATION_MS", "MAX_TOTAL_VCPUS"]

MAX_DURATION_MS = 3_600_000.0
#: Upper bound on pcpus × duration_ms (64 pCPUs for 10 simulated minutes), so
#: hostile input cannot start a run that takes hours.
MAX_WORK_PCPU_MS = 64 * 600_000
MAX_TOTAL_VCPUS = 4096
_INF = math.inf


class VCpu:
    """Engine state of one virtual CPU (schedulers keep their data in it too)."""

    __slots__ = (
        "gid", "vmi", "index", "vm", "name", "affinity", "allowed",
        "blocked", "paused", "eligible", "pcpu", "last_pcpu", "start",
        "remaining", "phase_end", "phase_ev", "wl", "woke_at", "wait_since",
        "run_us", "wait_us", "latencies", "last_iv", "prog", "prog_since",
        "costopped", "costop_since", "costop_us",
        # scheduler-private fields (Credit / SEDF)
        "credit", "residual", "pri", "active", "parked", "sstart", "qpcpu",
        "period", "slice", "deadline", "cputime", "extra", "misses", "home")

    def __init__(self, gid, vmi, index, vm, allowed):
        self.gid, self.vmi, self.index, self.vm = gid, vmi, index, vm
        self.name = f"{vm.name}.{index}"
        self.allowed = allowed            # frozenset of pCPUs
        self.affinity = tuple(sorted(allowed))
        self.blocked = False
        self.paused = 0
        self.eligible = False
        self.pcpu = -1
        self.last_pcpu = -1
        self.start = 0
        self.remaining = None
        self.phase_end = 0
        self.phase_ev = None
        self.wl = None
        self.woke_at = -1
        self.wait_since = 0
        self.run_us = 0
        self.wait_us = 0
        self.latencies = []
        self.last_iv = -1
        self.prog = 0
        self.prog_since = -1
        self.costopped = False
        self.costop_since = 0
        self.costop_us = 0
        self.credit = self.residual = self.pri = 0
        self.active = self.parked = False
        self.sstart = 0
        self.qpcpu = -1
        self.period = self.slice = self.deadline = self.cputime = 0
        self.extra = False
        self.misses = 0
        self.home = -1

    def __repr__(self) -> str:
        where = f"on pCPU {self.pcpu}" if self.pcpu >= 0 else (
            "blocked" if self.blocked else "waiting")
        return f"<VCpu {self.name} {where}>"


class _Group:
    """Co-scheduling state of one multi-vCPU VM."""

    __slots__ = ("vmi", "members", "mode", "running", "waiting", "reserved",
                 "lead_run", "gang_ev", "check_ev", "max_skew", "allowed")

    def __init__(self, vmi, members, mode):
        self.vmi, self.members, self.mode = vmi, members, mode
        self.running = False
        self.waiting = False
        self.reserved = []
        self.lead_run = None
        self.gang_ev = None
        self.check_ev = None
        self.max_skew = 0
        self.allowed = frozenset.intersection(*(m.allowed for m in members))


class System:
    """The engine (see the module docstring); use :func:`simulate` to run it.

    Attributes
    ----------
    sim : virtlab.sim.Simulator
    npcpus : int
    vcpus : list of VCpu
    cur : list of VCpu or None
        What each pCPU runs now.
    """

    def __init__(self, scheduler: Scheduler, vms: tuple[VM, ...], pcpus: int, seed: int):
        self.sim = Simulator()
        self.sched = scheduler
        self.vms = vms
        self.npcpus = pcpus
        self.cur: list[VCpu | None] = [None] * pcpus
        self.slice_ev = [None] * pcpus
        self.reserved: list[_Group | None] = [None] * pcpus
        self.idle = set(range(pcpus))
        self._tickled = [False] * pcpus
        self.iv_pcpu: list[int] = []
        self.iv_start: list[int] = []
        self.iv_end: list[int] = []
        self.iv_vcpu: list[int] = []
        self.reserve_log: list[tuple[int, int, int, int]] = []  # (pcpu, start, end, vmi)
        self._reserve_start = [0] * pcpus
        self.vcpus: list[VCpu] = []
        self.vm_vcpus: list[list[VCpu]] = []
        self.groups: list[_Group | None] = []
        self.waiting_gangs: list[_Group] = []
        everything = frozenset(range(pcpus))
        for vmi, vm in enumerate(vms):
            allowed = everything if vm.affinity is None else frozenset(vm.affinity)
            members = []
            for i in range(vm.vcpus):
                v = VCpu(len(self.vcpus), vmi, i, vm, allowed)
                self.vcpus.append(v)
                members.append(v)
            self.vm_vcpus.append(members)
            group = None
            if vm.vcpus > 1:
                group = _Group(vmi, members, scheduler.cosched)
            self.groups.append(group)
        self.threshold = int(scheduler.skew_threshold_ms * 1000)
        # workloads: one generator per vCPU, one shared dict per VM
        for vmi, vm in enumerate(vms):
            shared = {"engine": self}
            for v in self.vm_vcpus[vmi]:
                rng = make_rng(derive_seed(seed, f"{vm.name}/{v.index}"))
                v.wl = vm.workload.instance(v, rng, shared)

    # -- public helpers for schedulers and workloads --------------------------
    @property
    def now(self) -> int:
        """Current simulated time in microseconds."""
        return self.sim.now

    def tickle(self, pcpu: int) -> None:
        """Ask ``pcpu`` to reschedule soon (at the current time, deduplicated)."""
        if not self._tickled[pcpu]:
            self._tickled[pcpu] = True
            self.sim.schedule(0, self._on_tickle, pcpu, priority=-1)

    def set_phase(self, v: VCpu, remaining: int | None) -> None:
        """Give ``v``'s workload a new phase length (re-arms a running vCPU)."""
        v.remaining = remaining
        if v.pcpu >= 0 and not v.blocked:
            if v.phase_ev is not None:
                v.phase_ev.cancelled = True
                v.phase_ev = None
            if remaining is not None:
                v.phase_end = self.sim.now + remaining
                v.phase_ev = self.sim.schedule(remaining, self._phase_end, v)

    def pause(self, v: VCpu) -> None:
        """Make ``v`` ineligible (Credit parking, co-stop); deschedules it if running."""
        v.paused += 1
        if v.pcpu >= 0:
            self._resched(v.pcpu)
        else:
            self._refresh(v, False)

    def unpause(self, v: VCpu) -> None:
        """Undo one :meth:`pause` (no BOOST: this is not an I/O wake-up)."""
        v.paused -= 1
        if v.paused == 0 and v.pcpu < 0:
            self._refresh(v, False)

    # -- eligibility ------------------------------------------------------------
    def _eligible(self, v: VCpu) -> bool:
        g = self.groups[v.vmi]
        if g is not None and g.mode == "strict":
            if v.index != 0:
                return False                     # followers go with the leader
            if g.waiting:
                return v.eligible                # picked, waiting for its pCPUs
            return v.paused == 0 and not all(m.blocked for m in g.members)
        return not v.blocked and v.paused == 0

    def _refresh(self, v: VCpu, boost: bool) -> None:
        e = self._eligible(v)
        if e != v.eligible:
            v.eligible = e
            if v.pcpu < 0:
                if e:
                    self.sched.on_wake(v, boost)
                else:
                    self.sched.on_block(v)

    # -- dispatching ------------------------------------------------------------
    def _dispatch(self, v: VCpu, p: int, run_us: int | None) -> None:
        sim = self.sim
        now = sim.now
        self.cur[p] = v
        v.pcpu = p
        v.last_pcpu = p
        v.start = now
        self.idle.discard(p)
        if not v.blocked:
            if v.woke_at >= 0:
                v.latencies.append(now - v.woke_at)
                v.woke_at = -1
            v.wait_us += now - v.wait_since
            v.wl.on_run(now)
            rem = v.remaining
            if rem is not None:
                v.phase_end = now + rem
                v.phase_ev = sim.schedule(rem, self._phase_end, v)
        self.sched.on_start(v, p)
        if run_us is not None:
            self.slice_ev[p] = sim.schedule(run_us, self._resched, p)
        if self.groups[v.vmi] is not None:
            self._progress_changed(v, now)

    def _undispatch(self, v: VCpu) -> tuple[int, int]:
        now = self.sim.now
        p = v.pcpu
        ran = now - v.start
        if ran > 0:
            k = v.last_iv
            if k >= 0 and self.iv_end[k] == v.start and self.iv_pcpu[k] == p:
                self.iv_end[k] = now
            else:
                v.last_iv = len(self.iv_start)
                self.iv_pcpu.append(p)
                self.iv_start.append(v.start)
                self.iv_end.append(now)
                self.iv_vcpu.append(v.gid)
            v.run_us += ran
        if not v.blocked:
            if v.phase_ev is not None:
                v.phase_ev.cancelled = True
                v.phase_ev = None
                v.remaining = v.phase_end - now
            v.wl.on_stop(now)
            v.wait_since = now
        self.cur[p] = None
        v.pcpu = -1
        ev = self.slice_ev[p]
        if ev is not None:
            ev.cancelled = True
            self.slice_ev[p] = None
        if self.groups[v.vmi] is not None:
            self._progress_changed(v, now)
        return p, ran

    def _on_tickle(self, p: int) -> None:
        self._tickled[p] = False
        if self.cur[p] is None or self.sched.wants_preempt(p):
            self._resched(p)

    def _resched(self, p: int) -> None:
        """Deschedule what ``p`` runs (if anything) and pick anew."""
        v = self.cur[p]
        if v is not None:
            g = self.groups[v.vmi]
            if g is not None and g.running:
                self._gang_stop(g)
                return
            _, ran = self._undispatch(v)
            v.eligible = e = self._eligible(v)
            self.sched.on_stop(v, p, ran, e)
        self._pick(p)

    def _pick(self, p: int) -> None:
        if self.reserved[p] is not None:
            return
        if self.waiting_gangs:
            for g in self.waiting_gangs:
                if p in g.allowed:
                    self._reserve(g, p)
                    return
        v, run = self.sched.pick(p)
        if v is None:
            self.idle.add(p)
            return
        if v.pcpu >= 0 or not v.eligible or p not in v.allowed:
            self._bad_pick(v, p)
        g = self.groups[v.vmi]
        if g is not None and g.mode == "strict":
            self._gang_try(g, p, run)
            return
        self._dispatch(v, p, run)

    def _bad_pick(self, v: VCpu, p: int) -> None:
        if v.pcpu >= 0:
            why = f"it already runs on pCPU {v.pcpu}"
        elif not v.eligible:
            why = "it is not runnable (blocked, parked or co-stopped)"
        else:
            why = f"its affinity allows only pCPUs {list(v.affinity)}"
        raise RuntimeError(f"scheduler {self.sched.describe()!r} picked vCPU {v.name} "
                           f"for pCPU {p}, but {why}")

    # -- workload events ----------------------------------------------------------
    def _phase_end(self, v: VCpu) -> None:
        v.phase_ev = None
        now = self.sim.now
        kind, amount = v.wl.advance(now)
        if kind == "run":
            v.remaining = amount
            if amount is not None and v.pcpu >= 0 and v.phase_ev is None:
                v.phase_end = now + amount
                v.phase_ev = self.sim.schedule(amount, self._phase_end, v)
            return
        # block: an I/O request or the end of a periodic job
        v.wl.on_stop(now)
        v.remaining = None
        v.blocked = True
        self.sim.schedule(amount, self._wake, v)
        g = self.groups[v.vmi]
        if g is not None and g.mode == "strict" and g.running:
            return                       # a gang member idles on its pCPU
        self._resched(v.pcpu)

    def _wake(self, v: VCpu) -> None:
        now = self.sim.now
        v.blocked = False
        v.woke_at = now
        v.wait_since = now
        v.remaining = v.wl.on_wake(now)
        g = self.groups[v.vmi]
        if g is not None:
            if v.pcpu >= 0:              # strict gang member idling on its pCPU
                v.latencies.append(0)
                v.woke_at = -1
                v.wl.on_run(now)
                self.set_phase(v, v.remaining)
                return
            if g.mode == "strict":
                self._refresh(g.members[0], True)
                return
            # idle counted as progress: the waker has kept pace with the slowest
            # awake sibling (or, if all were idle, with the most advanced one)
            lag = [self._progress(m, now) for m in g.members if m is not v and not m.blocked]
            if not lag:
                lag = [max(self._progress(m, now) for m in g.members)]
            v.prog = max(v.prog, min(lag))
            self._progress_changed(v, now)
        self._refresh(v, True)

    # -- strict co-scheduling (gangs) ---------------------------------------------
    def _gang_try(self, g: _Group, p: int, run: int | None) -> None:
        n = len(g.members)
        free = [p] + sorted(q for q in self.idle if q in g.allowed and q != p)
        g.lead_run = run
        if len(free) >= n:
            self._gang_start(g, free[:n])
            return
        g.waiting = True
        self.waiting_gangs.append(g)
        for q in free:
            self._reserve(g, q)

    def _reserve(self, g: _Group, q: int) -> None:
        self.idle.discard(q)
        self.reserved[q] = g
        self._reserve_start[q] = self.sim.now
        g.reserved.append(q)
        if len(g.reserved) >= len(g.members):
            self.waiting_gangs.remove(g)
            g.waiting = False
            pcpus = g.reserved
            g.reserved = []
            for r in pcpus:
                self.reserved[r] = None
                if self.sim.now > self._reserve_start[r]:
                    self.reserve_log.append((r, self._reserve_start[r], self.sim.now, g.vmi))
            lead = g.members[0]
            if lead.paused:              # parked (cap) while waiting: give up the pCPUs
                lead.eligible = False
                for r in pcpus:
                    self._pick(r)
                return
            self._gang_start(g, pcpus)

    def _gang_start(self, g: _Group, pcpus: list[int]) -> None:
        g.running = True
        for m, q in zip(g.members, pcpus):
            self._dispatch(m, q, None)
        run = g.lead_run if g.lead_run is not None else 30_000
        g.gang_ev = self.sim.schedule(run, self._gang_expire, g)

    def _gang_expire(self, g: _Group) -> None:
        g.gang_ev = None
        if g.running:
            self._gang_stop(g)

    def _gang_stop(self, g: _Group) -> None:
        g.running = False
        if g.gang_ev is not None:
            g.gang_ev.cancelled = True
            g.gang_ev = None
        freed = []
        for m in g.members:
            if m.pcpu >= 0:
                p, ran = self._undispatch(m)
                m.eligible = e = self._eligible(m)
                self.sched.on_stop(m, p, ran, e)
                freed.append(p)
        # the leader's own pCPU picks last, so the others first serve their queues
        for p in sorted(freed, key=lambda q: q == g.members[0].last_pcpu):
            if self.cur[p] is None and self.reserved[p] is None:
                self._pick(p)

    # -- skew tracking and relaxed co-scheduling ----------------------------------
    def _progress(self, v: VCpu, now: int) -> int:
        return v.prog + (now - v.prog_since if v.prog_since >= 0 else 0)

    def _progress_changed(self, v: VCpu, now: int) -> None:
        running = v.pcpu >= 0
        if running and v.prog_since < 0:
            v.prog_since = now
        elif not running and v.prog_since >= 0:
            v.prog += now - v.prog_since
            v.prog_since = -1
        g = self.groups[v.vmi]
        self._measure_skew(g, now)
        if g.mode == "relaxed":
            ev = g.check_ev
            if ev is not None and ev.time > now:
                ev.cancelled = True
                ev = None
            if ev is None:
                g.check_ev = self.sim.schedule(0, self._cosched_check, g, priority=1)

    def _measure_skew(self, g: _Group, now: int) -> None:
        progs = [self._progress(m, now) for m in g.members if not m.blocked]
        if len(progs) > 1:
            skew = max(progs) - min(progs)
            if skew > g.max_skew:
                g.max_skew = skew

    def _cosched_check(self, g: _Group) -> None:
        g.check_ev = None
        now = self.sim.now
        thr = self.threshold
        members = [m for m in g.members if not m.blocked]
        if len(members) < 2:
            for m in g.members:
                if m.costopped:
                    self._costart(m, now)
            return
        prog = {m.gid: self._progress(m, now) for m in members}
        low = min(prog.values())
        for m in members:
            if m.costopped and prog[m.gid] - low <= thr // 2:
                self._costart(m, now)
        for m in members:
            if not m.costopped and m.pcpu >= 0 and prog[m.gid] - low >= thr:
                m.costopped = True
                m.costop_since = now
                self.pause(m)
        # when must we look again?
        nxt = _INF
        stalled = [prog[m.gid] for m in members if m.pcpu < 0]
        if stalled:
            ms = min(stalled)
            for m in members:
                if m.pcpu >= 0 and not m.costopped:
                    nxt = min(nxt, thr - (prog[m.gid] - ms))
        for c in members:
            if c.costopped:
                target = prog[c.gid] - thr // 2
                need = 0
                for m in members:
                    if m is not c and prog[m.gid] < target:
                        if m.pcpu < 0:
                            need = _INF
                            break
                        need = max(need, target - prog[m.gid])
                nxt = min(nxt, need)
        if nxt < _INF and g.check_ev is None:
            g.check_ev = self.sim.schedule(max(1, int(nxt)), self._cosched_check, g, priority=1)

    def _costart(self, m: VCpu, now: int) -> None:
        m.costopped = False
        m.costop_us += now - m.costop_since
        self.unpause(m)

    # -- running ----------------------------------------------------------------
    def run(self, duration_us: int) -> None:
        """Start every vCPU, run to ``duration_us`` and close the books."""
        sim = self.sim
        self.sched.attach(self)
        for v in self.vcpus:
            kind, amount = v.wl.begin(0)
            if kind == "run":
                v.remaining = amount
            else:
                v.blocked = True
                sim.schedule(amount, self._wake, v)
        for v in self.vcpus:             # schedulers tickle the pCPUs they queue on
            self._refresh(v, False)
        sim.run(until=duration_us)
        now = sim.now
        for p, v in enumerate(self.cur):
            if v is not None:
                self._undispatch(v)
        for p, g in enumerate(self.reserved):
            if g is not None and now > self._reserve_start[p]:
                self.reserve_log.append((p, self._reserve_start[p], now, g.vmi))
        for v in self.vcpus:
            if not v.blocked and v.pcpu < 0:
                v.wait_us += now - v.wait_since
                v.wait_since = now
            if v.costopped:
                v.costop_us += now - v.costop_since


def check_vms(vms, pcpus: int) -> tuple[VM, ...]:
    """``vms`` as a tuple of VM: non-empty, unique names, affinities within ``pcpus``."""
    if isinstance(vms, VM):
        vms = [vms]
    if not isinstance(vms, Sequence) or isinstance(vms, (str, bytes)):
        raise TypeError(f"vms must be a list of VM, got {type(vms).__name__}")
    vms = tuple(vms)
    if not vms:
        raise ValueError("vms must contain at least one VM")
    names = set()
    total = 0
    for i, vm in enumerate(vms):
        check_type(f"vms[{i}]", vm, VM)
        if vm.name in names:
            raise ValueError(f"vms must have unique names, {vm.name!r} appears twice")
        names.add(vm.name)
        total += vm.vcpus
        if vm.affinity is not None and max(vm.affinity) >= pcpus:
            raise ValueError(f"affinity of VM {vm.name!r} names pCPU {max(vm.affinity)}, "
                             f"but pcpus is {pcpus} (pCPUs are 0..{pcpus - 1})")
    if total > MAX_TOTAL_VCPUS:
        raise ValueError(f"vms must have at most {MAX_TOTAL_VCPUS} vCPUs in total, got {total}")
    return vms


def simulate(scheduler: Scheduler, vms, pcpus: int, duration_ms: float, seed: int = 0) -> Trace:
    """Run VMs on ``pcpus`` physical CPUs under ``scheduler`` and return a trace.

    Parameters
    ----------
    scheduler : Scheduler
        :class:`~virtlab.scheduler.CreditScheduler`,
        :class:`~virtlab.scheduler.SEDFScheduler` or your own; its
        ``cosched`` option selects co-scheduling.
    vms : list of VM
        The virtual machines (unique names).
    pcpus : int
        Number of physical CPUs, 1..1024.
    duration_ms : float
        Simulated time in milliseconds (> 0, at most one hour, and
        ``pcpus × duration_ms`` at most 64 pCPUs × 10 minutes).
    seed : int
        Seeds the workloads' random generators (same seed, same trace).

    Returns
    -------
    Trace
        ``trace.share(name)`` is the VM's fraction of **one** pCPU over the run.

    Raises
    ------
    ValueError, TypeError
        Bad arguments; SEDF over-admission; a strict-co-scheduled VM with
        more vCPUs than the pCPUs it may use.

    Examples
    --------
    >>> from virtlab.scheduler import CreditScheduler, VM
    >>> t = simulate(CreditScheduler(), [VM("a", weight=256), VM("b", weight=512)],
    ...              pcpus=1, duration_ms=3000)
    >>> abs(t.share("a") - 1/3) < 0.02, abs(t.share("b") - 2/3) < 0.02
    (True, True)
    """
    check_type("scheduler", scheduler, Scheduler)
    pcpus = check_int("pcpus", pcpus, minimum=1, maximum=MAX_PCPUS)
    duration_ms = check_number("duration_ms", duration_ms, minimum=0.0,
                               maximum=MAX_DURATION_MS, strict_minimum=True)
    check_int("seed", seed, minimum=0, maximum=2**63 - 1)
    if pcpus * duration_ms > MAX_WORK_PCPU_MS:
        raise ValueError(f"pcpus × duration_ms must be <= {MAX_WORK_PCPU_MS} (e.g. 64 pCPUs "
                         f"for 10 simulated minutes), got {pcpus} × {duration_ms:g}")
    vms = check_vms(vms, pcpus)
    duration_us = max(1, int(duration_ms * 1000 + 0.5))
    if scheduler.cosched == "strict":
        for vm in vms:
            allowed = pcpus if vm.affinity is None else len(vm.affinity)
            if vm.vcpus > allowed:
                raise ValueError(f"strict co-scheduling needs as many pCPUs as vCPUs: VM "
                                 f"{vm.name!r} has {vm.vcpus} vCPUs but may use {allowed} pCPUs")
    scheduler.validate(vms, pcpus)
    system = System(scheduler, vms, pcpus, seed)
    system.run(duration_us)
    return build_trace(system, duration_us, seed)
