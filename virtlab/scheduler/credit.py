"""Xen's Credit scheduler (*Credit-Scheduler*), after ``xen/common/sched/credit.c``.

"Jeder vCPU wird initial ein Kredit gewährt, der zeitgesteuert reduziert
wird" (lecture).  The model follows credit.c (facts.md §4):

* one run queue per pCPU; a vCPU is inserted in front of the first vCPU of
  strictly lower priority, BOOST (0) > UNDER (−1) > OVER (−2), so FIFO among
  equals (``__runq_insert``); the pCPU runs the head (an empty queue means
  IDLE, −64); accounting changes priorities but not positions — the queue is
  re-sorted (UNDER and better moved ahead of OVER, stably) at the next tick
  (``csched_runq_sort``), so in between the head may be an OVER vCPU;
* a running vCPU is charged by measured runtime, 10 credits per ms
  (``burn_credits``: runtime × 10 / 1000 µs with the remainder carried);
* a tick every 10 ms (3 per 30 ms timeslice) charges the running vCPU,
  drops BOOST to UNDER and puts the vCPU on the *active* list;
* accounting every timeslice (30 ms, ``csched_acct``) hands out
  ``credit_total = 300 × #pCPUs`` in proportion to weight × active vCPUs
  (``⌈credit_total·weight·active/Σ⌉``), capped at ``⌈cap·300/100⌉`` per
  VM and at one timeslice per active vCPU; credit < 0 → OVER, else UNDER;
  credit is floored at −300; above +300 a vCPU stops earning (inactive) and
  its credit is halved; unused credit is offered to the remaining VMs; a
  negative credit balance of the active vCPUs is handed out on top;
* a capped vCPU whose credit falls below −(its share of the cap) is *parked*
  (paused) until accounting finds its credit non-negative again — Credit is
  not work-conserving past a cap;
* a waking UNDER vCPU (not parked) is BOOSTed; it is queued on its last
  pCPU, or on an idle one if that is busy (``csched_res_pick``), and
  preempts a lower-priority vCPU; otherwise an idle pCPU is tickled to come
  and steal it;
* a pCPU whose best local candidate is OVER or IDLE steals a strictly
  higher-priority, queued vCPU from a peer's run queue (load balancing);
  peers that are idle are not robbed (they will run their own work).

As in credit.c, a vCPU becomes *active* (earns credit, has its priority
recomputed, loses BOOST) only when a tick finds it running: a periodic task
whose jobs always end before the 10 ms tick escapes accounting in this model
(give it a period that drifts against the tick to see normal behaviour).

**Very unequal weights: Credit is not proportional, and neither is Xen.**
Two CPU-bound VMs follow their weights closely on one pCPU (even 32:1024),
but with three or more and one dominant weight the heavy VM gets less than
its ratio: weights 64/512/32/32 give shares of about 0.24/0.53/0.12/0.12
instead of 0.1/0.8/0.05/0.05.  The cause is credit.c itself (checked against
xen-project/xen ``xen/common/sched/credit.c``):

1. ``csched_acct``::

       /* Upper bound on credits means UNIT stops earning */
       if ( credit > prv->credits_per_tslice )
       {
           __csched_unit_acct_stop_locked(prv, svc);
           credit /= 2;

   The test does not ask whether the vCPU is runnable.  A heavy vCPU earns
   almost a whole timeslice per accounting period (512/640 of 300 = 240
   credits); whenever it has waited a 30 ms slice or two behind other UNDER
   vCPUs (FIFO among equals), its credit passes 300: it is taken off the
   active list and half its credit is thrown away.
2. It rejoins only in ``csched_unit_acct``
   (``if ( list_empty(&svc->active_unit_elem) ) __csched_unit_acct_start``),
   which ``csched_tick`` calls for the vCPU *running* on the pCPU; a vCPU
   waiting in the run queue stays inactive until it runs again.
3. While it is inactive its weight is missing from ``prv->weight``, so the
   remaining VMs get its share (``credit_fair = credit_total · weight ·
   active / weight_total``), and since ``credit_balance`` sums the active
   vCPUs only, their debt comes back as extra credit
   (``credit_total -= prv->credit_balance``).

The light VMs therefore get more than their ratio and the heavy one less.
``CreditScheduler(halve_waiting=False)`` is a what-if (not Xen): only a
vCPU that is *not* runnable stops earning; then 64/512/32/32 comes out at
0.1/0.8/0.05/0.05 within 0.01, which shows that rule is the cause.  The
size of the effect depends on the phase between the 30 ms slices and the
tick/accounting timers (here slices end exactly at accounting; shifting the
timers by a few ms gives the heavy VM between about 0.56 and 0.74): Xen arms
its timers at boot, so on a real host the phase is arbitrary.  Before this
was traced to credit.c, the model also kept its run queue sorted at all
times; it now keeps Xen's order (see above), which moved the heavy VM from
0.43 to 0.53.

A preempted vCPU that stays runnable is requeued on its pCPU and an idle
pCPU in its affinity is tickled to steal it (credit.c tickles idlers when
work is queued at wake-up; for requeued work Xen relies on the idlers' own
rescheduling and the tick's migration check — the effect, no pCPU idling
next to queued work for long, is the same).

Simplifications: one scheduling pool, no soft affinity or NUMA nodes, no
cache-hot migration delay (Xen's default ``vcpu_migration_delay`` is 0), no
rate limit (its default is not verified), the queue is re-sorted at the
next tick after accounting (as in Xen).

Examples
--------
>>> from virtlab.scheduler import VM, simulate
>>> t = simulate(CreditScheduler(), [VM("a", cap=50)], pcpus=1, duration_ms=1200)
>>> t.share("a")
0.5
"""

