"""Engine speed: BT and VT within 1.10x native wall-clock; emulation instructions/s.

design.md targets: binary translation and hardware-assisted runs of a
compute-bound guest <= 1.10x native wall-clock in the same run; emulation
(the interpreter) >= 10 M guest instructions/s.  The interpreter is threaded
code (each address decoded once into a handler that returns the next one); on
an idle 2-core machine it reaches about 12 M/s, which is close to CPython's
per-call limit, so under load the figure drops below the target.
"""

from virtlab.hypervisor.microbench import wallclock


def engine_speed():
    w = wallclock(iterations=300_000, repeats=5)
    rows = []
    for mode in ("binary_translation", "hardware"):
        ratio = w[mode]["ratio_to_native"]
        rows.append({"name": f"engine {mode} / native wall-clock", "value": round(ratio, 3),
                     "unit": "x", "target": "<= 1.10", "ok": ratio <= 1.10})
    for mode in ("native", "emulation"):
        ips = w[mode]["instructions_per_second"] / 1e6
        rows.append({"name": f"engine {mode} guest instructions/s", "value": round(ips, 2),
                     "unit": "M/s", "target": ">= 10" if mode == "emulation" else "(info)",
                     "ok": ips >= 10 if mode == "emulation" else True})
    em = w["emulation"]["ratio_to_native"]
    rows.append({"name": "engine emulation / native wall-clock", "value": round(em, 2),
                 "unit": "x", "target": "> 1 (clearly slower)", "ok": em > 1.5})
    return rows


def widget_cpu_redraw():
    import statistics
    import time

    import virtlab.widgets as w
    from benchmarks.baseline import kernel_baseline_ms

    rows = []
    rows.append({"name": "widget baseline (one-line plot) redraw median",
                 "value": round(kernel_baseline_ms(), 1), "unit": "ms",
                 "target": "(context)", "ok": True})
    for name, control, values in (("emulation_lab", "compute", [2000, 4000, 8000, 3000]),
                                  ("sensitive_lab", "isa", ["TOY", "X86_VTX", "X86_32"])):
        if name not in w.apps():
            continue
        app = getattr(w, name)()
        # cold redraws: the values repeat, which the state cache would serve
        app.state_cache = 0
        app._states.clear()
        times = []
        for v in values * 3:
            t0 = time.perf_counter()
            app.controls[control].value = v
            times.append(time.perf_counter() - t0)
        med, mx = statistics.median(times) * 1000, max(times) * 1000
        rows.append({"name": f"widget {name} redraw median", "value": round(med, 1),
                     "unit": "ms", "target": "<= 50", "ok": med <= 50})
        rows.append({"name": f"widget {name} redraw max", "value": round(mx, 1),
                     "unit": "ms", "target": "<= 100", "ok": mx <= 100})
    return rows


BENCHMARKS = [engine_speed, widget_cpu_redraw]
