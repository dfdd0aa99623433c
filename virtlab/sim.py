"""A small deterministic discrete-event core (after SimPy's ``Environment``).

One :class:`Simulator` keeps a heap of ``(time, priority, sequence, event)``;
:meth:`Simulator.step` pops the earliest event and runs its callback, and
:meth:`Simulator.run` loops until a time limit.  Ties are broken by
``priority`` (lower first) and then by scheduling order, so a run is fully
deterministic.  Time is an integer number of **microseconds** throughout
virtlab; integers keep long runs free of floating-point drift.

Two styles are supported and can be mixed:

* callbacks: ``sim.schedule(delay, fn, *args)`` — the fastest form, used by the
  schedulers' hot paths;
* processes: a generator that yields a delay (``yield 30``) or a
  :class:`Signal` to wait for (``value = yield signal``) — the clearest form for
  device and interrupt stories.

The scheduler, interrupt and migration models all stand on this one core.

Examples
--------
>>> sim = Simulator()
>>> log = []
>>> def clock(sim):
...     while True:
...         log.append(sim.now)
...         yield 10
>>> _ = sim.process(clock(sim))
>>> sim.run(until=30)
>>> log
[0, 10, 20]
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator
from typing import Any

from .errors import check_int, check_type

__all__ = ["Event", "Process", "Signal", "Simulator"]


class Event:
    """A scheduled callback; keep it to :meth:`Simulator.cancel` it later."""

    __slots__ = ("time", "callback", "args", "cancelled")

    def __init__(self, time: int, callback: Callable[..., Any], args: tuple):
        self.time = time
        self.callback = callback
        self.args = args
        self.cancelled = False

    def __repr__(self) -> str:
        name = getattr(self.callback, "__qualname__", "callback")
        state = " cancelled" if self.cancelled else ""
        return f"<Event t={self.time} {name}{state}>"


class Signal:
    """Something processes can wait for, triggered once per wait.

    ``trigger(value)`` resumes every process waiting right now (in the order
    they started waiting) with ``value``; processes that wait later wait for
    the next trigger.

    Examples
    --------
    >>> sim = Simulator()
    >>> irq = Signal(sim)
    >>> got = []
    >>> def driver(sim):
    ...     source = yield irq
    ...     got.append((sim.now, source))
    >>> _ = sim.process(driver(sim))
    >>> _ = sim.schedule(5, irq.trigger, "disk")
    >>> sim.run()
    >>> got
    [(5, 'disk')]
    """

    __slots__ = ("sim", "_waiters")

    def __init__(self, sim: Simulator):
        self.sim = check_type("sim", sim, Simulator)
        self._waiters: list[Process] = []

    @property
    def waiting(self) -> int:
        """Number of processes waiting for the next trigger."""
        return len(self._waiters)

    def trigger(self, value: Any = None) -> None:
        """Resume every waiting process with ``value`` (at the current time)."""
        waiters, self._waiters = self._waiters, []
        for proc in waiters:
            self.sim.schedule(0, proc._resume, value)


class Process:
    """A generator driven by the simulator (see the module docstring)."""

    __slots__ = ("sim", "gen", "alive", "value")

    def __init__(self, sim: Simulator, gen: Generator):
        self.sim = sim
        self.gen = gen
        self.alive = True
        self.value: Any = None

    def _resume(self, send: Any = None) -> None:
        try:
            target = self.gen.send(send)
        except StopIteration as stop:
            self.alive = False
            self.value = stop.value
            return
        except BaseException:
            self.alive = False  # a process that raised is over
            raise
        if isinstance(target, Signal):
            target._waiters.append(self)
        elif isinstance(target, int) and not isinstance(target, bool) and target >= 0:
            self.sim.schedule(target, self._resume)
        else:
            self.alive = False
            raise ValueError("a process must yield a delay (int >= 0 microseconds) "
                             f"or a Signal, got {target!r}")


class Simulator:
    """The event heap and the clock.

    Parameters
    ----------
    start : int
        Initial time in microseconds (default 0).

    Examples
    --------
    >>> sim = Simulator()
    >>> order = []
    >>> _ = sim.schedule(10, order.append, "b")
    >>> _ = sim.schedule(10, order.append, "a", priority=-1)
    >>> ev = sim.schedule(5, order.append, "never")
    >>> sim.cancel(ev)
    >>> sim.run()
    >>> order, sim.now
    (['a', 'b'], 10)
    """

    __slots__ = ("now", "_heap", "_seq", "events_run")

    def __init__(self, start: int = 0):
        self.now = check_int("start", start, minimum=0)
        self._heap: list[tuple[int, int, int, Event]] = []
        self._seq = 0
        self.events_run = 0

    def schedule(self, delay: int, callback: Callable[..., Any], *args: Any,
                 priority: int = 0) -> Event:
        """Run ``callback(*args)`` ``delay`` microseconds from now."""
        if type(delay) is not int:  # fast path for the common case below
            delay = check_int("delay", delay, minimum=0)
        elif delay < 0:
            raise ValueError(f"delay must be an integer >= 0, got {delay}")
        return self._push(self.now + delay, priority, callback, args)

    def at(self, time: int, callback: Callable[..., Any], *args: Any,
           priority: int = 0) -> Event:
        """Run ``callback(*args)`` at absolute ``time`` (not in the past)."""
        check_int("time", time, minimum=self.now)
        return self._push(time, priority, callback, args)

    def _push(self, time: int, priority: int, callback: Callable[..., Any],
              args: tuple) -> Event:
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        if type(priority) is not int:
            check_int("priority", priority)
        ev = Event(time, callback, args)
        self._seq += 1
        heapq.heappush(self._heap, (time, priority, self._seq, ev))
        return ev

    def cancel(self, event: Event) -> None:
        """Cancel a scheduled event (lazily: it is skipped when popped)."""
        check_type("event", event, Event).cancelled = True

    def process(self, gen: Generator) -> Process:
        """Start a generator process now; see the module docstring."""
        if not isinstance(gen, Generator):
            raise TypeError(f"gen must be a generator, got {type(gen).__name__}")
        proc = Process(self, gen)
        self.schedule(0, proc._resume)
        return proc

    def peek(self) -> int | None:
        """Time of the next live event, or None when nothing is scheduled."""
        heap = self._heap
        while heap and heap[0][3].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def step(self) -> bool:
        """Run the next live event; return False when the heap is empty."""
        heap = self._heap
        while heap:
            time, _, _, ev = heapq.heappop(heap)
            if ev.cancelled:
                continue
            self.now = time
            self.events_run += 1
            ev.callback(*ev.args)
            return True
        return False

    def run(self, until: int | None = None) -> None:
        """Run events until the heap is empty or the next one is at ``until``.

        Events scheduled exactly at ``until`` are *not* run, and the clock
        ends at ``until`` (SimPy's convention), so ``run(until=t)`` can be
        called repeatedly to advance in slices.
        """
        if until is not None:
            check_int("until", until, minimum=self.now)
        heap = self._heap
        pop = heapq.heappop
        while heap:
            time, _, _, ev = heap[0]
            if until is not None and time >= until:
                break
            pop(heap)
            if ev.cancelled:
                continue
            self.now = time
            self.events_run += 1
            ev.callback(*ev.args)
        if until is not None:
            self.now = until
