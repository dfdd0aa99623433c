"""Widget latency: model + redraw for every control of every widget app.

For each app in :func:`virtlab.widgets.apps` the app is built, one untimed
pass over its controls warms caches (fonts, imports), then ``REPEAT`` timed
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

from benchmarks.harness import row, summary_ms

REPEAT = 3
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


def measure_app(factory, repeat: int = REPEAT) -> dict[str, Any]:
    """Build the app and time every control change; return samples and counts."""
    app = factory()
    plan = [(name, c, vals) for name, c in app.controls.items()
            if (vals := control_values(c)) is not None]
    samples: list[float] = []
    errors: list[str] = []
    skipped = [name for name, c in app.controls.items() if control_values(c) is None]
    for rep in range(repeat + 1):  # pass 0 is the untimed warm-up
        for name, control, values in plan:
            original = (getattr(control, "index", None)
                        if values and values[0][0] == "index" else control.value)
            for attr, value in values:
                if getattr(control, attr) == value:
                    continue  # no change, no redraw
                before = app.updates
                t0 = time.perf_counter()
                setattr(control, attr, value)
                dt = time.perf_counter() - t0
                if rep:
                    if app.updates > before:
                        samples.append(dt)
                    elif app.error:
                        errors.append(f"{name}={value!r}: {app.error}")
            # Put the control back so the next control starts from the defaults.
            attr = values[0][0] if values else "value"
            if getattr(control, attr) != original:
                setattr(control, attr, original)
    return {"samples": samples, "errors": sorted(set(errors)), "skipped": skipped,
            "controls": len(plan)}


def bench_widget_latency() -> list[dict[str, Any]]:
    """Median and max model + redraw time per widget app, and over all apps."""
    from virtlab.widgets import apps

    rows = []
    everything: list[float] = []
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
        med, top = summary_ms(samples)
        extra = {"n": len(samples)}
        if got["errors"]:
            extra["model_errors"] = got["errors"][:5]
        rows.append(row(f"widget {name} median", med, "ms", f"<= {MEDIAN_MS:g}",
                        med <= MEDIAN_MS, **extra))
        rows.append(row(f"widget {name} max", top, "ms", f"<= {MAX_MS:g}",
                        top <= MAX_MS, **extra))
    if everything:
        med, top = summary_ms(everything)
        rows.append(row("widgets (all apps) median", med, "ms", f"<= {MEDIAN_MS:g}",
                        med <= MEDIAN_MS, n=len(everything)))
        rows.append(row("widgets (all apps) max", top, "ms", f"<= {MAX_MS:g}",
                        top <= MAX_MS, n=len(everything)))
    return rows


BENCHMARKS = [bench_widget_latency]
