"""Claims of notebook 10 (interrupts and I/O): recomputed from virtlab.interrupts/devices."""

import math

from virtlab import devices, interrupts
from virtlab.scheduler import VM, CreditScheduler, simulate

from . import cite, claim

cite("10", "as in the PC's 8259 where IRQ 0 is the timer",
     "Intel 8259A datasheet (IRQ 0 highest priority in fully nested mode; the PC wires the "
     "timer to IRQ 0); facts.md §12")
cite("10", "(KVM exit reasons IO 2 / MMIO 6, facts §10)",
     "torvalds/linux include/uapi/linux/kvm.h (facts.md §10)")


@claim("10", "a real 8259 keeps exactly one pending bit (IRR) per line, so the further edges "
             "are lost as events")
def _():
    # facts.md §12: the model's *count* is a convention; its pending state is one bit:
    # two raises on one line make one deliverable interrupt, not two
    pic = interrupts.InterruptController(16)
    assert pic.raise_line(11) is True and pic.raise_line(11) is False
    assert pic.acknowledge() == (11, 2)
    pic.eoi(11)
    assert pic.acknowledge() is None


@claim("10", "virtlab's controller also *counts* the merged edges behind each pending bit")
def _():
    pic = interrupts.InterruptController(16)
    for _ in range(3):
        pic.raise_line(4)
    assert pic.acknowledge() == (4, 3)


@claim("10", "Twelve packets, but fewer virtual interrupts for domU1")
def _():
    burst = devices.merge_events(devices.packet_burst("domU1", 12, gap_us=2),
                                 devices.disk_requests("domU2", 4, start=5),
                                 devices.timer_ticks(40, 120))
    trace = interrupts.simulate_interrupts(interrupts.Platform(), burst)
    row = {r[0]: r for r in trace.summary()}["domU1"]
    assert row[1] == 12 and row[2] < 12


@claim("10", "If the vCPU is descheduled, the interrupt waits for the scheduler.")
def _():
    cpu = simulate(CreditScheduler(), [VM("domU1"), VM("domU2")], pcpus=1, duration_ms=200)
    schedule = interrupts.schedule_from_trace(cpu)
    packets = devices.packet_burst("domU1", 8, start=1000, gap_us=9000)
    alone = interrupts.simulate_interrupts(interrupts.Platform(), packets)
    shared = interrupts.simulate_interrupts(interrupts.Platform(), packets, schedule=schedule)
    assert max(shared.latencies("domU1")) > 100 * max(alone.latencies("domU1"))


@claim("10", "(costs are illustrative: a VM exit ≈ 1 µs)")
def _():
    assert devices.IOCosts().exit_us == 1


@claim("10", "Emulation needs 4 register accesses to start a request and 2 in its interrupt "
             "handler, plus the injection: 7 exits per request.")
def _():
    c = devices.IOCosts()
    assert (c.mmio_per_request, c.isr_accesses) == (4, 2)
    emu = devices.compare_io(requests=64, batch=8, coalesce=1).results[0]
    assert emu.mode == "emulated" and emu.exits_per_request == 4 + 2 + 1


def _batches():
    return {b: devices.run_io("paravirtual", [0] * 64, batch=b, ring_size=64)
            for b in (1, 4, 16)}


@claim("10", "Batching cuts the **notifications** (guest → backend: ⌈64 / batch⌉), not the "
             "interrupts.")
def _():
    runs = _batches()
    for b, r in runs.items():
        assert r.notifications == math.ceil(64 / b)
    assert runs[16].interrupts > runs[1].interrupts


@claim("10", "with batch 16 the guest is idle after four kicks and takes each completion as the "
             "device delivers it — more interrupts")
def _():
    runs = _batches()
    assert runs[16].notifications == 4 and runs[16].interrupts > runs[1].interrupts


def _coalescing():
    return {(gap, co): devices.run_io("passthrough", devices.make_arrivals(64, gap),
                                      coalesce=co, coalesce_us=100)
            for gap in (1, 5) for co in (1, 4, 16)}


