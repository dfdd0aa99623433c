"""Benchmarks for the memory-virtualization models (design.md "Targets").

* nested MMU translations per second with a warm TLB: target >= 500 k/s;
* nested TLB misses (full 2D walks) per second: informational, plus the
  references per miss (must be 24).

Widget latency of the memory and ballooning apps is measured with every other
app by ``bench_widgets.py``.
"""

from __future__ import annotations

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


# Widget latency of every app (these included) is measured by bench_widgets.py.
BENCHMARKS = [bench_nested_warm_tlb, bench_nested_cold_walks]

if __name__ == "__main__":
    for fn in BENCHMARKS:
        for row in fn():
            print(row)
