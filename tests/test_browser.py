"""Every notebook in a real browser: JupyterLab + headless Chromium (Playwright).

For each notebook in ``notebooks/`` (parametrized over the glob, so notebooks
that land later are covered automatically) the test opens it in JupyterLab,
runs all cells through the menu (Run > Run All Cells), and asserts

* no cell produced an error output, and every code cell ran;
* every widget the stored notebook displays was rendered in the page (none is
  left as "Error displaying widget" or "Loading widget...");
* moving one control of a virtlab app (slider, dropdown or checkbox inside a
  ``.virtlab-app`` box; else a toggle, radio button or text field) changes
  what the app shows: its figure (``<img>`` src) or its HTML areas.  A
  slider is moved to its other end (one step may legitimately leave a figure
  unchanged); the next control is tried if the first changes nothing.

Screenshots go to ``test-artifacts/browser/``.  One Jupyter server, one
browser and one JupyterLab page serve the whole module (a page load costs
seconds); each notebook is opened in that page, closed without saving and its
kernel shut down after its test; after a failure the page is reloaded.  The
server works on a *copy* of the notebooks with their outputs stripped, so the
browser must produce every output itself and the committed files are never
touched (autosave is off as well).  A cell meant to raise (tag
``raises-exception``) would stop Run All and is not supported.

Chromium comes from the system (``/usr/bin/chromium``; ``.ci/run`` installs it
with apt).  Outside CI a missing browser skips with a reason; with
``CI=true`` it fails.

``VIRTLAB_BROWSER_NOTEBOOKS`` (a folder) replaces ``notebooks/`` — used to try
the test itself against throwaway notebooks.

Graded exercises: each run also opens **one** untouched exercise notebook from
``exercises/`` (the one of the day, rotating through all of them; set
``VIRTLAB_BROWSER_EXERCISES`` to ``all`` or to a comma-separated list of
exercise ids or ``exNN`` prefixes to choose), runs all its cells — demo widgets
included — and asserts that nothing raised, the check panels say "not answered
yet", and the demo widgets rendered (as many as the solution notebook shows).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import nbformat
import pytest

from virtlab.coursecli import server_args

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = Path(os.environ.get("VIRTLAB_BROWSER_NOTEBOOKS", ROOT / "notebooks"))
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
ALL_EXERCISES = sorted((ROOT / "exercises").glob("ex*.ipynb"))


def opened_exercises() -> list[Path]:
    """The exercise notebooks this run opens (one by default: a run takes ~20 s each)."""
    choice = os.environ.get("VIRTLAB_BROWSER_EXERCISES", "").strip()
    if choice == "all":
        return ALL_EXERCISES
    if choice:
        keys = {c.strip() for c in choice.split(",") if c.strip()}
        return [p for p in ALL_EXERCISES if p.stem in keys or p.stem[:4] in keys]
    return [ALL_EXERCISES[date.today().toordinal() % len(ALL_EXERCISES)]] \
        if ALL_EXERCISES else []


EXERCISES = opened_exercises()
ARTIFACTS = ROOT / "test-artifacts" / "browser"
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
SERVER_START_TIMEOUT = 90  # s; JupyterLab's first start on 2 busy cores is slow
RUN_TIMEOUT = 120  # s per notebook, for all its cells
CHANGE_TIMEOUT_MS = 6_000  # for the app to redraw after a control moved
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

# JupyterLab user settings for the test server: no news pop-up, no autosave
# (never write a notebook), and every cell kept in the DOM (JupyterLab 4's
# windowing would otherwise detach off-screen cells and their widgets).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"checkForUpdates": False, "fetchNews": "false"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings":
        {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none"},
}


def _unavailable(reason: str):
    """Skip outside CI; in CI a missing browser is a failure, never a skip."""
    if IN_CI:
        pytest.fail(f"CI=true but the browser test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def find_chromium() -> str | None:
    """Path of the system Chromium, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stored_widget_count(path: Path) -> int:
    """Widget views the committed (executed) notebook displays."""
    nb = nbformat.read(path, as_version=4)
    return sum(1 for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", [])
               if WIDGET_MIME in out.get("data", {}))


def copy_stripped(src_dir: Path, dst_dir: Path) -> None:
    """Copy the notebook folder, with every notebook's outputs removed."""
    shutil.copytree(src_dir, dst_dir, ignore=shutil.ignore_patterns(
        ".ipynb_checkpoints", "__pycache__"))
    for path in dst_dir.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
        nb.metadata.pop("widgets", None)
        nbformat.write(nb, path)


