"""Widget latency: model + redraw for every control of every widget app.

For each app in :func:`virtlab.widgets.apps` the app is built, one untimed
change per control warms caches (fonts, imports), then ``REPEAT`` timed
passes set each control to several valid values headlessly — sliders: min,
mid, max; dropdowns / toggle buttons / radio buttons: every option;
checkboxes: toggled — and time the assignment ``control.value = v``, which
runs ``app.update()`` (model + figure + PNG) synchronously.  Target
(design.md): median <= 50 ms, max <= 100 ms per app.  Text fields are left
alone (free text has no "valid values"; tests/test_core_hostile.py covers
them with nonsense).
"""

from __future__ import annotations

import time
from typing import Any

import ipywidgets as W

from benchmarks.baseline import ratio
from benchmarks.harness import baseline_ms, row, summary_ms

REPEAT = 2
APP_BUDGET_S = 20.0  # per app; a slow app is reported, not waited for forever
MEDIAN_MS = 50.0
MAX_MS = 100.0


def control_values(control: W.Widget) -> list[tuple[str, Any]] | None:
    """Values to try for ``control`` as ``(attribute, value)`` pairs, or None.

    Selection widgets are driven through ``index`` (their options may be
    labels or (label, value) pairs).
    """
    if isinstance(control, (W.IntRangeSlider, W.FloatRangeSlider)):
        lo, hi = control.min, control.max
        mid = lo + (hi - lo) / 2
        if isinstance(control, W.IntRangeSlider):
            mid = int(mid)
        return [("value", (lo, mid)), ("value", (mid, hi)), ("value", (lo, hi))]
    if isinstance(control, (W.IntSlider, W.FloatSlider, W.FloatLogSlider,
                            W.BoundedIntText, W.BoundedFloatText)):
        lo, hi = control.min, control.max
        if isinstance(control, W.FloatLogSlider):
            lo, hi = control.base ** lo, control.base ** hi
            mid = (lo * hi) ** 0.5
        else:
            mid = lo + (hi - lo) / 2
        if isinstance(control, (W.IntSlider, W.BoundedIntText)):
            mid = int(mid)
        return [("value", v) for v in (lo, mid, hi)]
    if isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons, W.Select,
                            W.SelectionSlider)):
        return [("index", i) for i in range(len(control.options))]
    if isinstance(control, (W.Checkbox, W.ToggleButton)):
        return [("value", not control.value), ("value", control.value)]
    return None


def measure_app(factory, repeat: int = REPEAT,
                budget_s: float = APP_BUDGET_S) -> dict[str, Any]:
    """Build the app and time every control change.

    Returns wall-clock and CPU samples (seconds), the setting behind the
    slowest sample, model errors met at valid settings, skipped (text)
    controls and whether the time budget cut the passes short.
    """
    app = factory()
    # Cold redraws: the per-state cache (WidgetApp.state_cache) would turn the
    # timed passes, which revisit the warm-up's values, into cache hits.
    app.state_cache = 0
    app._states.clear()
    plan = [(name, c, vals) for name, c in app.controls.items()
            if (vals := control_values(c)) is not None]
    skipped = [name for name, c in app.controls.items() if control_values(c) is None]
    samples: list[float] = []
    cpu: list[float] = []
    labels: list[str] = []
    errors: list[str] = []
    t_start = time.perf_counter()
    truncated = False

    def change(control, attr, value) -> tuple[float, float, bool]:
        before = app.updates
        t0, c0 = time.perf_counter(), time.process_time()
        setattr(control, attr, value)
        return (time.perf_counter() - t0, time.process_time() - c0, app.updates > before)

    # Warm-up (untimed): one change per control loads fonts, caches, imports.
    for _, control, values in plan:
        attr = values[0][0]
        original = getattr(control, attr)
        other = [v for _, v in values if v != original]
        if other:
            change(control, attr, other[-1])
            change(control, attr, original)
    for _ in range(repeat):
        for name, control, values in plan:
            attr = values[0][0]
            original = getattr(control, attr)
            for attr, value in values:
                if getattr(control, attr) == value:
                    continue  # no change, no redraw
                wall, used, redrawn = change(control, attr, value)
                if redrawn:
                    samples.append(wall)
                    cpu.append(used)
                    labels.append(f"{name}={getattr(control, 'value', value)!r}")
                elif app.error:
                    errors.append(f"{name}={value!r}: {app.error}")
            # Put the control back so the next control starts from the defaults.
            if getattr(control, attr) != original:
                setattr(control, attr, original)
            if time.perf_counter() - t_start > budget_s:
                truncated = True
                break
        if truncated:
            break
    slowest = labels[samples.index(max(samples))] if samples else None
    return {"samples": samples, "cpu": cpu, "slowest": slowest,
            "errors": sorted(set(errors)), "skipped": skipped, "controls": len(plan),
            "truncated": truncated}


