"""Live migration (*Live-Migration*): pre-copy, stop-and-copy and post-copy.

The lecture lists "Vereinfachte Wartung, Live-Migration, unterbrechungsfrei"
among the benefits of virtualization.  This module models how a running VM's
memory is moved from one host to another over a network link, following
Clark et al., "Live Migration of Virtual Machines", NSDI 2005, and the stop
conditions of Xen's ``tools/libxc/xc_domain_save.c`` (facts.md §7):

* **pre-copy** — round 1 sends every page while the VM keeps running; each
  further round sends the pages dirtied during the previous round.  Pre-copy
  ends (and the last round starts) when a round sent fewer than
  ``min_pages`` (50) pages (Xen counts sent + skipped pages; this model
  skips none), when ``max_iters`` (29, "30 times round loop")
  rounds are done, or when more than ``max_factor`` (3) times the VM's
  memory has been sent.  Then the VM is paused and the remaining dirty set
  plus the CPU/device state is sent: that **stop-and-copy** round is the
  *downtime*.
* **stop-and-copy** alone — pause, send everything, resume: the downtime is
  the whole transfer.
* **post-copy** — pause, send only the CPU/device state, resume on the
  destination, then push pages in the background; a page touched before it
  arrives is fetched over the network (a *remote fault*).  Downtime is
  tiny, but the VM runs degraded until all pages have arrived.

Page dirtying is modelled with Clark et al.'s **writable working set** (WWS,
*beschreibbare Arbeitsmenge*): writes go at ``dirty_rate_mbit`` to a hot set
of ``wws_mb`` (default: all of memory), uniformly at random.  The expected
number of distinct pages dirtied in ``t`` seconds is then
``W * (1 - exp(-r t / W))`` for ``W`` hot pages written at ``r`` pages/s —
close to ``r t`` for short rounds and never more than the hot set.  The model
is deterministic (expected values, no random generator).

Units: memory in MiB, bandwidth and dirty rate in Mbit/s (10^6 bit/s, as in
Clark et al.'s graphs), time in seconds, pages of ``page_kb`` KiB.

Examples
--------
>>> r = precopy(memory_mb=1024, bandwidth_mbit=1000, dirty_rate_mbit=100, wws_mb=64)
>>> r.stop_reason, len(r.rounds) > 2
('few_pages', True)
>>> round(r.downtime_s * 1000, 1)      # milliseconds the VM is paused
2.1
>>> s = stop_and_copy(memory_mb=1024, bandwidth_mbit=1000)
>>> round(s.downtime_s, 2)             # 1 GiB at 1 Gbit/s
8.59
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import check_choice, check_int, check_number, check_str, check_type

__all__ = [
    "DEF_MAX_FACTOR", "DEF_MAX_ITERS", "MIN_PAGES", "AdaptiveRate", "LinkRate",
    "MigrationResult", "Round", "Evacuation", "compare", "dirtied_pages", "evacuate",
    "migrate", "postcopy", "precopy", "stop_and_copy", "sweep", "METHODS",
    "BANDWIDTH_MBIT_RANGE",
]

#: Xen ``DEF_MAX_ITERS``: at most 29 pre-copy rounds ("30 times round loop").
DEF_MAX_ITERS = 29
#: Xen ``DEF_MAX_FACTOR``: "never send more than 3x" the VM's memory.
DEF_MAX_FACTOR = 3.0
#: Xen starts the last round when fewer than 50 pages were sent this round.
MIN_PAGES = 50
#: Method names understood by :func:`migrate` and :func:`compare`.
METHODS = ("pre-copy", "stop-and-copy", "post-copy")

_MAX_MB = 16 * 1024 * 1024       # 16 TiB: a bound against nonsense, not a limit of reality
_MAX_MBIT = 10_000_000.0         # 10 Tbit/s
_MIN_MBIT = 0.001                # 1 kbit/s: slower links give times too large to mean anything
#: The link speeds (Mbit/s) the models accept.
BANDWIDTH_MBIT_RANGE = (_MIN_MBIT, _MAX_MBIT)


@dataclass(frozen=True)
class Round:
    """One transfer round.

    Attributes
    ----------
    index : int
        1-based round number.
    kind : str
        ``"pre-copy"`` (VM running), ``"stop-and-copy"`` (VM paused) or
        ``"push"`` (post-copy background transfer, VM running on the target).
    pages : int
        Memory pages sent in this round.
    mb : float
        MiB sent in this round (pages plus, in a paused round, the state).
    seconds : float
        Duration of the round.
    rate_mbit : float
        Sending rate used.
    dirtied : int
        Pages dirtied while this round ran (sent by the next round).
    """

    index: int
    kind: str
    pages: int
    mb: float
    seconds: float
    rate_mbit: float
    dirtied: int


@dataclass(frozen=True)
class MigrationResult:
    """Outcome of one migration.

    Attributes
    ----------
    method : str
        One of :data:`METHODS`.
    memory_mb, bandwidth_mbit, dirty_rate_mbit, wws_mb : float
        The inputs (``wws_mb`` is the hot set actually used).
    rounds : tuple of Round
        Every round in order; a pre-copy run ends with its stop-and-copy round.
    total_time_s : float
        From the start of the migration until the VM runs on the target with
        all its memory there.
    downtime_s : float
        Time the VM is paused (*Ausfallzeit*).
    data_sent_mb : float
        Everything sent over the link, state included.
    stop_reason : str
        Why pre-copy ended: ``"few_pages"``, ``"max_iters"``,
        ``"max_factor"`` or ``"rate_limit"``; ``"none"`` for the other methods.
    remote_faults : float
        Post-copy only: expected pages fetched on demand over the network.
    degraded_s : float
        Post-copy only: time the VM runs on the target while pages are missing.
    """

    method: str
    memory_mb: float
    bandwidth_mbit: float
    dirty_rate_mbit: float
    wws_mb: float
    rounds: tuple[Round, ...]
    total_time_s: float
    downtime_s: float
    data_sent_mb: float
    stop_reason: str = "none"
    remote_faults: float = 0.0
    degraded_s: float = 0.0
    page_kb: int = 4

    @property
    def precopy_rounds(self) -> int:
        """Number of rounds sent while the VM was running (pre-copy only).

        Examples
        --------
        >>> precopy(64, 1000, 0).precopy_rounds
        2
        """
        return sum(1 for r in self.rounds if r.kind == "pre-copy")

    @property
    def final_dirty_mb(self) -> float:
        """MiB of memory pages sent while the VM was paused.

        Examples
        --------
        >>> stop_and_copy(64, 1000).final_dirty_mb
        64.0
        """
        return sum(r.pages for r in self.rounds if r.kind == "stop-and-copy") \
            * self.page_kb / 1024

    def row(self) -> dict:
        """The headline numbers as a flat dict (for tables and dashboards).

        Examples
        --------
        >>> sorted(stop_and_copy(64, 1000).row())[:3]
        ['data_sent_mb', 'downtime_ms', 'method']
        """
        return {"method": self.method, "rounds": len(self.rounds),
                "total_time_s": self.total_time_s, "downtime_ms": self.downtime_s * 1000,
                "data_sent_mb": self.data_sent_mb, "stop_reason": self.stop_reason}


# -- rate policies -----------------------------------------------------------

class LinkRate:
    """Default rate policy: every round sends at the full link bandwidth.

    Examples
    --------
    >>> LinkRate().first(1000.0)
    1000.0
    """

    name = "link"

    def first(self, link_mbit: float) -> float:
        """Rate of the first round."""
        return link_mbit

    def next(self, link_mbit: float, last: Round) -> float:
        """Rate of the round after ``last``."""
        return link_mbit

    def final(self, link_mbit: float) -> float:
        """Rate of the stop-and-copy round."""
        return link_mbit

    def give_up(self, link_mbit: float, last: Round, before: Round | None) -> bool:
        """Whether to stop pre-copy for a rate reason (never, for this policy)."""
        return False


class AdaptiveRate(LinkRate):
    """Clark et al.'s dynamic rate limiting (§5.3), clamped to the link.

    Round 1 sends at ``min_mbit``; each later round at the previous round's
    dirtying rate plus ``step_mbit``, between ``min_mbit`` and ``max_mbit``;
    the stop-and-copy round at ``max_mbit``.  Pre-copy also stops when the
    rate is at its maximum and a round sent more than the one before (the
    older Xen stop condition).  Xen's defaults are 100 and 500 Mbit/s
    (facts.md §7); the +50 Mbit/s step is **unverified** — treat it as
    illustrative.

    Examples
    --------
    >>> AdaptiveRate().first(1000.0), AdaptiveRate().final(1000.0)
    (100.0, 500.0)
    >>> AdaptiveRate(min_mbit=600)
    Traceback (most recent call last):
    ...
    ValueError: min_mbit must be <= max_mbit (600.0 > 500.0)
    """

    name = "adaptive"

    def __init__(self, min_mbit: float = 100.0, max_mbit: float = 500.0,
                 step_mbit: float = 50.0):
        lo = check_number("min_mbit", min_mbit, minimum=_MIN_MBIT, maximum=_MAX_MBIT)
        hi = check_number("max_mbit", max_mbit, minimum=_MIN_MBIT, maximum=_MAX_MBIT)
        step = check_number("step_mbit", step_mbit, minimum=0, maximum=_MAX_MBIT)
        if lo > hi:
            raise ValueError(f"min_mbit must be <= max_mbit ({lo} > {hi})")
        self.min_mbit, self.max_mbit, self.step_mbit = lo, hi, step

    def first(self, link_mbit: float) -> float:
        return min(self.min_mbit, link_mbit)

    def next(self, link_mbit: float, last: Round) -> float:
        dirtying = last.dirtied * (last.mb * 8.388608 / last.pages if last.pages else 0.0) \
            / last.seconds if last.seconds > 0 else 0.0
        return min(link_mbit, max(self.min_mbit, min(self.max_mbit, dirtying + self.step_mbit)))

    def final(self, link_mbit: float) -> float:
        return min(self.max_mbit, link_mbit)

    def give_up(self, link_mbit: float, last: Round, before: Round | None) -> bool:
        at_max = last.rate_mbit >= min(self.max_mbit, link_mbit)
        return bool(at_max and before is not None and last.pages > before.pages)


# -- the model ------------------------------------------------------------------

def dirtied_pages(seconds: float, rate_pages: float, hot_pages: int) -> int:
    """Expected distinct pages dirtied in ``seconds`` (writable working set).

    ``hot_pages * (1 - exp(-rate * seconds / hot_pages))``, rounded to whole
    pages: about ``rate * seconds`` for short intervals, never more than the
    hot set.

    Examples
    --------
    >>> dirtied_pages(1.0, 100.0, 1_000_000)      # short: ~ rate x time
    100
    >>> dirtied_pages(1000.0, 100.0, 500)         # long: the whole hot set
    500
    >>> dirtied_pages(1.0, 0.0, 500)
    0
    """
    for name, value in (("seconds", seconds), ("rate_pages", rate_pages),
                        ("hot_pages", hot_pages)):
        check_number(name, value)
    if hot_pages <= 0 or rate_pages <= 0 or seconds <= 0:
        return 0
    return int(round(hot_pages * -math.expm1(-rate_pages * seconds / hot_pages)))


def _common(memory_mb, bandwidth_mbit, page_kb, state_kb, fixed_downtime_ms):
    memory_mb = check_number("memory_mb", memory_mb, minimum=0, strict_minimum=True,
                             maximum=_MAX_MB)
    bandwidth_mbit = check_number("bandwidth_mbit", bandwidth_mbit, minimum=_MIN_MBIT,
                                  maximum=_MAX_MBIT)
    page_kb = check_int("page_kb", page_kb, minimum=1, maximum=1024 * 1024)
    state_kb = check_number("state_kb", state_kb, minimum=0, maximum=1024 * 1024)
    fixed_downtime_ms = check_number("fixed_downtime_ms", fixed_downtime_ms, minimum=0,
                                     maximum=3_600_000)
    pages = max(1, math.ceil(memory_mb * 1024 / page_kb))
    return memory_mb, bandwidth_mbit, page_kb, state_kb, fixed_downtime_ms, pages


def _dirty(dirty_rate_mbit, wws_mb, memory_mb, page_kb, pages):
    dirty_rate_mbit = check_number("dirty_rate_mbit", dirty_rate_mbit, minimum=0,
                                   maximum=_MAX_MBIT)
    if wws_mb is None:
        hot = pages
        wws_mb = memory_mb
    else:
        wws_mb = check_number("wws_mb", wws_mb, minimum=0, maximum=_MAX_MB)
        if wws_mb > memory_mb:
            raise ValueError(f"wws_mb must be <= memory_mb ({wws_mb} > {memory_mb})")
        hot = min(pages, math.ceil(wws_mb * 1024 / page_kb))
    rate_pages = dirty_rate_mbit * 1e6 / (page_kb * 8192)
    return dirty_rate_mbit, wws_mb, hot, rate_pages


def _seconds(mb: float, rate_mbit: float) -> float:
    return mb * 8.388608 / rate_mbit          # 1 MiB = 8.388608 Mbit


def precopy(memory_mb: float, bandwidth_mbit: float, dirty_rate_mbit: float,
            wws_mb: float | None = None, *, max_iters: int = DEF_MAX_ITERS,
            max_factor: float | None = DEF_MAX_FACTOR, min_pages: int = MIN_PAGES,
            rate: LinkRate | None = None, page_kb: int = 4, state_kb: float = 256.0,
            fixed_downtime_ms: float = 0.0) -> MigrationResult:
    """Iterative pre-copy live migration (Clark et al. 2005; Xen's stop rules).

    Parameters
    ----------
    memory_mb : float
        VM memory in MiB (> 0).
    bandwidth_mbit : float
        Link bandwidth in Mbit/s (> 0).
    dirty_rate_mbit : float
        Rate at which the running VM writes pages, in Mbit/s (>= 0).
    wws_mb : float, optional
        Writable working set: the hot pages the writes go to (default: all
        of memory).  Must not exceed ``memory_mb``.
    max_iters : int
        Pre-copy round limit (Xen ``DEF_MAX_ITERS`` = 29).
    max_factor : float or None
        Stop once more than ``max_factor`` × memory was sent (Xen: 3);
        None disables the rule.
    min_pages : int
        Start the last round once a round sent fewer pages than this (Xen: 50).
    rate : LinkRate, optional
        Rate policy; default :class:`LinkRate` (full link every round).
        :class:`AdaptiveRate` gives Clark et al.'s dynamic rate limiting.
    page_kb : int
        Page size in KiB (4).
    state_kb : float
        CPU and device state sent while paused (illustrative default 256 KiB).
    fixed_downtime_ms : float
        Extra pause for suspend/resume and network redirection (default 0;
        Clark et al.'s measured 60 ms / 210 ms downtimes include such costs,
        which this model does not try to reproduce).

    Returns
    -------
    MigrationResult

    Notes
    -----
    Downtime falls as bandwidth rises — doubling the bandwidth never raises it
    (property-tested) — but not strictly at every step: Xen's rule counts
    *pages* ("fewer than 50 sent"), so a slightly faster link can stop
    pre-copy one round earlier with a few more pages left, a step of a few
    percent in an otherwise falling curve.

    Examples
    --------
    A VM that writes little converges after a few rounds:

    >>> r = precopy(512, 1000, 50, wws_mb=32)
    >>> r.stop_reason, [x.kind for x in r.rounds][-1]
    ('few_pages', 'stop-and-copy')

    A VM that dirties faster than the link can send never converges; with a
    small hot set pre-copy runs into the round limit:

    >>> r = precopy(1024, 100, 400, wws_mb=16)
    >>> r.stop_reason, r.precopy_rounds
    ('max_iters', 29)
    """
    memory_mb, bandwidth_mbit, page_kb, state_kb, fixed_ms, pages = _common(
        memory_mb, bandwidth_mbit, page_kb, state_kb, fixed_downtime_ms)
    dirty_rate_mbit, wws_mb, hot, rate_pages = _dirty(dirty_rate_mbit, wws_mb, memory_mb,
                                                      page_kb, pages)
    max_iters = check_int("max_iters", max_iters, minimum=1, maximum=10_000)
    if max_factor is not None:
        max_factor = check_number("max_factor", max_factor, minimum=1.0, maximum=1e6)
    min_pages = check_int("min_pages", min_pages, minimum=0, maximum=2**62)
    policy = LinkRate() if rate is None else check_type("rate", rate, LinkRate)

    page_mb = page_kb / 1024
    rounds: list[Round] = []
    to_send = pages
    total_pages = 0
    link = policy.first(bandwidth_mbit)
    reason = "max_iters"
    for index in range(1, max_iters + 1):
        mb = to_send * page_mb
        secs = _seconds(mb, link)
        dirtied = dirtied_pages(secs, rate_pages, hot)
        this = Round(index, "pre-copy", to_send, mb, secs, link, dirtied)
        rounds.append(this)
        total_pages += to_send
        before = rounds[-2] if len(rounds) > 1 else None
        if to_send < min_pages:
            reason = "few_pages"
            break
        if max_factor is not None and total_pages > max_factor * pages:
            reason = "max_factor"
            break
        if index >= max_iters:
            reason = "max_iters"
            break
        if policy.give_up(bandwidth_mbit, this, before):
            reason = "rate_limit"
            break
        to_send = dirtied
        link = policy.next(bandwidth_mbit, this)
    last = rounds[-1]
    final_rate = policy.final(bandwidth_mbit)
    final_mb = last.dirtied * page_mb + state_kb / 1024
    final_secs = _seconds(final_mb, final_rate)
    rounds.append(Round(len(rounds) + 1, "stop-and-copy", last.dirtied, final_mb, final_secs,
                        final_rate, 0))
    downtime = final_secs + fixed_ms / 1000
    total = sum(r.seconds for r in rounds) + fixed_ms / 1000
    sent = sum(r.mb for r in rounds)
    return MigrationResult("pre-copy", memory_mb, bandwidth_mbit, dirty_rate_mbit, wws_mb,
                           tuple(rounds), total, downtime, sent, reason, page_kb=page_kb)


def stop_and_copy(memory_mb: float, bandwidth_mbit: float, dirty_rate_mbit: float = 0.0,
                  wws_mb: float | None = None, *, page_kb: int = 4, state_kb: float = 256.0,
                  fixed_downtime_ms: float = 0.0) -> MigrationResult:
    """Pure stop-and-copy: pause the VM, send all memory and state, resume.

    The dirty rate does not matter (the VM is paused); it is accepted so all
    methods share one signature.

    Examples
    --------
    >>> r = stop_and_copy(2048, 1000)
    >>> r.downtime_s == r.total_time_s, len(r.rounds)
    (True, 1)
    """
    memory_mb, bandwidth_mbit, page_kb, state_kb, fixed_ms, pages = _common(
        memory_mb, bandwidth_mbit, page_kb, state_kb, fixed_downtime_ms)
    dirty_rate_mbit, wws_mb, _, _ = _dirty(dirty_rate_mbit, wws_mb, memory_mb, page_kb, pages)
    mb = pages * page_kb / 1024 + state_kb / 1024
    secs = _seconds(mb, bandwidth_mbit)
    rnd = Round(1, "stop-and-copy", pages, mb, secs, bandwidth_mbit, 0)
    down = secs + fixed_ms / 1000
    return MigrationResult("stop-and-copy", memory_mb, bandwidth_mbit, dirty_rate_mbit, wws_mb,
                           (rnd,), down, down, mb, page_kb=page_kb)


def postcopy(memory_mb: float, bandwidth_mbit: float, dirty_rate_mbit: float,
             wws_mb: float | None = None, *, page_kb: int = 4, state_kb: float = 256.0,
             fixed_downtime_ms: float = 0.0, rtt_ms: float = 0.5) -> MigrationResult:
    """Post-copy: move the CPU state first, then the pages.

    The VM pauses only to send its state, resumes on the target and pulls
    pages on demand while the source pushes all pages in the background (in
    address order).  A hot page touched before the push reaches it is a
    *remote fault* costing a round trip plus one page.  Expected faults: with
    the push taking ``T`` and hot pages touched at ``a = rate / W`` per page,
    a hot page at a uniformly random push position faults with probability
    ``1 - (1 - exp(-aT)) / (aT)``.  Every page crosses the link exactly once.

    Examples
    --------
    >>> r = postcopy(1024, 1000, 200, wws_mb=64)
    >>> r.downtime_s < 0.01, r.data_sent_mb >= 1024
    (True, True)
    >>> r.remote_faults > 0
    True
    """
    memory_mb, bandwidth_mbit, page_kb, state_kb, fixed_ms, pages = _common(
        memory_mb, bandwidth_mbit, page_kb, state_kb, fixed_downtime_ms)
    dirty_rate_mbit, wws_mb, hot, rate_pages = _dirty(dirty_rate_mbit, wws_mb, memory_mb,
                                                      page_kb, pages)
    rtt_ms = check_number("rtt_ms", rtt_ms, minimum=0, maximum=60_000)
    state_mb = state_kb / 1024
    state_secs = _seconds(state_mb, bandwidth_mbit)
    push_mb = pages * page_kb / 1024
    push_secs = _seconds(push_mb, bandwidth_mbit)
    faults = 0.0
    if hot and rate_pages > 0 and push_secs > 0:
        a_t = rate_pages / hot * push_secs
        # 1 - (1 - e^-x)/x, with its series x/2 where x is too small to divide by
        share = a_t / 2 if a_t < 1e-6 else 1 - (-math.expm1(-a_t)) / a_t
        faults = hot * share
    stall = faults * (rtt_ms / 1000 + _seconds(page_kb / 1024, bandwidth_mbit))
    rounds = (Round(1, "stop-and-copy", 0, state_mb, state_secs, bandwidth_mbit, 0),
              Round(2, "push", pages, push_mb, push_secs, bandwidth_mbit, 0))
    down = state_secs + fixed_ms / 1000
    return MigrationResult("post-copy", memory_mb, bandwidth_mbit, dirty_rate_mbit, wws_mb,
                           rounds, down + push_secs, down, state_mb + push_mb,
                           remote_faults=faults, degraded_s=push_secs + stall, page_kb=page_kb)


_METHOD_FUNCS = {"pre-copy": precopy, "stop-and-copy": stop_and_copy, "post-copy": postcopy}


def migrate(method: str, memory_mb: float, bandwidth_mbit: float, dirty_rate_mbit: float = 0.0,
            wws_mb: float | None = None, **options) -> MigrationResult:
    """Run one migration by method name (one of :data:`METHODS`).

    Examples
    --------
    >>> migrate("post-copy", 256, 1000, 10).method
    'post-copy'
    >>> migrate("teleport", 256, 1000)
    Traceback (most recent call last):
    ...
    ValueError: method must be one of 'pre-copy', 'stop-and-copy', 'post-copy'; got 'teleport'
    """
    check_choice("method", method, METHODS)
    return _METHOD_FUNCS[method](memory_mb, bandwidth_mbit, dirty_rate_mbit, wws_mb, **options)


def compare(memory_mb: float, bandwidth_mbit: float, dirty_rate_mbit: float,
            wws_mb: float | None = None, **precopy_options) -> dict[str, MigrationResult]:
    """The three methods on the same VM and link, keyed by method name.

    ``precopy_options`` (``max_iters``, ``rate``, ...) go to :func:`precopy`
    only; ``page_kb``, ``state_kb`` and ``fixed_downtime_ms`` go to all.

    Examples
    --------
    >>> c = compare(1024, 1000, 100, wws_mb=64)
    >>> c["post-copy"].downtime_s < c["pre-copy"].downtime_s < c["stop-and-copy"].downtime_s
    True
    """
    shared = {k: precopy_options[k] for k in ("page_kb", "state_kb", "fixed_downtime_ms")
              if k in precopy_options}
    return {"pre-copy": precopy(memory_mb, bandwidth_mbit, dirty_rate_mbit, wws_mb,
                                **precopy_options),
            "stop-and-copy": stop_and_copy(memory_mb, bandwidth_mbit, dirty_rate_mbit, wws_mb,
                                           **shared),
            "post-copy": postcopy(memory_mb, bandwidth_mbit, dirty_rate_mbit, wws_mb, **shared)}


@dataclass(frozen=True)
class Evacuation:
    """Result of moving several VMs off one host, one after the other.

    Attributes
    ----------
    migrations : tuple of (str, MigrationResult)
        VM name and its migration, in order.
    total_time_s : float
        Time until the host is empty (migrations run back to back).
    max_downtime_s : float
        Worst single pause.
    data_sent_mb : float
        Sum over all migrations.
    """

    migrations: tuple[tuple[str, MigrationResult], ...]
    total_time_s: float
    max_downtime_s: float
    data_sent_mb: float


def evacuate(vms: Sequence[tuple[str, float, float, float | None]], bandwidth_mbit: float,
             method: str = "pre-copy", **options) -> Evacuation:
    """Migrate every VM of a host away (host maintenance, *Wartung*).

    Parameters
    ----------
    vms : sequence of (name, memory_mb, dirty_rate_mbit, wws_mb)
        The VMs on the host.
    bandwidth_mbit : float
        The migration link; VMs go one after the other at full bandwidth.
    method : str
        One of :data:`METHODS` (default ``"pre-copy"``).

    Examples
    --------
    >>> e = evacuate([("web", 1024, 100, 64), ("db", 4096, 300, 512)], 1000)
    >>> [name for name, _ in e.migrations], e.data_sent_mb > 5120
    (['web', 'db'], True)
    """
    check_choice("method", method, METHODS)
    if isinstance(vms, (str, bytes)) or not isinstance(vms, Sequence):
        raise TypeError(f"vms must be a sequence of (name, memory_mb, dirty_rate_mbit, "
                        f"wws_mb) tuples, got {type(vms).__name__}")
    items = []
    for i, vm in enumerate(vms):
        if not isinstance(vm, tuple) or len(vm) != 4:
            raise TypeError(f"vms[{i}] must be a (name, memory_mb, dirty_rate_mbit, wws_mb) "
                            f"tuple")
        check_str(f"vms[{i}] name", vm[0])
        items.append(vm)
    results = tuple((name, migrate(method, mem, bandwidth_mbit, dirty, wws, **options))
                    for name, mem, dirty, wws in items)
    return Evacuation(results, sum(r.total_time_s for _, r in results),
                      max((r.downtime_s for _, r in results), default=0.0),
                      sum(r.data_sent_mb for _, r in results))


def sweep(bandwidths: Sequence[float], memory_mb: float, dirty_rate_mbit: float,
          wws_mb: float | None = None,
          methods: Sequence[str] = METHODS, **options) -> dict[str, tuple[MigrationResult, ...]]:
    """Run every method over a list of bandwidths (for downtime-vs-bandwidth plots).

    Examples
    --------
    >>> s = sweep([100, 1000], 1024, 50, 64)
    >>> [round(r.downtime_s, 3) for r in s["stop-and-copy"]]
    [85.92, 8.592]
    """
    if isinstance(bandwidths, (str, bytes)) or not isinstance(bandwidths, Sequence) \
            or not bandwidths:
        raise TypeError("bandwidths must be a non-empty sequence of numbers")
    if len(bandwidths) > 10_000:
        raise ValueError(f"bandwidths must have at most 10000 values, got {len(bandwidths)}")
    if isinstance(methods, str) or not isinstance(methods, Sequence):
        raise TypeError("methods must be a sequence of method names")
    for m in methods:
        check_choice("methods", m, METHODS)
    bws = [check_number(f"bandwidths[{i}]", bw, minimum=_MIN_MBIT, maximum=_MAX_MBIT) for i, bw in enumerate(bandwidths)]
    return {m: tuple(migrate(m, memory_mb, bw, dirty_rate_mbit, wws_mb, **options)
                     for bw in bws) for m in methods}


#: Illustrative page-dirtying behaviour per server kind: (dirty rate in Mbit/s,
#: writable working set as a fraction of memory).  Not measured values.