def _die_with_parent() -> None:
    """In the child: get SIGTERM when pytest dies, so a killed run leaks no server."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the fixture teardown still stops the server


class JupyterServer:
    """A JupyterLab server on a free localhost port, stopped by its PID.

    It gets the server options `virtlab lab` passes (:func:`virtlab.coursecli.server_args`),
    so the tests and the browser benchmark see the websockets students get.
    """

    def __init__(self, root_dir: Path, work: Path, log_path: Path,
                 extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None,
                 lab_settings: dict | None = None):
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        settings = work / "lab-settings"
        for rel, content in (LAB_SETTINGS if lab_settings is None else lab_settings).items():
            target = settings / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(content))
        env = dict(os.environ,
                   JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
                   JUPYTER_CONFIG_DIR=str(work / "config"),
                   JUPYTER_RUNTIME_DIR=str(work / "runtime"),
                   PYTHONHASHSEED="0", **(env or {}))
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
               f"--port={self.port}", "--ip=127.0.0.1",
               f"--ServerApp.token={self.token}",
               f"--ServerApp.root_dir={root_dir}",
               "--ServerApp.port_retries=0",
               "--LabApp.expose_app_in_browser=True",
               *server_args(),   # as `virtlab lab`: kernel websockets with TCP_NODELAY
               *extra_args]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=root_dir, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    def api(self, method: str, path: str):
        req = urllib.request.Request(f"{self.base}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; "
                                   f"log:\n{self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                self.api("GET", "/api/status")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                time.sleep(0.3)
        raise RuntimeError(f"jupyter lab did not answer within {SERVER_START_TIMEOUT} s")

    def shutdown_sessions(self, path: str | None = None) -> None:
        """Delete the sessions (and so the kernels) of ``path`` (or all)."""
        try:
            for session in self.api("GET", "/api/sessions") or []:
                if path is None or session.get("path") == path:
                    self.api("DELETE", f"/api/sessions/{session['id']}")
        except (urllib.error.URLError, OSError):
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.shutdown_sessions()
            self.proc.terminate()  # our own child, by PID
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


@pytest.fixture(scope="module")
def chromium_path():
    path = find_chromium()
    if path is None:
        _unavailable("Chromium not found (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        _unavailable(f"the playwright package is not installed: {exc}")
    return path


@contextlib.contextmanager
def serve_stripped(tmp_path_factory, log_name: str, extra_args: tuple[str, ...] = ()):
    """A :class:`JupyterServer` on stripped copies of the notebooks and exercises."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    work = tmp_path_factory.mktemp("jupyter")
    served = work / "root"
    copy_stripped(NOTEBOOK_DIR, served / "notebooks")
    if (ROOT / "exercises").is_dir():
        copy_stripped(ROOT / "exercises", served / "exercises")
    server = JupyterServer(served, work, ARTIFACTS / log_name, extra_args=extra_args)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def jupyter(chromium_path, tmp_path_factory):
    with serve_stripped(tmp_path_factory, "jupyter-server.log") as server:
        yield server