from __future__ import annotations

from ..errors import check_bool, check_int
from .base import Scheduler
from .system import check_vms

__all__ = ["CreditScheduler", "BOOST", "UNDER", "OVER", "IDLE", "fair_shares"]

BOOST, UNDER, OVER, IDLE = 0, -1, -2, -64
_LEVEL = {BOOST: 0, UNDER: 1, OVER: 2}
_PRI = (BOOST, UNDER, OVER)


class CreditScheduler(Scheduler):
    """Xen Credit: weights, caps, BOOST, accounting, load balancing.

    Parameters
    ----------
    tslice_ms : int
        Timeslice and accounting period (Xen default 30 ms).
    ticks_per_tslice : int
        Ticks per timeslice (Xen: 3, so a 10 ms tick).
    credits_per_ms : int
        Credits burnt per ms of CPU (Xen: 10; 300 per timeslice).
    boost : bool
        BOOST waking vCPUs (True as in Xen; False to measure its effect).
    load_balance : bool
        Idle/OVER pCPUs steal work from peers (True as in Xen).
    halve_waiting : bool
        True (Xen): at accounting every vCPU with more than one timeslice of
        credit stops earning and has its credit halved, even if it is
        runnable and waiting.  False is a what-if: only vCPUs that are not
        runnable do (see the module docstring).
    cosched, skew_threshold_ms
        See :class:`~virtlab.scheduler.base.Scheduler`.

    Examples
    --------
    >>> from virtlab.scheduler import VM, simulate
    >>> t = simulate(CreditScheduler(), [VM("a", weight=256), VM("b", weight=512)], 1, 3000)
    >>> abs(t.share("a") - 1/3) < 0.02, abs(t.share("b") - 2/3) < 0.02
    (True, True)
    >>> ws = [VM("a", weight=64), VM("b", weight=512), VM("c", weight=32), VM("d", weight=32)]
    >>> round(simulate(CreditScheduler(), ws, 1, 10_000).share("b"), 2)   # 0.8 by weight
    0.53
    >>> round(simulate(CreditScheduler(halve_waiting=False), ws, 1, 10_000).share("b"), 2)
    0.79
    >>> CreditScheduler(tslice_ms=0)
    Traceback (most recent call last):
    ...
    ValueError: tslice_ms must be an integer in [1, 1000], got 0
    """

    name = "credit"

    def __init__(self, *, tslice_ms: int = 30, ticks_per_tslice: int = 3,
                 credits_per_ms: int = 10, boost: bool = True, load_balance: bool = True,
                 halve_waiting: bool = True, cosched: str = "none",
                 skew_threshold_ms: float = 3.0):
        super().__init__(cosched=cosched, skew_threshold_ms=skew_threshold_ms)
        self.tslice_ms = check_int("tslice_ms", tslice_ms, minimum=1, maximum=1000)
        self.ticks_per_tslice = check_int("ticks_per_tslice", ticks_per_tslice,
                                          minimum=1, maximum=100)
        if (tslice_ms * 1000) % ticks_per_tslice:
            raise ValueError("ticks_per_tslice must divide tslice_ms*1000 µs evenly, got "
                             f"tslice_ms={tslice_ms}, ticks_per_tslice={ticks_per_tslice}")
        self.credits_per_ms = check_int("credits_per_ms", credits_per_ms, minimum=1,
                                        maximum=1_000_000)
        self.boost = check_bool("boost", boost)
        self.load_balance = check_bool("load_balance", load_balance)
        self.halve_waiting = check_bool("halve_waiting", halve_waiting)

    def describe(self) -> str:
        extra = []
        if not self.boost:
            extra.append("no BOOST")
        if not self.load_balance:
            extra.append("no load balancing")
        if not self.halve_waiting:
            extra.append("waiting vCPUs keep earning")
        if self.cosched != "none":
            extra.append(f"co-scheduling {self.cosched}")
        return f"credit (tslice {self.tslice_ms} ms" + "".join(", " + e for e in extra) + ")"

    # -- set-up --------------------------------------------------------------
    def attach(self, system) -> None:
        super().attach(system)
        self.sim = system.sim
        n = system.npcpus
        self.tslice = self.tslice_ms * 1000
        self.tick = self.tslice // self.ticks_per_tslice
        self.cpt = self.credits_per_ms * self.tslice_ms          # credits per tslice
        # one list per pCPU in Xen's order (csched_pcpu.runq); counters per
        # priority level, per pCPU and in total, make the steal check cheap
        self.rq: list[list] = [[] for _ in range(n)]
        self.nq = [[0, 0, 0] for _ in range(n)]
        self.queued = [0, 0, 0]
        self.credit_balance = 0
        self.needs_sort = False
        self.dom_active = [0] * len(system.vms)
        self.active_doms: list[int] = []                         # order as Xen's list
        self.dom_units: list[list] = [[] for _ in system.vms]    # active vCPUs per VM
        for v in system.vcpus:
            v.credit, v.residual, v.pri = 0, 0, UNDER
            v.active = v.parked = False
            v.qpcpu = -1
            v.sstart = 0
        self._placement = 0
        self.sim.schedule(self.tick, self._tick, priority=-2)
        self.sim.schedule(self.tslice, self._acct, priority=-1)

    def priority(self, vcpu) -> float:
        return vcpu.pri

    # -- run queue ----------------------------------------------------------------
    def _insert(self, v, p: int) -> None:
        """__runq_insert: in front of the first vCPU of strictly lower priority."""
        q = self.rq[p]
        pri = v.pri
        for i, w in enumerate(q):
            if pri > w.pri:
                q.insert(i, v)
                break
        else:
            q.append(v)
        level = _LEVEL[pri]
        self.nq[p][level] += 1
        self.queued[level] += 1
        v.qpcpu = p

    def _remove(self, v) -> None:
        p = v.qpcpu
        if p < 0:
            return
        self.rq[p].remove(v)
        self._uncount(v, p)

    def _uncount(self, v, p: int) -> None:
        level = _LEVEL[v.pri]
        self.nq[p][level] -= 1
        self.queued[level] -= 1
        v.qpcpu = -1

    def _burn(self, v, now: int) -> None:
        delta = now - v.sstart
        if delta > 0:
            val = delta * self.credits_per_ms + v.residual
            v.credit -= val // 1000
            v.residual = val % 1000
            v.sstart = now

    def _activate(self, v) -> None:
        """__csched_unit_acct_start: ``list_add`` puts the vCPU and its VM at the head."""
        v.active = True
        vmi = v.vmi
        if not self.dom_units[vmi]:
            self.active_doms.insert(0, vmi)
        self.dom_units[vmi].insert(0, v)

    def _deactivate(self, v) -> None:
        v.active = False
        vmi = v.vmi
        self.dom_units[vmi].remove(v)
        if not self.dom_units[vmi]:
            self.active_doms.remove(vmi)

    # -- hooks --------------------------------------------------------------------
    def on_wake(self, v, boost: bool) -> None:
        system = self.system
        if boost and self.boost and v.pri == UNDER and not v.parked:
            v.pri = BOOST
        # csched_res_pick: stay on the last pCPU unless it is busy and an idle
        # pCPU (nothing running, nothing queued) in the affinity exists
        p = v.last_pcpu
        rq = self.rq
        if p < 0 or p not in v.allowed or not (p in system.idle and not rq[p]):
            for q in sorted(system.idle):
                if q in v.allowed and not rq[q]:
                    p = q
                    break
            else:
                if p < 0 or p not in v.allowed:
                    aff = v.affinity
                    p = aff[self._placement % len(aff)]
                    self._placement += 1
        self._insert(v, p)
        # __runq_tickle: preempt a lower-priority vCPU, else wake an idler to steal it
        cur = system.cur[p]
        if cur is None and system.reserved[p] is None:
            system.tickle(p)
        elif cur is not None and v.pri > cur.pri:
            system.tickle(p)
        elif self.load_balance:
            for q in system.idle:
                if q in v.allowed:
                    system.tickle(q)
                    break

    def wants_preempt(self, p: int) -> bool:
        cur = self.system.cur[p]
        q = self.rq[p]
        return cur is None or (bool(q) and q[0].pri > cur.pri)

    def on_block(self, v) -> None:
        self._remove(v)

    def on_start(self, v, pcpu: int) -> None:
        v.sstart = self.sim.now

    def on_stop(self, v, pcpu: int, ran_us: int, runnable: bool) -> None:
        self._burn(v, self.sim.now)
        if runnable:
            self._insert(v, pcpu)
            if self.load_balance:
                # queued work next to an idle pCPU: let the idler come and steal it
                system = self.system
                for q in system.idle:
                    if q in v.allowed and q != pcpu:
                        system.tickle(q)
                        break

    def pick(self, p: int):
        """csched_schedule: run the head of the queue; steal if it is OVER or IDLE.

        The queue is *not* re-sorted by accounting, only at the next tick
        (``csched_runq_sort``), so right after accounting the head may be an
        OVER vCPU with an UNDER one behind it — as in Xen.
        """
        q = self.rq[p]
        head = q[0] if q else None
        pri = head.pri if head is not None else IDLE
        if pri > OVER or not self.load_balance:
            if head is None:
                return None, None
            q.pop(0)
            self._uncount(head, p)
            return head, self.tslice
        # csched_load_balance: steal strictly higher-priority queued work
        level = _LEVEL.get(pri, 3)
        mine = self.nq[p]
        queued = self.queued
        if any(queued[k] - mine[k] > 0 for k in range(level)):
            system = self.system
            cur = system.cur
            n = system.npcpus
            for off in range(1, n):
                peer = (p + off) % n
                if cur[peer] is None and system.reserved[peer] is None:
                    continue                      # idle peers run their own work
                pq = self.rq[peer]
                for i, v in enumerate(pq):        # csched_runq_steal
                    if v.pri <= pri:
                        break
                    if p in v.allowed:
                        del pq[i]
                        self._uncount(v, peer)
                        return v, self.tslice
        if head is None:
            return None, None
        q.pop(0)
        self._uncount(head, p)
        return head, self.tslice

    # -- timers -------------------------------------------------------------------
    def _tick(self) -> None:
        """csched_tick on every pCPU (aligned): charge, un-BOOST, activate, sort."""
        now = self.sim.now
        for v in self.system.cur:
            if v is not None:
                if v.pri == BOOST:
                    v.pri = UNDER
                self._burn(v, now)
                if not v.active:
                    self._activate(v)
        if self.needs_sort:
            self.needs_sort = False
            for q in self.rq:
                # csched_runq_sort: UNDER-or-better move ahead of OVER (stable)
                if len(q) > 1:
                    q[:] = ([v for v in q if v.pri >= UNDER]
                            + [v for v in q if v.pri < UNDER])
        self.sim.schedule(self.tick, self._tick, priority=-2)

    def _acct(self) -> None:
        """csched_acct: hand out credits in proportion to weight; set priorities."""
        system = self.system
        now = self.sim.now
        self.sim.schedule(self.tslice, self._acct, priority=-1)
        for v in system.cur:
            if v is not None:
                self._burn(v, now)
        vms = system.vms
        cpt = self.cpt
        weight_total = sum(vms[d].weight * len(self.dom_units[d]) for d in self.active_doms)
        credit_total = cpt * system.npcpus
        if self.credit_balance < 0:
            credit_total -= self.credit_balance
        if weight_total == 0:
            self.credit_balance = 0
            return
        weight_left = weight_total
        credit_balance = 0
        credit_xtra = False
        order = list(self.active_doms)
        for d in order:
            units = list(self.dom_units[d])
            n_active = len(units)
            weight = vms[d].weight
            cap = vms[d].cap
            weight_left -= weight * n_active
            credit_peak = n_active * cpt
            if self.credit_balance < 0:
                credit_peak += (-self.credit_balance * weight * n_active
                                + weight_total - 1) // weight_total
            credit_cap = 0
            if cap:
                credit_cap = (cap * cpt + 99) // 100
                credit_peak = min(credit_peak, credit_cap)
                credit_cap = (credit_cap + n_active - 1) // n_active
            credit_fair = (credit_total * weight * n_active + weight_total - 1) // weight_total
            if credit_fair < credit_peak:
                credit_xtra = True
            else:
                if weight_left:
                    # give other domains a chance at unused credits
                    credit_total += ((credit_fair - credit_peak) * weight_total
                                     + weight_left - 1) // weight_left
                if credit_xtra:
                    self.active_doms.remove(d)
                    self.active_doms.insert(0, d)
                credit_fair = credit_peak
            credit_fair = (credit_fair + n_active - 1) // n_active
            for v in units:
                v.credit += credit_fair
                credit = v.credit
                if credit < 0:
                    self._set_pri(v, OVER)
                    if cap and credit < -credit_cap and not v.parked:
                        v.parked = True
                        system.pause(v)
                    if credit < -cpt:
                        v.credit = credit = -cpt
                else:
                    self._set_pri(v, UNDER)
                    if v.parked:
                        v.parked = False
                        system.unpause(v)
                    if credit > cpt and (self.halve_waiting or not v.eligible):
                        self._deactivate(v)
                        credit = int(credit / 2)      # C division truncates
                        v.credit = credit
                credit_balance += credit
        self.credit_balance = credit_balance
        self.needs_sort = True

    def _set_pri(self, v, pri: int) -> None:
        if v.pri == pri:
            return
        p = v.qpcpu
        if p >= 0:                # a queued vCPU keeps its place until the next sort
            old, new = _LEVEL[v.pri], _LEVEL[pri]
            nq = self.nq[p]
            nq[old] -= 1
            nq[new] += 1
            self.queued[old] -= 1
            self.queued[new] += 1
        v.pri = pri


