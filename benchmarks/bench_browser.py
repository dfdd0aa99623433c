"""What the student feels: slider-to-picture round trips in the real browser.

JupyterLab and headless system Chromium are started with the helpers of the
browser test (``tests/test_browser.py``: ``JupyterServer``, ``LabPage``,
``find_chromium``).  The apps of :func:`virtlab.widgets.apps` are shown page
by page as the course shows them (:func:`course_pages`: the apps of one course
notebook, at most four, on one page): a scratch notebook per page with the
naive baseline app (:class:`benchmarks.baseline.BaselineApp`) and those apps,
one per cell, opened, measured, closed and its kernel shut down before the
next.  For each app one control is moved
``WARMUP + MOVES`` times, alternating between two values (a slider one step
up and back with the arrow keys, else between its ends with End/Home; a
dropdown between two options; a checkbox or toggle button back and forth); the
first control whose move changes the picture is used.  Each move is timed *in
the page*: from the input event (captured on the app's box) until the new picture is painted — a
MutationObserver sees the ``src`` of the app's visible ``<img>`` elements
change (the last HTML area for apps without a picture); each change is
followed by ``img.decode()``, one ``requestAnimationFrame`` and a task after
it (the frame has been painted), and the clock stops at the paint of the last
picture the move changed (the kernel is idle by then, so all have arrived:
apps with a static layer update two images).  Moves do not queue.

The kernel-side share is the app's own update time (model + draw + SVG),
read afterwards from ``WidgetApp.timings`` in the kernel.

The main rows are *cold* redraws: the app's per-state cache
(``WidgetApp.state_cache``) is switched off first, since alternating between
two values would otherwise be served from it.  Apps that ship with the cache
then get a second series, "revisit (state cache)": the same moves with the
cache on — what a student feels going back to a setting seen before.

Apps that ship with the cache also render ahead (``WidgetApp.prefetch``):
after a move, the states one step of that control away are drawn while the
kernel is idle.  A third series, "stepping on (rendered ahead)", measures
that: the cache emptied, the same control moved on in one direction (turning
at the ends of its range) with ``WALK_PAUSE_S`` between moves — a student
looking at each picture — so each move's state was drawn ahead during the
pause.  The first move of the series is cold.

Each page is a scratch notebook under JupyterLab's default settings as
students have them (windowing "contentVisibility"), and the server gets the
options ``virtlab lab`` passes (kernel websockets with ``TCP_NODELAY``,
:mod:`virtlab.labserver`).

Rows per app: round trip p50 / p95 / max and kernel-side p50 (cold), p50 /
p95 of the revisits, p50 / p95 and kernel p50 of stepping on; each with
``x_baseline``: the figure divided by the same statistic of the baseline app
measured on the same page and kernel (kernel p50 / baseline kernel p50 — the
issue's target is <= 0.35).  The baseline rows give the median over the
pages.  Targets (issue 21): p50 <= 50 ms, p95 <= 100 ms on an idle machine.

``VIRTLAB_BENCH_APPS=a,b`` limits the apps (for trying a fix quickly);
``VIRTLAB_BENCH_CODE=DIR`` puts another checkout's ``virtlab`` first on the
kernel's path (before/after comparisons in the same minutes; its
``WidgetApp`` needs ``timings``).
Without Chromium or Playwright the benchmark returns one row saying so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.baseline import ratio
from benchmarks.harness import row

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 2
MOVES = 12
MOVE_TIMEOUT_MS = 5_000
P50_MS, P95_MS, KERNEL_X = 50.0, 100.0, 0.35
#: Seconds between two moves of the "stepping on" series: about three key
#: presses a second, a student looking at each picture.
WALK_PAUSE_S = 0.3
BASELINE = "baseline"

# Arm a measurement on the app box ``el``: the first input event after arming
# starts the clock; the picture's change, decode and the painted frame stop it.
JS_ARM = """
el => {
  const st = window.__vlbench = {t0: null, t2: null, n: 0, pending: 0, kind: null};
  const imgs = Array.from(el.querySelectorAll('img')).filter(i => i.offsetParent !== null);
  const areas = el.querySelectorAll('.widget-html');
  st.kind = imgs.length ? 'img' : 'html';
  const start = () => { if (st.t0 === null) st.t0 = performance.now(); };
  const events = ['keydown', 'mousedown', 'input', 'change', 'click'];
  events.forEach(e => el.addEventListener(e, start, {capture: true, once: true}));
  // Every picture that changes (an app may update a static layer and its figure):
  // the clock stops when the last one has been decoded and its frame painted.
  const obs = new MutationObserver(records => {
    if (st.t0 === null) return;
    st.n += 1;
    st.pending += 1;
    const img = records[records.length - 1].target;
    const done = () => setTimeout(() => { st.t2 = performance.now(); st.pending -= 1; }, 0);
    const painted = () => requestAnimationFrame(done);
    if (img.decode) img.decode().then(painted, painted); else painted();
  });
  if (imgs.length) {
    imgs.forEach(i => obs.observe(i, {attributes: true, attributeFilter: ['src']}));
  } else {
    obs.observe(areas[areas.length - 1], {subtree: true, childList: true, characterData: true});
  }
  window.__vlbench_obs = obs;
  return st.kind;
}
"""

JS_KERNEL = """
(id) => {
  const app = window.jupyterapp;
  const panel = Array.from(app.shell.widgets('main')).find(w => w.id === id);
  const k = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return k ? k.status : 'none';
}
"""

# Run code in the notebook's kernel and return what it printed.
JS_EXECUTE = """
async ([id, code]) => {
  const app = window.jupyterapp;
  const panel = Array.from(app.shell.widgets('main')).find(w => w.id === id);
  const kernel = panel.sessionContext.session.kernel;
  let out = '';
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  future.onIOPub = msg => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
    if (msg.header.msg_type === 'error') out += 'ERROR ' + msg.content.evalue;
  };
  await future.done;
  return out;
}
"""


def _browser_helpers():
    """``tests/test_browser.py`` as a module (its server and page helpers)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests import test_browser

    return test_browser


