"""Benchmarks for the memory-virtualization models (design.md "Targets").

* nested MMU translations per second with a warm TLB: target >= 500 k/s;
* nested TLB misses (full 2D walks) per second: informational;
* widget interaction (model + redraw) for the memory and ballooning apps:
  median <= 50 ms, max <= 100 ms.
"""

from __future__ import annotations

import statistics
import time


def _nested(pages=64, tlb_entries=64):
    from virtlab.mmu import TLB, X86_64, GuestVM, NestedMMU, PhysicalMemory
    host = PhysicalMemory(4096)
    vm = GuestVM(host, 1024)
    gpt = vm.new_page_table(X86_64)
    for i in range(pages):
        gpt.map(0x400000 + i * 4096, i)
        vm.host_map(i)
    return NestedMMU(vm, gpt, tlb=TLB(tlb_entries))


def bench_nested_warm_tlb():
    mmu = _nested()
    vas = [0x400000 + (i % 64) * 4096 + 8 * (i % 500) for i in range(300_000)]
    for va in vas[:64]:
        mmu.translate(va)
    tr = mmu.translate
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for va in vas:
            tr(va)
        best = max(best, len(vas) / (time.perf_counter() - t0))
    return [{"name": "mmu: nested translations/s, warm TLB", "value": round(best),
             "unit": "1/s", "target": ">= 500000", "ok": best >= 500_000}]


def bench_nested_cold_walks():
    mmu = _nested(pages=256, tlb_entries=1)
    vas = [0x400000 + (i * 7 % 256) * 4096 for i in range(20_000)]
    t0 = time.perf_counter()
    for va in vas:
        mmu.translate(va)
    rate = len(vas) / (time.perf_counter() - t0)
    refs = mmu.stats().refs_per_miss
    return [{"name": "mmu: nested 2D walks/s (TLB always missing)", "value": round(rate),
             "unit": "1/s", "target": "informational", "ok": True},
            {"name": "mmu: page-table references per nested miss", "value": refs,
             "unit": "refs", "target": "== 24", "ok": refs == 24}]


def _time_widget(factory, changes):
    app = factory()
    times = []
    for name, value in changes:
        t0 = time.perf_counter()
        app.controls[name].value = value
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def bench_widgets():
    import virtlab.widgets as w
    cases = {
        "memory_costs": [("pt_updates", v) for v in (10, 20, 40, 60, 80, 5, 30, 50)],
        "tlb_lab": [("entries", v) for v in (8, 16, 32, 64, 128, 16, 48, 96)],
        "page_walk": [("step", v) for v in (1, 5, 10, 15, 20, 24, 3, 12)],
        "shadow_vs_nested": [("update_every", v) for v in (10, 20, 50, 100, 0, 30, 70, 40)],
        "balloon_lab": [("target_vm1", v) for v in (0, 32, 64, 96, 128, 48, 16, 80)],
    }
    out = []
    for name, changes in cases.items():
        if name not in w.apps():
            continue
        med, worst = _time_widget(getattr(w, name), changes)
        out.append({"name": f"widget {name}: median redraw", "value": round(med, 1),
                    "unit": "ms", "target": "<= 50", "ok": med <= 50})
        out.append({"name": f"widget {name}: max redraw", "value": round(worst, 1),
                    "unit": "ms", "target": "<= 100", "ok": worst <= 100})
    return out


BENCHMARKS = [bench_nested_warm_tlb, bench_nested_cold_walks, bench_widgets]

if __name__ == "__main__":
    for fn in BENCHMARKS:
        for row in fn():
            print(row)