def fair_shares(vms, pcpus: int) -> dict[str, float]:
    """What Credit aims at for CPU-bound VMs: weighted max-min fair shares.

    Each VM's weight counts once per vCPU (weights are per vCPU in current
    Xen); a VM can use at most ``min(vcpus, cap/100, allowed pCPUs)`` pCPUs;
    capacity a VM cannot use is shared by the others in proportion to their
    weights (water filling).  Affinity is treated as a per-VM limit only.
    This is the ideal; the simulated Credit scheduler comes close for equal
    weights and single caps, but not always (e.g. several capped VMs are
    unparked by the same accounting run and crowd out an uncapped one; or one
    dominant weight among three or more VMs, see the module docstring — as
    in Xen).

    Parameters
    ----------
    vms : list of VM
    pcpus : int

    Returns
    -------
    dict of str to float
        Share of one pCPU per VM name.

    Examples
    --------
    >>> from virtlab.scheduler import VM
    >>> fair_shares([VM("a", weight=256), VM("b", weight=512)], 1)
    {'a': 0.3333333333333333, 'b': 0.6666666666666666}
    >>> fair_shares([VM("a", cap=50), VM("b", vcpus=2)], 2)
    {'a': 0.5, 'b': 1.5}
    """
    pcpus = check_int("pcpus", pcpus, minimum=1, maximum=1024)
    vms = check_vms(vms, pcpus)
    limit = {}
    for vm in vms:
        lim = float(min(vm.vcpus, pcpus if vm.affinity is None else len(vm.affinity)))
        if vm.cap:
            lim = min(lim, vm.cap / 100.0)
        limit[vm.name] = lim
    share = {vm.name: 0.0 for vm in vms}
    active = {vm.name: vm.weight * vm.vcpus for vm in vms}
    left = float(pcpus)
    while active and left > 1e-12:
        total = sum(active.values())
        full = [n for n, w in active.items() if left * w / total >= limit[n] - 1e-12]
        if not full:
            for n, w in active.items():
                share[n] = left * w / total
            break
        for n in full:
            share[n] = limit[n]
            left -= limit[n]
            del active[n]
    return share