def scratch_notebook(names: list[str], path: Path) -> None:
    """A notebook showing the baseline app, then every app in ``names``, one per cell."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json\nimport virtlab.widgets as w\n"
        "from benchmarks.baseline import BaselineApp\nAPPS = {}"))
    for name in [BASELINE] + names:
        make = "BaselineApp()" if name == BASELINE else f"w.{name}()"
        nb.cells.append(nbformat.v4.new_code_cell(f"APPS[{name!r}] = {make}\nAPPS[{name!r}]"))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


def movers(page, app):
    """Candidate controls of ``app``: (kind, alternating move, walking move) each.

    The alternating move goes back and forth between two values (cold rows,
    revisits); the walking move goes on in one direction and turns at the ends
    of the range (a student stepping through a slider or a list), so each
    state is new until it turns.
    """
    out = []
    for handle in app.locator(".noUi-handle").all()[:3]:
        def slide(handle=handle):
            now = float(handle.get_attribute("aria-valuenow") or 0)
            top = float(handle.get_attribute("aria-valuemax") or now + 1)
            handle.focus()
            page.keyboard.press("Home" if now >= top else "End")

        def step(handle=handle, state={"i": 0}):
            # one step up and back: a student nudging the slider
            handle.focus()
            page.keyboard.press("ArrowRight" if state["i"] % 2 == 0 else "ArrowLeft")
            state["i"] += 1

        def walk(handle=handle, state={"up": True}):
            now = float(handle.get_attribute("aria-valuenow") or 0)
            if now >= float(handle.get_attribute("aria-valuemax") or now):
                state["up"] = False
            elif now <= float(handle.get_attribute("aria-valuemin") or now):
                state["up"] = True
            handle.focus()
            page.keyboard.press("ArrowRight" if state["up"] else "ArrowLeft")
        out += [("slider step", step, walk), ("slider ends", slide, walk)]
    for select in app.locator(".widget-dropdown select").all()[:3]:
        values = [o.get_attribute("value") for o in select.locator("option").all()]
        if len(values) < 2:
            continue
        current = select.input_value()
        pair = [v for v in values if v != current][:1] + [current]

        def choose(select=select, pair=pair, state={"i": 0}):
            select.select_option(pair[state["i"] % 2])
            state["i"] += 1

        def through(select=select, values=values, state={"up": True}):
            i = values.index(select.input_value())
            if not 0 <= i + (1 if state["up"] else -1) < len(values):
                state["up"] = not state["up"]
            select.select_option(values[i + (1 if state["up"] else -1)])
        out.append(("dropdown", choose, through))
    for box in app.locator(".widget-checkbox input[type=checkbox]").all()[:2]:
        out.append(("checkbox", box.click, box.click))
    buttons = app.locator(".widget-toggle-buttons").first.locator("button").all() \
        if app.locator(".widget-toggle-buttons").count() else []
    if len(buttons) >= 2:
        def toggle(buttons=buttons, state={"i": 0}):
            state["i"] += 1
            buttons[state["i"] % 2].click()

        def along(buttons=buttons, state={"i": 0, "up": True}):
            if not 0 <= state["i"] + (1 if state["up"] else -1) < len(buttons):
                state["up"] = not state["up"]
            state["i"] += 1 if state["up"] else -1
            buttons[state["i"]].click()
        out.append(("toggle buttons", toggle, along))
    return out


def measure_moves(page, app, panel_id, move, count: int, pause_s: float = 0.0,
                  walking: bool = False) -> list[float] | None:
    """Round-trip ms of ``count`` moves, or None when a move changes no picture.

    A move that changes no picture (an invalid setting, a picture that does
    not depend on that value) disqualifies the control, except when
    ``walking``: a step on that changes nothing has no round trip to feel,
    so it is skipped (up to ``count`` of them).  ``pause_s``: time before each
    move (a student's pace; the kernel renders ahead meanwhile).
    """
    got: list[float] = []
    still = 0
    handle = app.element_handle()
    idle = f"() => ({JS_KERNEL})({json.dumps(panel_id)}) === 'idle'"
    while len(got) < count:
        if pause_s:
            page.wait_for_timeout(pause_s * 1000)
        page.evaluate(JS_ARM, handle)
        move()
        try:
            page.wait_for_function("() => window.__vlbench.n > 0", timeout=MOVE_TIMEOUT_MS)
        except Exception:  # playwright TimeoutError: this move redraws nothing
            page.wait_for_function(idle, timeout=30_000)
            page.evaluate("() => window.__vlbench_obs.disconnect()")
            still += 1
            if walking and still <= count:
                continue
            return None
        # The kernel reports idle after its last message to the page, so every
        # picture of this move has arrived; then wait for the last one's paint.
        page.wait_for_function(idle, timeout=30_000)
        page.wait_for_function("() => window.__vlbench.pending === 0", timeout=30_000)
        st = page.evaluate("() => { window.__vlbench_obs.disconnect(); "
                           "return window.__vlbench; }")
        got.append(st["t2"] - st["t0"])
    return got


def _p(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def course_pages(names: list[str], folder: Path = ROOT / "notebooks") -> list[tuple[str, list[str]]]:
    """``names`` grouped as the course shows them: (notebook stem, apps) per page.

    An app belongs to the first course notebook whose code calls it; apps no
    notebook calls get a page each.

    Examples
    --------
    >>> dict(course_pages(["tlb_lab", "page_walk", "partition_lab"]))["12_memory_virtualization"]
    ['tlb_lab', 'page_walk']
    """
    pages: dict[str, list[str]] = {}
    placed: set[str] = set()
    for nb in sorted(folder.glob("[0-9]*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        found = [n for n in names if n not in placed and re.search(rf"\b{n}\(", code)]
        if found:
            pages[nb.stem] = found
            placed.update(found)
    for n in names:
        if n not in placed:
            pages[n] = [n]
    return list(pages.items())


def measure_in_browser(names: list[str]) -> dict[str, dict[str, Any]]:
    """Per app: round-trip samples (ms), control kind, kernel ms, and its page's baseline.

    Each page shows the baseline app and the apps of one course notebook
    (:func:`course_pages`: at most four), as a student has them; the page is
    closed and its kernel shut down before the next.
    """
    from playwright.sync_api import sync_playwright

    tb = _browser_helpers()
    work = Path(tempfile.mkdtemp(prefix="virtlab-bench-browser-"))
    root = work / "root"
    root.mkdir()
    pages = course_pages(names)
    for stem, apps_ in pages:
        scratch_notebook(apps_, root / f"bench-{stem}.ipynb")
    old_path = os.environ.get("PYTHONPATH")
    code = os.environ.get("VIRTLAB_BENCH_CODE", "").strip()
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (code, str(ROOT), old_path) if p)
    # JupyterLab's own windowing ("contentVisibility": off-screen cells are not
    # laid out or painted), as students have it; the browser tests keep every
    # cell rendered ("none") for their own reasons.
    settings = {k: v for k, v in tb.LAB_SETTINGS.items() if "notebook-extension/tracker" not in k}
    server = tb.JupyterServer(root, work, work / "jupyter-server.log", lab_settings=settings)
    out: dict[str, dict[str, Any]] = {}
    try:
        server.wait_ready()
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(work / "profile"), executable_path=tb.find_chromium(), headless=True,
                args=tb.CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
            context.set_default_timeout(30_000)
            try:
                lab = tb.LabPage(context, server)
                lab.ensure_fresh()
                for stem, apps_ in pages:
                    try:
                        got = measure_page(lab.page, tb, f"bench-{stem}.ipynb", apps_)
                    except Exception as exc:  # noqa: BLE001 - one page must not hide the rest
                        got = {n: {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
                               for n in apps_}
                    finally:
                        server.shutdown_sessions(f"bench-{stem}.ipynb")
                    out.update(got)
            finally:
                context.close()
    finally:
        server.stop()
        if old_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old_path
        shutil.rmtree(work, ignore_errors=True)
    return out


def measure_page(page, tb, path: str, names: list[str]) -> dict[str, dict[str, Any]]:
    """Open the scratch notebook ``path``, run it, measure its baseline and apps, close it."""
    panel_id = page.evaluate(tb.JS_OPEN, path)
    try:
        tb.wait_for_state(page, panel_id, lambda s: s["ready"] and s["status"] == "idle",
                          90, "the kernel to start")
        tb.run_all_cells(page)
        state = tb.wait_for_state(
            page, panel_id,
            lambda s: s["errors"] or (s["pending"] == 0 and s["status"] == "idle"),
            300, "all apps to be built")
        if state["errors"]:
            raise RuntimeError(f"scratch notebook raised: {state['errors'][0]}")
        cells = page.locator(f"[id='{panel_id}'] .jp-CodeCell")
        measured: dict[str, dict[str, Any]] = {}
        for i, name in enumerate([BASELINE] + names, start=1):
            app = cells.nth(i).locator(".virtlab-app").first
            try:
                app.wait_for(timeout=30_000)
                app.scroll_into_view_if_needed()
                measured[name] = measure_app(page, app, panel_id, name)
            except Exception as exc:  # noqa: BLE001 - one app must not hide the rest
                measured[name] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        base = measured.pop(BASELINE)
        for name in names:
            measured[name]["baseline"] = base
        return measured
    finally:
        page.evaluate(tb.JS_CLOSE, panel_id)


def measure_app(page, app, panel_id, name: str) -> dict[str, Any]:
    """Cold round trips (state cache off), then revisits (cache as the app ships)."""
    def kernel(code: str) -> str:
        return page.evaluate(JS_EXECUTE, [panel_id, code])

    # getattr: VIRTLAB_BENCH_CODE may point at a checkout from before the cache
    cached = int(kernel(f"a = APPS[{name!r}]; print(getattr(type(a), 'state_cache', 0)); "
                        "a.state_cache = 0; getattr(a, '_states', {}).clear()"
                        ).strip().splitlines()[-1])
    candidates = movers(page, app)
    if not candidates:
        return {"skip": "no slider, dropdown, checkbox or toggle (text input only)"}
    for kind, move, walk in candidates:
        if measure_moves(page, app, panel_id, move, WARMUP) is None:
            continue
        samples = measure_moves(page, app, panel_id, move, MOVES)
        if samples is None:
            continue
        printed = kernel(f"print(json.dumps(list(APPS[{name!r}].timings)[-{MOVES}:]))")
        got = {"samples": samples, "control": kind,
               "kernel": [t * 1000 for t in json.loads(printed.strip().splitlines()[-1])]}
        if cached:
            kernel(f"APPS[{name!r}].state_cache = {cached}")
            revisit = measure_moves(page, app, panel_id, move, WARMUP + MOVES)
            if revisit:
                got["revisit"] = revisit[WARMUP:]
            # a student stepping on, at a student's pace: the next state was
            # rendered ahead (WidgetApp.prefetch) during the pause
            # (this control first; a walk that runs into a setting the model
            # refuses, which changes no picture, goes on with the next control)
            for walk_kind, _, walker in [(kind, move, walk)] + candidates:
                kernel(f"APPS[{name!r}]._states.clear()")
                walked = measure_moves(page, app, panel_id, walker, MOVES,
                                       pause_s=WALK_PAUSE_S, walking=True)
                if walked:
                    got.update(walk=walked, walk_control=walk_kind)
                    printed = kernel(f"print(json.dumps(list(APPS[{name!r}].timings)"
                                     f"[-{MOVES}:]))")
                    got["walk_kernel"] = [t * 1000 for t in
                                          json.loads(printed.strip().splitlines()[-1])]
                    break
        return got
    return {"error": "no slider, dropdown, checkbox or toggle changes the picture"}


def browser_round_trip() -> list[dict[str, Any]]:
    """Round trip in JupyterLab + Chromium per app, with ratios to the baseline app."""
    from virtlab.widgets import apps

    names = sorted(apps())
    wanted = os.environ.get("VIRTLAB_BENCH_APPS", "").strip()
    if wanted:
        names = [n for n in names if n in {w.strip() for w in wanted.split(",")}]
    try:
        import playwright.sync_api  # noqa: F401
        tb = _browser_helpers()
        chromium = tb.find_chromium()
    except ImportError as exc:
        chromium, reason = None, f"playwright missing: {exc}"
    else:
        reason = "Chromium not found"
    if chromium is None:
        return [row("browser round trip", None, "ms", "runs", False, error=reason)]
    t0 = time.perf_counter()
    got = measure_in_browser(names)

    def summary(g):
        return {"p50": statistics.median(g["samples"]), "p95": _p(g["samples"], 0.95),
                "max": max(g["samples"]), "kernel": statistics.median(g["kernel"])}

    # every page measured its own baseline; each app's ratios use its page's
    bases = {id(g["baseline"]): g["baseline"] for g in got.values() if "baseline" in g}
    good = [summary(b) for b in bases.values() if "samples" in b]
    if not good:
        why = next((b.get("error") for b in bases.values()), None) or "no page measured"
        return [row("browser baseline round trip", None, "ms", "runs", False, error=why)]
    rows = [row("browser baseline (naive one-line plot) round trip p50",
                round(statistics.median(b["p50"] for b in good), 1), "ms", "(context)", True,
                x_baseline=1.0, pages=len(good),
                range=[round(min(b["p50"] for b in good), 1),
                       round(max(b["p50"] for b in good), 1)]),
            row("browser baseline (naive one-line plot) kernel p50",
                round(statistics.median(b["kernel"] for b in good), 1), "ms", "(context)",
                True, x_baseline=1.0)]
    for name in names:
        g = got.get(name, {"error": "not measured"})
        if "samples" in g and "samples" not in g.get("baseline", {}):
            g = {"error": "its page's baseline was not measured"}
        if "skip" in g:
            rows.append(row(f"browser {name} round trip", None, "ms", "n/a", True,
                            note=g["skip"]))
            continue
        if "error" in g:
            rows.append(row(f"browser {name} round trip", None, "ms", "measured", False,
                            error=g["error"]))
            continue
        s, b = summary(g), summary(g["baseline"])
        extra = {"n": len(g["samples"]), "control": g["control"],
                 "kernel_share": round(s["kernel"] / s["p50"], 3)}
        rows += [
            row(f"browser {name} round trip p50", round(s["p50"], 1), "ms",
                f"<= {P50_MS:g}", s["p50"] <= P50_MS, x_baseline=ratio(s["p50"], b["p50"]),
                **extra),
            row(f"browser {name} round trip p95", round(s["p95"], 1), "ms",
                f"<= {P95_MS:g}", s["p95"] <= P95_MS, x_baseline=ratio(s["p95"], b["p95"])),
            row(f"browser {name} round trip max", round(s["max"], 1), "ms", "(info)", True,
                x_baseline=ratio(s["max"], b["max"])),
            row(f"browser {name} kernel p50", round(s["kernel"], 1), "ms",
                f"<= {KERNEL_X:g} x base", s["kernel"] <= KERNEL_X * b["kernel"],
                x_baseline=ratio(s["kernel"], b["kernel"])),
        ]
        if g.get("revisit"):
            p50, p95 = statistics.median(g["revisit"]), _p(g["revisit"], 0.95)
            rows += [
                row(f"browser {name} revisit (state cache) p50", round(p50, 1), "ms",
                    f"<= {P50_MS:g}", p50 <= P50_MS, x_baseline=ratio(p50, b["p50"])),
                row(f"browser {name} revisit (state cache) p95", round(p95, 1), "ms",
                    f"<= {P95_MS:g}", p95 <= P95_MS, x_baseline=ratio(p95, b["p95"])),
            ]
        if g.get("walk"):
            p50, p95 = statistics.median(g["walk"]), _p(g["walk"], 0.95)
            k50 = statistics.median(g["walk_kernel"])
            rows += [
                row(f"browser {name} stepping on (rendered ahead) p50", round(p50, 1), "ms",
                    f"<= {P50_MS:g}", p50 <= P50_MS, x_baseline=ratio(p50, b["p50"]),
                    control=g["walk_control"], n=len(g["walk"])),
                row(f"browser {name} stepping on (rendered ahead) p95", round(p95, 1), "ms",
                    f"<= {P95_MS:g}", p95 <= P95_MS, x_baseline=ratio(p95, b["p95"])),
                row(f"browser {name} stepping on kernel p50", round(k50, 1), "ms",
                    f"<= {KERNEL_X:g} x base", k50 <= KERNEL_X * b["kernel"],
                    x_baseline=ratio(k50, b["kernel"])),
            ]
    rows.append(row("browser benchmark wall time", round(time.perf_counter() - t0, 1), "s",
                    "(info)", True))
    return rows


BENCHMARKS = [browser_round_trip]
