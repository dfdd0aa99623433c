"""Presentation mode in a real browser: the RISE deck and the Voila dashboard (issue 18 §1).

For three notebooks the deck (``/rise/<path>``, what ``virtlab present NN``
opens) loads as a reveal.js slideshow, the arrow keys advance it, and a widget
on its own slide — run there with Shift+Enter, as the lecturer does, after the
setup subslide under the title — reacts when one of its controls moves.  The
dashboard that ``virtlab present --dashboard 11`` serves (its command line from
:func:`virtlab.coursecli.present_cmd`) loads with no JavaScript error, shows
no code, and its widget reacts.

The browser and the control-moving helper are tests/test_browser.py's, and so is
the Jupyter server (one for every deck; it serves the notebooks with their
outputs stripped, so every widget is made live in the page) -- started with the
extension options that ``virtlab present``'s command line carries
(:func:`virtlab.coursecli.lab_extension_args`): without them the deck shows
every widget as its text repr (``VBox(children=...)``), because the
ipywidgets manager cannot load in RISE's app (see
virtlab/labextensions/virtlab-rise-widgets/README.md).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import nbformat
import pytest
from test_browser import (  # noqa: F401 - fixtures are used by name
    ARTIFACTS,
    CHANGE_TIMEOUT_MS,
    JS_SIGNATURE,
    NOTEBOOK_DIR,
    _die_with_parent,
    browser_context,
    chromium_path,
    copy_stripped,
    free_port,
    app_signature,
    move_one_control,
    serve_stripped,
)

from virtlab.coursecli import present_cmd

pytestmark = pytest.mark.browser

DECKS = ["11_cpu_scheduling", "12_memory_virtualization", "05_containers"]
DASHBOARD = "11"
RUN_TIMEOUT_MS = 90_000

PRESENT = ".reveal .slides > section.present"
# The innermost slide on screen (a vertical stack's current subslide, else the slide).
JS_CURRENT = """
() => {
  const top = document.querySelector('.reveal .slides > section.present');
  if (!top) return null;
  const inner = top.querySelector(':scope > section.present');
  return inner || top;
}
"""

# A widget's text repr, as an output shows it when no widget manager takes the view:
# a virtlab app's "<PageWalkApp: title>", an ipywidget's "VBox(children=...)".
REPR = re.compile(r"<[A-Z]\w*: |\b[A-Z]\w*\((children|value|description)=")
JS_APP_OR_REPR = """
(present) => {
  if (document.querySelector(present + ' .virtlab-app')) return true;
  const out = document.querySelector(present + ' .jp-OutputArea-output');
  return !!out && /<[A-Z]\\w*: |\\b[A-Z]\\w*\\((children|value|description)=/.test(out.innerText);
}
"""


def click_first_slider(page, app) -> bool:
    """Click near the far end of the app's first slider track with the mouse.

    In the deck the keyboard is reveal.js's: Home/End or the arrows on a focused
    slider handle also move the slideshow, so the lecturer (and this test) use
    the mouse.  A click on the track moves the handle there (noUiSlider) and,
    released at once, sends the value to the kernel.  True when the app's
    figure or text changed (a second click, at the other end, if the first only
    selected the cell or landed where the picture does not change).
    """
    handle = app.locator(".noUi-handle").first
    if not handle.count():
        return False
    far = None
    for _ in range(2):
        before = app_signature(app)
        now = float(handle.get_attribute("aria-valuenow") or 0)
        top = float(handle.get_attribute("aria-valuemax") or now + 1)
        # the far end unless the handle is there; a second try takes the other end
        far = now < top if far is None else not far
        track = app.locator(".noUi-base").first.bounding_box()
        # not the very ends: a click a few pixels inside the track's left edge can
        # land on the handle's overhang or the label and move nothing
        x = track["x"] + track["width"] * (0.95 if far else 0.25)
        page.mouse.click(x, track["y"] + track["height"] / 2)
        try:
            page.wait_for_function(f"([el, before]) => ({JS_SIGNATURE})(el) !== before",
                                   arg=[app.element_handle(), before],
                                   timeout=CHANGE_TIMEOUT_MS)
            return True
        except Exception:  # playwright TimeoutError
            continue
    raise AssertionError("clicking the slider track did not change the app's figure or text")


def present_server_args() -> list[str]:
    """The extension options of ``virtlab present 11``'s ``jupyter lab`` command line."""
    cmd, _ = present_cmd(SimpleNamespace(notebook=DASHBOARD, dashboard=False, de=False,
                                         port=None, no_browser=True), NOTEBOOK_DIR.parent)
    return [a for a in cmd if "labextensions_path" in a]


@pytest.fixture(scope="module")
def jupyter(chromium_path, tmp_path_factory):
    """tests/test_browser.py's server, with ``virtlab present``'s extension options."""
    with serve_stripped(tmp_path_factory, "jupyter-server-present.log",
                        tuple(present_server_args())) as server:
        yield server


def slide_type(cell) -> str:
    return cell.metadata.get("slideshow", {}).get("slide_type", "-")


def deck_widget(stem: str) -> str:
    """Source of the first widget app that has a slide of its own (not predict/practice)."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)
    for cell in nb.cells:
        if (cell.cell_type == "code" and slide_type(cell) == "slide"
                and "virtlab_section" not in cell.metadata
                and re.match(r"virtlab\.widgets\.\w+\(", cell.source.strip())):
            return cell.source.strip()
    raise AssertionError(f"{stem}: no widget cell with a slide of its own")


def widget_index(stem: str) -> int:
    """Horizontal index of :func:`deck_widget`'s slide (the title slide is 0)."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)
    index, source = -1, deck_widget(stem)
    for cell in nb.cells:
        index += slide_type(cell) == "slide"
        if cell.cell_type == "code" and cell.source.strip() == source:
            return index
    raise AssertionError(source)


def current_text(page) -> str:
    return page.evaluate(f"() => {{ const s = ({JS_CURRENT})(); return s ? s.innerText : ''; }}")


def wait_hash_change(page, before: str) -> str:
    page.wait_for_function("(b) => location.hash !== b", arg=before, timeout=10_000)
    return page.evaluate("() => location.hash")


def run_current_code_cell(page, needle: str) -> None:
    """Click the code cell on the current slide that contains ``needle``, Shift+Enter it."""
    cell = page.locator(f"{PRESENT} .jp-CodeCell", has_text=needle).first
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Escape")          # command mode: Shift+Enter is RISE's smart-exec
    page.keyboard.press("Shift+Enter")


@pytest.fixture(scope="module")
def deck_page(browser_context):
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page, errors
    page.close()


@pytest.mark.parametrize("stem", DECKS)
def test_deck_opens_advances_and_its_widget_reacts(stem, jupyter, deck_page):
    page, errors = deck_page
    errors.clear()
    rel = f"notebooks/{stem}.ipynb"
    needle = re.match(r"virtlab\.widgets\.\w+\(", deck_widget(stem)).group(0)
    shot = ARTIFACTS / f"present-{stem}.png"
    try:
        page.goto(f"{jupyter.base}/rise/{rel}?token={jupyter.token}",
                  wait_until="domcontentloaded")
        page.wait_for_selector(PRESENT, timeout=60_000)
        title = nbformat.read(NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4).cells[0]
        first_line = title.source.splitlines()[0].lstrip("# ").split("(")[0].strip()
        page.wait_for_function(f"() => ({JS_CURRENT})() && ({JS_CURRENT})().innerText"
                               f".includes({first_line[:20]!r})", timeout=30_000)
        # The setup subslide under the title: run it as the lecturer does.
        hash0 = page.evaluate("() => location.hash")
        page.locator(PRESENT).first.click()
        page.keyboard.press("Escape")
        page.keyboard.press("ArrowDown")
        wait_hash_change(page, hash0)
        assert "import virtlab" in current_text(page), "the second slide is not the setup cell"
        run_current_code_cell(page, "import virtlab")
        # The arrow keys advance the deck (three slides on).
        for _ in range(3):
            before = page.evaluate("() => location.hash")
            page.keyboard.press("ArrowRight")
            wait_hash_change(page, before)
        # Then on to the widget's own slide with the deck's "next slide" control.
        target = widget_index(stem)
        for _ in range(target + 10):
            if page.evaluate(f"(n) => ({JS_CURRENT})().innerText.includes(n)", needle):
                break
            at = re.search(r"slide-(\d+)", page.evaluate("() => location.hash"))
            at = int(at.group(1)) if at else 0
            side = "left" if at > target else "right"
            page.locator(f".reveal .controls .navigate-{side}.enabled").first.click()
            page.wait_for_timeout(400)
        else:
            raise AssertionError(f"{stem}: no slide shows {needle!r}")
        widget_slide = page.evaluate("() => location.hash")
        run_current_code_cell(page, needle)
        page.wait_for_timeout(500)
        for _ in range(5):  # smart-exec moves on to the next slide: come back
            if page.evaluate("() => location.hash") == widget_slide:
                break
            page.locator(".reveal .controls .navigate-left.enabled").first.click()
            page.wait_for_timeout(400)
        assert page.evaluate("() => location.hash") == widget_slide
        # The cell ran in the deck's kernel: its output (a widget view) arrives.
        output = page.locator(f"{PRESENT} .jp-OutputArea-output").first
        output.wait_for(state="attached", timeout=RUN_TIMEOUT_MS)
        assert not errors, f"JavaScript errors in the deck: {errors}"
        # A live widget, not its text repr ("VBox(children=...)": what the deck shows
        # without virtlab-rise-widgets; jupyterlab-contrib/rise#126, #119).
        page.wait_for_function(JS_APP_OR_REPR, arg=PRESENT, timeout=RUN_TIMEOUT_MS)
        assert not REPR.search(output.inner_text()), \
            f"the deck shows the widget's text repr: {output.inner_text()[:80]!r}"
        app = page.locator(f"{PRESENT} .virtlab-app").first
        app.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
        assert page.locator(f"{PRESENT} .widget-slider, {PRESENT} .widget-dropdown, "
                            f"{PRESENT} .widget-toggle-buttons").count() > 0, \
            "the widget slide has no control"
        assert page.locator(f"{PRESENT} .virtlab-app").count() == 1, \
            "a widget slide shows more than one app"
        hash_before = page.evaluate("() => location.hash")
        assert click_first_slider(page, app), f"{stem}: the app on the slide has no slider"
        assert page.evaluate("() => location.hash") == hash_before, "the click moved the deck"
        assert not errors, f"JavaScript errors in the deck: {errors}"
    finally:
        page.screenshot(path=str(shot))
        jupyter.shutdown_sessions(rel)


@pytest.fixture(scope="module")
def dashboard(chromium_path, tmp_path_factory):
    """``virtlab present --dashboard 11``'s Voila, on a stripped copy of the notebooks."""
    root = tmp_path_factory.mktemp("dashboard")
    copy_stripped(NOTEBOOK_DIR, root / "notebooks")
    port = free_port()
    cmd, cwd = present_cmd(SimpleNamespace(notebook=DASHBOARD, dashboard=True, de=False,
                                           port=port, no_browser=True), root)
    assert "--Voila.ip=127.0.0.1" in cmd
    log = open(ARTIFACTS / "voila.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONHASHSEED="0"),
                            preexec_fn=_die_with_parent)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"voila exited with {proc.returncode}; see {log.name}")
            try:
                urllib.request.urlopen(f"{base}/voila/static/", timeout=5)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError("voila did not answer within 90 s") from None
                time.sleep(0.5)
        yield base
    finally:
        proc.terminate()  # our own child, by PID
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def test_dashboard_loads_without_errors_and_its_widget_reacts(dashboard, browser_context):
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{dashboard}/", wait_until="domcontentloaded", timeout=RUN_TIMEOUT_MS)
        app = page.locator(".virtlab-app").first
        app.wait_for(state="visible", timeout=RUN_TIMEOUT_MS * 2)
        page.wait_for_load_state("networkidle", timeout=30_000)
        assert page.locator(".jp-CodeCell .jp-InputArea").count() == 0, \
            "the dashboard shows code"
        assert page.locator(".jp-RenderedMarkdown").count() > 0, "the dashboard shows no text"
        assert "Error displaying widget" not in page.inner_text("body")
        assert move_one_control(page, app), "the dashboard's app has no control to move"
        assert not errors, f"JavaScript errors on the dashboard: {errors}"
    finally:
        page.screenshot(path=str(ARTIFACTS / "present-dashboard.png"), full_page=False)
        page.close()