@claim("10", "(or after a 100 µs timeout)")
def _():
    lone = devices.run_io("passthrough", [0], coalesce=16, coalesce_us=100)
    assert lone.interrupts == 1 and 100 <= lone.mean_latency_us <= 100 + 10


@claim("10", "Under light load coalescing trades interrupts for latency: each completion waits "
             "for the others of its group.")
def _():
    r = _coalescing()
    assert r[5, 1].interrupts > r[5, 4].interrupts > r[5, 16].interrupts
    assert r[5, 1].mean_latency_us < r[5, 4].mean_latency_us < r[5, 16].mean_latency_us
    assert r[5, 1].throughput_kops == r[5, 16].throughput_kops


@claim("10", "fewer interrupts leave it more time for the driver, so throughput rises and "
             "latency can even drop — until the groups get so large that completions wait for "
             "them again.")
def _():
    r = _coalescing()
    assert r[1, 4].throughput_kops > r[1, 1].throughput_kops
    assert r[1, 4].mean_latency_us < r[1, 1].mean_latency_us
    assert r[1, 16].mean_latency_us > r[1, 4].mean_latency_us


def _table():
    return {r.mode: r for r in devices.compare_io(requests=64, batch=8, coalesce=1).results}


@claim("10", "Emulation costs several VM exits per request")
def _():
    t = _table()
    assert t["emulated"].exits_per_request > max(t["paravirtual"].exits_per_request,
                                                 t["passthrough"].exits_per_request)


@claim("10", "Passthrough has the lowest mean latency of the three on the 64-request burst, but "
             "without coalescing it takes one exit per interrupt, so the batched paravirtual "
             "ring served more requests per second there")
def _():
    t = _table()
    assert t["passthrough"].mean_latency_us == min(r.mean_latency_us for r in t.values())
    assert t["passthrough"].exits_per_request == 1.0
    assert t["paravirtual"].throughput_kops > t["passthrough"].throughput_kops


@claim("10", "passthrough also pins the VM to its host and the device to one VM")
def _():
    t = _table()
    assert t["passthrough"].migratable is False and t["passthrough"].shared is False

cite("10", "(a real 8259 does not count them — the model's count is a convention)",
     "Intel 8259A datasheet (one IRR bit per line); facts.md §12")


@claim("10", "Every device interrupt was delivered to exactly one owner:")
def _():
    burst = devices.merge_events(devices.packet_burst("domU1", 12, gap_us=2),
                                 devices.disk_requests("domU2", 4, start=5),
                                 devices.timer_ticks(40, 120))
    trace = interrupts.simulate_interrupts(interrupts.Platform(), burst)
    assert sum(trace.delivered_by_owner().values()) == len(burst) and trace.pending == ()


@claim("10", "the hypervisor asks for an *interrupt-window exit* and injects when the guest "
             "executes `sti`")
def _():
    cli = interrupts.simulate_interrupts(interrupts.Platform(),
                                         [devices.IOEvent(0, "nic", "domU1")],
                                         if_clear={"domU1": [(5, 40)]})
    assert cli.done_at[0] > 40
    assert "interrupt window" in cli.journeys[0][-2].action


@claim("10", "a second assignment of the same device is refused, and the rest of the platform "
             "keeps working.")
def _():
    import pytest
    p = interrupts.Platform()
    p.assign("nic", "domU1")
    with pytest.raises(ValueError):
        p.assign("nic", "domU2")
    assert p.owner("nic") == "domU1" and p.mode("disk") == "split"


@claim("10", "its latency is microseconds for a running vCPU and up to a scheduler time slice "
             "for a descheduled one.")
def _():
    cpu = simulate(CreditScheduler(), [VM("domU1"), VM("domU2")], pcpus=1, duration_ms=200)
    packets = devices.packet_burst("domU1", 8, start=1000, gap_us=9000)
    alone = interrupts.simulate_interrupts(interrupts.Platform(), packets)
    shared = interrupts.simulate_interrupts(interrupts.Platform(), packets,
                                            schedule=interrupts.schedule_from_trace(cpu))
    assert max(alone.latencies("domU1")) < 100
    assert 1000 < max(shared.latencies("domU1")) <= CreditScheduler().tslice_ms * 1000
