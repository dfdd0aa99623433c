"""The discrete-event core (virtlab.sim): ordering, ties, cancel, processes,
signals, run(until) semantics and determinism.

Expected values come from the documented contract (SimPy's conventions):
events run in (time, priority, scheduling order); ``run(until=t)`` runs events
strictly before ``t`` and leaves the clock at ``t``.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab.sim import Event, Process, Signal, Simulator


@pytest.fixture
def sim():
    return Simulator()


@pytest.fixture
def log():
    return []


# -- clock and ordering -------------------------------------------------------

def test_new_simulator_starts_at_zero_and_empty(sim):
    assert sim.now == 0
    assert sim.peek() is None
    assert sim.step() is False
    assert sim.events_run == 0


def test_start_time_is_honoured():
    sim = Simulator(start=500)
    got = []
    sim.schedule(10, lambda: got.append(sim.now))
    sim.run()
    assert got == [510]


def test_events_run_in_time_order_not_scheduling_order(sim, log):
    for delay in (30, 10, 20, 0):
        sim.schedule(delay, log.append, delay)
    sim.run()
    assert log == [0, 10, 20, 30]
    assert sim.now == 30
    assert sim.events_run == 4


def test_ties_break_by_priority_then_fifo(sim, log):
    sim.schedule(5, log.append, "b0")
    sim.schedule(5, log.append, "a-1", priority=-1)
    sim.schedule(5, log.append, "b0-second")
    sim.schedule(5, log.append, "c+1", priority=1)
    sim.schedule(5, log.append, "a-1-second", priority=-1)
    sim.run()
    assert log == ["a-1", "a-1-second", "b0", "b0-second", "c+1"]


def test_at_is_absolute_and_now_is_the_event_time(sim, log):
    sim.schedule(7, lambda: sim.at(12, lambda: log.append(sim.now)))
    sim.run()
    assert log == [12]


def test_callback_args_are_passed(sim, log):
    sim.schedule(1, lambda a, b: log.append(a + b), 2, 3)
    sim.run()
    assert log == [5]


def test_zero_delay_from_a_callback_runs_after_already_scheduled_same_time(sim, log):
    def first():
        log.append("first")
        sim.schedule(0, log.append, "spawned")
    sim.schedule(3, first)
    sim.schedule(3, log.append, "second")
    sim.run()
    assert log == ["first", "second", "spawned"]


def test_step_runs_exactly_one_event(sim, log):
    sim.schedule(1, log.append, 1)
    sim.schedule(2, log.append, 2)
    assert sim.step() is True
    assert log == [1] and sim.now == 1
    assert sim.peek() == 2


def test_schedule_returns_event_with_its_absolute_time(sim):
    sim.run(until=100)
    ev = sim.schedule(5, print)
    assert isinstance(ev, Event)
    assert ev.time == 105
    assert "cancelled" not in repr(ev)


# -- cancel ---------------------------------------------------------------------

def test_cancelled_event_never_runs(sim, log):
    ev = sim.schedule(5, log.append, "x")
    sim.schedule(6, log.append, "y")
    sim.cancel(ev)
    assert "cancelled" in repr(ev)
    sim.run()
    assert log == ["y"]
    assert sim.events_run == 1


def test_peek_skips_cancelled(sim):
    ev = sim.schedule(5, print)
    sim.schedule(9, print)
    sim.cancel(ev)
    assert sim.peek() == 9


def test_cancel_from_within_an_earlier_callback(sim, log):
    later = sim.schedule(10, log.append, "later")
    sim.schedule(5, sim.cancel, later)
    sim.run()
    assert log == []
    assert sim.now == 5  # the cancelled event does not move the clock


def test_cancel_twice_and_after_run_is_harmless(sim, log):
    ev = sim.schedule(1, log.append, 1)
    sim.run()
    sim.cancel(ev)
    sim.cancel(ev)
    assert log == [1]


# -- run(until) -------------------------------------------------------------------

def test_run_until_excludes_events_at_until_and_sets_clock(sim, log):
    for t in (0, 10, 20, 30):
        sim.schedule(t, log.append, t)
    sim.run(until=20)
    assert log == [0, 10]
    assert sim.now == 20
    sim.run(until=21)
    assert log == [0, 10, 20]
    assert sim.now == 21


def test_run_until_advances_clock_even_with_empty_heap(sim):
    sim.run(until=1000)
    assert sim.now == 1000


def test_run_until_now_runs_nothing(sim, log):
    sim.schedule(0, log.append, "at-now")
    sim.run(until=0)
    assert log == []
    assert sim.now == 0
    sim.run()
    assert log == ["at-now"]


def test_run_in_slices_equals_one_run():
    def build():
        s, out = Simulator(), []

        def tick(s=s):
            while True:
                out.append(s.now)
                yield 7
        s.process(tick())
        return s, out
    a, log_a = build()
    a.run(until=100)
    b, log_b = build()
    for t in range(10, 101, 10):
        b.run(until=t)
    assert log_a == log_b
    assert log_a == list(range(0, 100, 7))


def test_run_without_until_drains_heap(sim, log):
    sim.schedule(1000, log.append, "late")
    sim.run()
    assert log == ["late"] and sim.now == 1000 and sim.peek() is None


# -- processes -----------------------------------------------------------------------

def test_process_discrete_time_steps(sim, log):
    def pem():
        while True:
            log.append(sim.now)
            yield 1
    sim.process(pem())
    sim.run(until=3)
    assert log == [0, 1, 2]


def test_process_return_value_and_alive_flag(sim):
    def worker():
        yield 4
        yield 0
        return "done"
    proc = sim.process(worker())
    assert isinstance(proc, Process)
    assert proc.alive
    sim.run()
    assert not proc.alive
    assert proc.value == "done"
    assert sim.now == 4


def test_process_starts_now_not_immediately(sim, log):
    def p():
        log.append("process")
        yield 0
    sim.process(p())
    log.append("after process()")
    sim.run()
    assert log == ["after process()", "process"]


def test_two_processes_interleave_deterministically(sim, log):
    def p(name, period):
        while True:
            log.append((sim.now, name))
            yield period
    sim.process(p("a", 3))
    sim.process(p("b", 2))
    sim.run(until=7)
    assert log == [(0, "a"), (0, "b"), (2, "b"), (3, "a"), (4, "b"), (6, "a"), (6, "b")]


def test_process_yielding_garbage_raises_clear_error(sim):
    def bad():
        yield "soon"
    proc = sim.process(bad())
    with pytest.raises(ValueError, match="yield a delay"):
        sim.run()
    assert not proc.alive


@pytest.mark.parametrize("garbage", [-1, 1.5, True, None, [3]])
def test_process_yielding_bad_delays(sim, garbage):
    def bad():
        yield garbage
    sim.process(bad())
    with pytest.raises(ValueError, match="process must yield"):
        sim.run()


# -- signals ---------------------------------------------------------------------

def test_signal_resumes_all_waiters_in_wait_order_with_value(sim, log):
    irq = Signal(sim)

    def waiter(name):
        value = yield irq
        log.append((sim.now, name, value))
    sim.process(waiter("w1"))
    sim.process(waiter("w2"))
    sim.run(until=1)
    assert irq.waiting == 2
    sim.schedule(4, irq.trigger, "disk")
    sim.run()
    assert log == [(5, "w1", "disk"), (5, "w2", "disk")]
    assert irq.waiting == 0


def test_signal_trigger_is_once_per_wait(sim, log):
    sig = Signal(sim)

    def loop():
        while True:
            v = yield sig
            log.append((sim.now, v))
    sim.process(loop())
    sim.schedule(1, sig.trigger, "a")
    sim.schedule(1, sig.trigger, "lost")  # same instant: waiter not re-armed yet
    sim.schedule(3, sig.trigger, "b")
    sim.run()
    assert log == [(1, "a"), (3, "b")]


def test_signal_trigger_without_waiters_is_noop(sim):
    sig = Signal(sim)
    sig.trigger(1)
    sim.run()
    assert sim.events_run == 0


def test_process_waits_then_delays(sim, log):
    go = Signal(sim)

    def p():
        yield go
        log.append(sim.now)
        yield 10
        log.append(sim.now)
    sim.process(p())
    sim.schedule(5, go.trigger)
    sim.run()
    assert log == [5, 15]


# -- determinism and ordering invariant (hypothesis) ---------------------------------

events = st.lists(st.tuples(st.integers(0, 50), st.integers(-2, 2)), max_size=40)


@given(events)
def test_execution_order_is_time_priority_fifo(spec):
    sim, out = Simulator(), []
    for i, (delay, prio) in enumerate(spec):
        sim.schedule(delay, out.append, i, priority=prio)
    sim.run()
    expected = sorted(range(len(spec)), key=lambda i: (spec[i][0], spec[i][1], i))
    assert out == expected
    assert sim.events_run == len(spec)
    assert sim.now == (max(d for d, _ in spec) if spec else 0)


@given(events, st.sets(st.integers(0, 39)))
def test_cancel_removes_exactly_the_cancelled(spec, to_cancel):
    sim, out = Simulator(), []
    evs = [sim.schedule(d, out.append, i, priority=p) for i, (d, p) in enumerate(spec)]
    for i in to_cancel:
        if i < len(evs):
            sim.cancel(evs[i])
    sim.run()
    assert sorted(out) == [i for i in range(len(spec)) if i not in to_cancel]


@given(events, st.integers(0, 60))
def test_run_until_partitions_events(spec, until):
    sim, out = Simulator(), []
    for i, (d, p) in enumerate(spec):
        sim.schedule(d, out.append, i, priority=p)
    sim.run(until=until)
    assert set(out) == {i for i, (d, _) in enumerate(spec) if d < until}
    assert sim.now == until


def _trace(seed_spec):
    sim, out = Simulator(), []

    def proc(name, delays):
        for d in delays:
            out.append((sim.now, name))
            yield d
    for name, delays in seed_spec:
        sim.process(proc(name, delays))
    sim.run()
    return out, sim.now, sim.events_run


@given(st.lists(st.tuples(st.sampled_from("abcd"),
                          st.lists(st.integers(0, 9), max_size=8)), max_size=6))
def test_same_input_same_trace(spec):
    assert _trace(spec) == _trace(spec)