def bench_widget_latency() -> list[dict[str, Any]]:
    """Median and max model + redraw time per widget app, and over all apps.

    Rows carry the CPU time of this process as well (``cpu_median_ms``,
    ``cpu_max_ms``): on a shared machine the wall clock includes waiting for
    a core, the CPU time does not.
    """
    from virtlab.widgets import apps

    base = baseline_ms()
    rows = [row("widget baseline (naive one-line plot) median", base, "ms", "(context)", True,
                x_baseline=1.0)]
    everything: list[float] = []
    everything_cpu: list[float] = []
    for name, factory in sorted(apps().items()):
        try:
            got = measure_app(factory)
        except Exception as exc:  # noqa: BLE001 - one broken app must not hide the rest
            rows.append(row(f"widget {name}", None, "ms", "builds and redraws", False,
                            error=f"{type(exc).__name__}: {exc}"))
            continue
        samples = got["samples"]
        if not samples:
            rows.append(row(f"widget {name}", None, "ms", "n/a (no timed control)", True,
                            note="no slider/dropdown/checkbox control to time",
                            skipped=got["skipped"]))
            continue
        everything += samples
        everything_cpu += got["cpu"]
        med, top = summary_ms(samples)
        cpu_med, cpu_top = summary_ms(got["cpu"])
        extra = {"n": len(samples), "cpu_median_ms": cpu_med, "cpu_max_ms": cpu_top,
                 "slowest_setting": got["slowest"]}
        if got["errors"]:
            extra["model_errors"] = got["errors"][:5]
        if got["truncated"]:
            extra["note"] = f"stopped after the {APP_BUDGET_S:g} s budget"
        rows.append(row(f"widget {name} median", med, "ms", f"<= {MEDIAN_MS:g}",
                        med <= MEDIAN_MS, x_baseline=ratio(med, base), **extra))
        rows.append(row(f"widget {name} max", top, "ms", f"<= {MAX_MS:g}",
                        top <= MAX_MS, x_baseline=ratio(top, base), **extra))
    if everything:
        med, top = summary_ms(everything)
        rows.append(row("widgets (all apps) median", med, "ms", f"<= {MEDIAN_MS:g}",
                        med <= MEDIAN_MS, n=len(everything), x_baseline=ratio(med, base)))
        rows.append(row("widgets (all apps) max", top, "ms", f"<= {MAX_MS:g}",
                        top <= MAX_MS, n=len(everything), x_baseline=ratio(top, base)))
        cpu_med, cpu_top = summary_ms(everything_cpu)
        rows.append(row("widgets (all apps) CPU median", cpu_med, "ms", "informational",
                        True, n=len(everything_cpu)))
        rows.append(row("widgets (all apps) CPU max", cpu_top, "ms", "informational",
                        True, n=len(everything_cpu)))
    return rows


BENCHMARKS = [bench_widget_latency]
