"""Two students on the course's JupyterHub, in the real browser (``make test-hub``).

A private hub from ``deploy/hub/jupyterhub_config.py`` (free 127.0.0.1 ports,
its own state folder, see ``benchmarks/hub.py``) serves two students, each in
their own Chromium context (own cookies).  Each logs in through the hub's login
form, picks a language on the spawn form, lands in JupyterLab, opens notebook
01, runs all cells through the menu and moves a widget so that its figure or
text changes.  Then:

* each student's server runs in their own home folder holding their own copy
  of the course, and ``VIRTLAB_LANG`` is the language they chose;
* a file one student saves is in their home and absent from the other's
  file listing, and each student's attempt to open the other's server is
  refused by the hub.

The hub, its proxy, both servers and their kernels are stopped by PID in the
fixture's teardown.  This test takes one to two minutes on a busy 2-core
machine, so ``make test`` leaves it out (it skips unless ``VIRTLAB_TEST_HUB=1``)
and ``make test-hub`` runs it; ``.ci/run`` runs both.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from test_browser import (ARTIFACTS, CHROMIUM_ARGS, JS_OPEN, JS_WIDGET_OUTPUTS, LAB_SETTINGS,
                          ANSI, _unavailable, find_chromium, move_one_control, run_all_cells,
                          wait_for_state)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "notebooks/01_what_is_virtualization.ipynb"
STUDENTS = {"alice": "de", "bob": "en"}
HUB_ARTIFACTS = ARTIFACTS.parent / "hub"

if os.environ.get("VIRTLAB_TEST_HUB") != "1":
    pytest.skip("the two-student hub test runs in `make test-hub` (VIRTLAB_TEST_HUB=1)",
                allow_module_level=True)


def _prepare_home(home: Path) -> None:
    """Test-only settings in the student's home: the lab app exposed to the page
    (for opening a notebook from the test), no autosave, no news pop-up."""
    cfg = home / ".jupyter"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "jupyter_server_config.json").write_text(
        json.dumps({"LabApp": {"expose_app_in_browser": True}}))
    for rel, content in LAB_SETTINGS.items():
        target = cfg / "lab" / "user-settings" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content))


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    chromium = find_chromium()
    if chromium is None:
        _unavailable("Chromium not found (apt-get install -y chromium)")
    try:
        from benchmarks.hub import PROXY, Hub
    except ImportError as exc:
        _unavailable(f"the hub extra is not installed: {exc}")
    if not PROXY.exists():
        _unavailable(f"{PROXY} missing: run `make hub-setup`")
    HUB_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    state = tmp_path_factory.mktemp("hub-state")
    for name in STUDENTS:
        _prepare_home(state / "homes" / name)
    the_hub = Hub(state, log_path=HUB_ARTIFACTS / "jupyterhub.log")
    try:
        the_hub.start()
        yield the_hub, chromium
    finally:
        the_hub.stop()


def _login_and_spawn(page, hub, name: str, lang: str) -> None:
    """The student's path: login form, spawn form (language), JupyterLab."""
    page.goto(f"{hub.base}/hub/login", wait_until="domcontentloaded")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", "any-password")
    page.click("#login_submit")
    page.wait_for_selector("select[name=lang]", timeout=60_000)
    page.select_option("select[name=lang]", lang)
    page.locator("form input[type=submit], form button[type=submit]").first.click()
    page.wait_for_url(f"**/user/{name}/lab/**", timeout=300_000)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=120_000)
    page.evaluate("async () => { await window.jupyterapp.restored; }")


def _run_notebook_and_move_widget(page, name: str) -> str:
    panel_id = page.evaluate(JS_OPEN, NOTEBOOK)
    panel = page.locator(f"[id='{panel_id}']")
    wait_for_state(page, panel_id, lambda s: s["ready"] and s["status"] == "idle", 120,
                   f"{name}'s kernel to start")
    run_all_cells(page)
    state = wait_for_state(page, panel_id,
                           lambda s: s["errors"] or (s["pending"] == 0
                                                     and s["status"] == "idle"),
                           180, f"{name}'s cells to run")
    if state["errors"]:
        err = state["errors"][0]
        raise AssertionError(f"{name}: cell {err['cell']} raised {err['ename']}: "
                             f"{err['evalue']}\n" + ANSI.sub("", err["traceback"]))
    deadline = time.monotonic() + 30
    widgets = page.evaluate(JS_WIDGET_OUTPUTS, panel_id)
    while widgets["rendered"] < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        widgets = page.evaluate(JS_WIDGET_OUTPUTS, panel_id)
    assert not widgets["failed"], f"{name}: widgets failed: {widgets['failed']}"
    assert widgets["rendered"] >= 2, f"{name}: only {widgets['rendered']} widgets rendered"
    app = panel.locator(".virtlab-app").first
    app.scroll_into_view_if_needed()
    moved = move_one_control(page, app)
    assert moved, f"{name}: the app has no control to move"
    return moved


# Save a file through the student's own server, as JupyterLab's editor would.
JS_SAVE = """
async ([path, text]) => {
  const contents = window.jupyterapp.serviceManager.contents;
  await contents.save(path, {type: 'file', format: 'text', content: text});
  const listing = await contents.get('', {content: true});
  return listing.content.map(item => item.name).sort();
}
"""

# Fetch another student's server from this student's page (same origin, own cookies).
JS_FETCH_STATUS = """
async (url) => {
  const resp = await fetch(url, {redirect: 'manual', credentials: 'same-origin'});
  return resp.type === 'opaqueredirect' ? 302 : resp.status;
}
"""


def test_two_students_in_the_browser(hub):
    from playwright.sync_api import sync_playwright

    the_hub, chromium = hub
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            pages = {}
            for name, lang in STUDENTS.items():
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.set_default_timeout(60_000)
                pages[name] = context.new_page()
                _login_and_spawn(pages[name], the_hub, name, lang)
            try:
                for name, page in pages.items():
                    _run_notebook_and_move_widget(page, name)
                listings = {name: page.evaluate(JS_SAVE, [f"{name}-only.txt", name])
                            for name, page in pages.items()}
                refused = {}
                for name, page in pages.items():
                    other = next(n for n in STUDENTS if n != name)
                    refused[name] = page.evaluate(
                        JS_FETCH_STATUS, f"{the_hub.base}/user/{other}/api/contents")
            finally:
                for name, page in pages.items():
                    page.screenshot(path=str(HUB_ARTIFACTS / f"{name}.png"))
        finally:
            browser.close()

    for name, lang in STUDENTS.items():
        other = next(n for n in STUDENTS if n != name)
        home = the_hub.home(name)
        # their own copy of the course, and what they saved, in their own home
        assert (home / NOTEBOOK).is_file() and (home / "exercises").is_dir()
        assert (home / f"{name}-only.txt").read_text() == name
        assert not (home / f"{other}-only.txt").exists()
        assert f"{name}-only.txt" in listings[name]
        assert f"{other}-only.txt" not in listings[name], listings[name]
        assert {"notebooks", "exercises"} <= set(listings[name])
        # the hub refuses a student's request for the other student's server
        assert refused[name] in (302, 403), (name, refused[name])
        # the server runs in the student's home with the chosen language
        server = the_hub.server_pid(name)
        environ = dict(item.split("=", 1) for item in Path(f"/proc/{server}/environ")
                       .read_text().split("\0") if "=" in item)
        assert environ.get("VIRTLAB_LANG") == lang
        assert Path(os.readlink(f"/proc/{server}/cwd")) == home