@pytest.fixture(scope="module")
def browser_context(jupyter, chromium_path, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_path, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


class LabPage:
    """One JupyterLab page reused by every notebook (a reload costs seconds).

    After a failed test the page is reloaded before the next one, so a stuck
    dialog or a broken panel cannot spill over.
    """

    def __init__(self, context, server: JupyterServer):
        self.server = server
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.needs_reload = True

    def ensure_fresh(self) -> None:
        if not self.needs_reload:
            return
        self.page.goto(f"{self.server.base}/lab?reset&token={self.server.token}",
                       wait_until="domcontentloaded")
        self.page.wait_for_function("() => window.jupyterapp !== undefined",
                                    timeout=60_000)
        self.page.evaluate("async () => { await window.jupyterapp.restored; }")
        self.page.wait_for_selector(".jp-LabShell", timeout=60_000)
        self.errors.clear()
        self.needs_reload = False


@pytest.fixture(scope="module")
def lab(browser_context, jupyter):
    lab = LabPage(browser_context, jupyter)
    yield lab
    lab.page.close()


# -- JavaScript run in the page (the exposed JupyterLab app) -----------------------

JS_FIND_PANEL = """
  const app = window.jupyterapp;
  const panel = app && Array.from(app.shell.widgets('main')).find(w => w.id === id);
"""

JS_NOTEBOOK_STATE = """
(id) => {""" + JS_FIND_PANEL + """
  if (!panel || !panel.content || !panel.content.model || !panel.sessionContext) {
    return null;
  }
  const cells = panel.content.model.cells;
  const errors = [];
  let pending = 0, code = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    code += 1;
    if (cell.sharedModel.getSource().trim() && cell.executionCount == null) pending += 1;
    for (let j = 0; j < cell.outputs.length; j++) {
      const out = cell.outputs.get(j).toJSON();
      if (out.output_type === 'error') {
        errors.push({cell: i, ename: out.ename, evalue: out.evalue,
                     traceback: (out.traceback || []).join('\\n')});
      }
    }
  }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {code, pending, errors, status: kernel ? kernel.status : 'none',
          ready: panel.sessionContext.isReady};
}
"""

JS_WIDGET_OUTPUTS = """
(id) => {
  const node = document.getElementById(id);
  const outs = node ? Array.from(node.querySelectorAll('.jp-OutputArea-output')) : [];
  return {
    rendered: outs.filter(el => el.querySelector(':scope > .jupyter-widgets')).length,
    pending: outs.filter(el => el.innerText.includes('Loading widget')).map(el => el.innerText),
    failed: outs.filter(el => el.innerText.includes('Error displaying widget'))
                .map(el => el.innerText),
  };
}
"""

# Open a notebook in the running JupyterLab (no page reload) and activate it.
JS_OPEN = """
async (path) => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  app.shell.activateById(panel.id);
  return panel.id;
}
"""

# Close without saving (the served copy must stay as it is; autosave is off).
JS_CLOSE = """
(id) => {""" + JS_FIND_PANEL + """
  if (!panel) return false;
  panel.context.model.dirty = false;
  panel.dispose();
  return true;
}
"""

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def wait_for_state(page, panel_id, predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(JS_NOTEBOOK_STATE, panel_id)
        if state is not None and predicate(state):
            return state
        dialog = page.locator(".jp-Dialog")
        if dialog.count():
            raise AssertionError(f"JupyterLab shows a dialog while waiting for {what}: "
                                 f"{dialog.first.inner_text()!r}")
        page.wait_for_timeout(250)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last state {state}")


#: The menu and item of "Run All Cells" (another UI language has other labels).
RUN_ALL = ("Run", "Run All Cells")


def run_all_cells(page, labels: tuple[str, str] = RUN_ALL) -> None:
    """Run → Run All Cells, through the menu as a student would."""
    menu, item = (re.compile(f"^{re.escape(label)}$") for label in labels)
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).click()
    page.locator(".lm-Menu-itemLabel", has_text=item).click()


# What the student sees change: the figure's src (when a figure is shown) and
# the app's HTML areas (description, message) — not the controls' own readouts.
JS_SIGNATURE = """
el => {
  const img = el.querySelector('img');
  const src = (img && img.offsetParent !== null && img.getAttribute('src')) || '';
  const text = Array.from(el.querySelectorAll('.widget-html-content'))
                    .map(e => e.innerText).join('\\n');
  return src + '|' + text;
}
"""


def app_signature(app) -> str:
    return app.evaluate(JS_SIGNATURE)


def move_one_control(page, app):
    """Change a slider / dropdown / checkbox (else toggle, radio, text) of ``app``.

    Returns a description of the control moved, or None when the app has no
    such control.  Tries each candidate until one changes the app's output.
    """
    before = app_signature(app)
    tried = []

    def changed() -> bool:
        try:
            page.wait_for_function(
                f"([el, before]) => ({JS_SIGNATURE})(el) !== before",
                arg=[app.element_handle(), before], timeout=CHANGE_TIMEOUT_MS)
            return True
        except Exception:  # playwright TimeoutError
            return False

    for handle in app.locator(".noUi-handle").all()[:3]:
        handle.scroll_into_view_if_needed()
        now = float(handle.get_attribute("aria-valuenow") or 0)
        top = float(handle.get_attribute("aria-valuemax") or now + 1)
        handle.focus()
        # Jump to the other end: one step may legitimately not change the figure.
        page.keyboard.press("Home" if now >= top else "End")
        tried.append("slider")
        if changed():
            return "slider"
    for select in app.locator(".widget-dropdown select").all()[:3]:
        options = select.locator("option").all()
        current = select.input_value()
        others = [o.get_attribute("value") for o in options
                  if o.get_attribute("value") != current]
        if not others:
            continue
        select.scroll_into_view_if_needed()
        select.select_option(others[0])
        tried.append("dropdown")
        if changed():
            return "dropdown"
    for box in app.locator(".widget-checkbox input[type=checkbox]").all()[:3]:
        box.scroll_into_view_if_needed()
        box.click()
        tried.append("checkbox")
        if changed():
            return "checkbox"
    for button in app.locator(".widget-toggle-buttons button:not(.mod-active)").all()[:2]:
        button.scroll_into_view_if_needed()
        button.click()
        tried.append("toggle button")
        if changed():
            return "toggle button"
    for radio in app.locator(".widget-radio-box input[type=radio]:not(:checked)").all()[:2]:
        radio.scroll_into_view_if_needed()
        radio.click()
        tried.append("radio button")
        if changed():
            return "radio button"
    for text in app.locator(".widget-text input[type=text]").all()[:2]:
        text.scroll_into_view_if_needed()
        text.fill((text.input_value() or "") + " VM")
        text.press("Enter")
        tried.append("text field")
        if changed():
            return "text field"
    if tried:
        raise AssertionError(f"moving {tried} did not change the app's figure or text")
    return None


def run_in_lab(rel: str, expected_widgets: int, shot: Path, jupyter, lab, then,
               run_all: tuple[str, str] = RUN_ALL) -> None:
    """Open ``rel``, run all cells, check errors and widgets, call ``then``, close it.

    ``then(page, panel, panel_id)`` makes the test's own checks once every cell
    ran and every widget rendered; a screenshot and the page's JavaScript errors
    follow.  The notebook is closed without saving and its kernel shut down.
    """
    shot.unlink(missing_ok=True)
    lab.ensure_fresh()
    page = lab.page
    first_error = len(lab.errors)  # JavaScript errors raised while this notebook ran
    panel_id = None
    ok = False
    try:
        panel_id = page.evaluate(JS_OPEN, rel)
        panel = page.locator(f"[id='{panel_id}']")
        wait_for_state(page, panel_id, lambda s: s["ready"] and s["status"] == "idle",
                       60, "the kernel to start")
        run_all_cells(page, run_all)
        state = wait_for_state(
            page, panel_id,
            lambda s: s["errors"] or (s["pending"] == 0 and s["status"] == "idle"),
            RUN_TIMEOUT, "all cells to run")
        if state["errors"]:
            err = state["errors"][0]
            raise AssertionError(
                f"{rel}: cell {err['cell']} raised {err['ename']}: {err['evalue']}\n"
                + ANSI.sub("", err["traceback"]))

        # Widgets: every stored widget view is rendered, none failed or hangs.
        deadline = time.monotonic() + 30
        widgets = page.evaluate(JS_WIDGET_OUTPUTS, panel_id)
        while ((widgets["pending"] or widgets["rendered"] < expected_widgets)
               and time.monotonic() < deadline):
            page.wait_for_timeout(250)
            widgets = page.evaluate(JS_WIDGET_OUTPUTS, panel_id)
        assert not widgets["failed"], f"{rel}: widgets failed to render: {widgets['failed']}"
        assert not widgets["pending"], f"{rel}: widgets still loading: {widgets['pending']}"
        assert widgets["rendered"] >= expected_widgets, (
            f"{rel}: {widgets['rendered']} widgets rendered, the stored notebook shows "
            f"{expected_widgets}")

        then(page, panel, panel_id)
        page.screenshot(path=str(shot))
        assert not lab.errors[first_error:], (
            f"{rel}: JavaScript errors in the page: {lab.errors[first_error:]}")
        ok = True
    finally:
        if not ok:
            lab.needs_reload = True
            if not shot.exists():
                try:
                    page.screenshot(path=str(shot))
                except Exception:  # noqa: BLE001 - best effort on the failure path
                    pass
        if panel_id is not None:
            try:
                page.evaluate(JS_CLOSE, panel_id)
            except Exception:  # noqa: BLE001
                lab.needs_reload = True
        jupyter.shutdown_sessions(rel)


@pytest.mark.skipif(not NOTEBOOKS, reason=f"no notebooks in {NOTEBOOK_DIR}")
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_in_jupyterlab(notebook: Path, jupyter, lab):
    rel = f"notebooks/{notebook.name}"

    def move_a_control(page, panel, panel_id):
        apps = panel.locator(".virtlab-app")
        assert apps.count() >= 1, f"{rel}: no virtlab widget app (.virtlab-app) in the page"
        moved = None
        for i in range(apps.count()):
            app = apps.nth(i)
            app.scroll_into_view_if_needed()
            moved = move_one_control(page, app)
            if moved:
                break
        assert moved, f"{rel}: no virtlab app has a control to move (slider, dropdown, ...)"
        state = wait_for_state(page, panel_id, lambda s: s["status"] == "idle", 30,
                               "the kernel to settle")
        assert not state["errors"], f"{rel}: errors after moving a widget: {state['errors']}"

    run_in_lab(rel, stored_widget_count(notebook), ARTIFACTS / f"{notebook.stem}.png",
               jupyter, lab, move_a_control)


@pytest.mark.skipif(not EXERCISES, reason="no exercise notebooks in exercises/")
@pytest.mark.parametrize("exercise", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_exercise_in_jupyterlab(exercise: Path, jupyter, lab):
    """An untouched exercise runs top to bottom in the browser, demo widgets included.

    Its widgets are those the solution notebook (stored with outputs) shows.
    """
    rel = f"exercises/{exercise.name}"
    solution = ROOT / "solutions" / exercise.name

    def unanswered(page, panel, panel_id):
        assert "not answered yet" in panel.inner_text(), f"{rel}: no check panel says so"

    run_in_lab(rel, stored_widget_count(solution) if solution.is_file() else 0,
               ARTIFACTS / f"{exercise.stem}.png", jupyter, lab, unanswered)


# -- issue 16: a self-check question answered wrongly and rightly, one prediction ------

SELF_CHECK_NOTEBOOK = "12_memory_virtualization.ipynb"


@pytest.mark.skipif(not (NOTEBOOK_DIR / SELF_CHECK_NOTEBOOK).exists(),
                    reason=f"no {SELF_CHECK_NOTEBOOK} in {NOTEBOOK_DIR}")
def test_selfcheck_and_predict_in_jupyterlab(jupyter, lab):
    """A student answers a self-check question wrongly, then rightly, and makes a prediction."""
    from virtlab import selfcheck

    rel = f"notebooks/{SELF_CHECK_NOTEBOOK}"
    q = selfcheck.question("12.shadow-write-protect")
    right = next(i for i, o in enumerate(q.options) if o.correct)
    wrong = next(i for i, o in enumerate(q.options) if not o.correct)

    def answer_and_predict(page, panel, panel_id):
        box = panel.locator(".virtlab-question", has_text=q.prompt[:40]).first
        box.scroll_into_view_if_needed()
        feedback = box.locator(".widget-html-content").last
        box.locator("input[type=radio]").nth(wrong).click()
        box.locator("button", has_text="Check").click()
        page.wait_for_function("el => el.innerText.includes('Right answer')",
                               arg=feedback.element_handle(), timeout=CHANGE_TIMEOUT_MS)
        assert q.options[wrong].why[:30] in feedback.inner_text()
        box.locator("input[type=radio]").nth(right).click()
        box.locator("button", has_text="Check").click()
        page.wait_for_function("el => el.innerText.includes('\u2714')",
                               arg=feedback.element_handle(), timeout=CHANGE_TIMEOUT_MS)
        assert "Right answer" not in feedback.inner_text()

        predict = panel.locator(".virtlab-predict").first
        predict.scroll_into_view_if_needed()
        assert predict.locator(".virtlab-app").count() == 0     # nothing revealed yet
        number = predict.locator("input[type=number]").first
        number.fill("4")
        number.press("Enter")
        predict.locator("button", has_text="Reveal").click()
        predict.locator(".virtlab-app").first.wait_for(timeout=CHANGE_TIMEOUT_MS * 2)
        text = predict.inner_text()
        assert "You predicted 4" in text and "24" in text

    run_in_lab(rel, stored_widget_count(NOTEBOOK_DIR / SELF_CHECK_NOTEBOOK),
               ARTIFACTS / "selfcheck-predict.png", jupyter, lab, answer_and_predict)
