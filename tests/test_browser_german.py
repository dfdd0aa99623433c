"""The German edition in a real browser: German JupyterLab, German notebooks, German widgets.

The server is started the way ``virtlab lab --lang de`` starts it: the
application settings folder :func:`virtlab.cli.lab_settings_dir` writes (the
language pack's locale ``de_DE`` as an override) and ``VIRTLAB_LANG=de`` for
the kernels.  The three German notebooks with the fewest code cells (of those
in ``notebooks/de/`` when the test runs) are run top to bottom through
JupyterLab's *German* menu (Ausführen → Alle Zellen ausführen), so the menu
must be German for the test to get anywhere; then the notebook's self-check
shows its German question text and the *Prüfen* button.  Browser, server and
page helpers come from ``tests/test_browser.py``.
"""

from __future__ import annotations

import nbformat
import pytest
from test_browser import (  # noqa: F401 - fixtures are found by name
    ARTIFACTS,
    JupyterServer,
    browser_context,
    chromium_path,
    copy_stripped,
    lab,
    run_in_lab,
    stored_widget_count,
)

import virtlab
from virtlab import cli, selfcheck
from virtlab.paths import repo_root

pytestmark = pytest.mark.browser

ROOT = repo_root()
GERMAN_DIR = ROOT / "notebooks" / "de"
HOW_MANY = 3
RUN_ALL_DE = ("Ausführen", "Alle Zellen ausführen")  # the pack's "Run", "Run All Cells"


def _code_cells(path) -> int:
    return sum(c.cell_type == "code" for c in nbformat.read(path, as_version=4).cells)


GERMAN = sorted(sorted(GERMAN_DIR.glob("*.ipynb")), key=_code_cells)[:HOW_MANY]


@pytest.fixture(scope="module")
def jupyter(chromium_path, tmp_path_factory):  # noqa: F811 - this module's server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    work = tmp_path_factory.mktemp("jupyter-de")
    served = work / "root"
    copy_stripped(GERMAN_DIR, served / "notebooks" / "de")
    server = JupyterServer(
        served, work, ARTIFACTS / "jupyter-server-de.log",
        extra_args=(f"--LabApp.app_settings_dir={cli.lab_settings_dir('de', ROOT)}",),
        env={"VIRTLAB_LANG": "de"})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _german_prompt(nb: str) -> str:
    # the self-check lists the questions that are not predictions (those stand in the text)
    previous = virtlab.set_language("de")
    try:
        return next(q.prompt for q in selfcheck.bank(nb) if not q.predict)
    finally:
        virtlab.set_language(previous)


@pytest.mark.skipif(len(GERMAN) < HOW_MANY,
                    reason=f"fewer than {HOW_MANY} German notebooks in {GERMAN_DIR}")
@pytest.mark.parametrize("notebook", GERMAN, ids=[p.stem for p in GERMAN])
def test_german_notebook_in_german_jupyterlab(notebook, jupyter, lab):  # noqa: F811
    rel = f"notebooks/de/{notebook.name}"
    nb = notebook.name[:2]

    def german_everywhere(page, panel, panel_id):
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        assert "Ausführen" in menus and "Run" not in menus, menus
        prompt = _german_prompt(nb)
        question = panel.locator(".virtlab-question", has_text=prompt[:40])
        assert question.count() >= 1, f"{rel}: no self-check question reads {prompt[:40]!r}"
        question.first.scroll_into_view_if_needed()
        assert question.first.locator("button", has_text="Prüfen").count() == 1
        assert panel.locator(".virtlab-question button", has_text="Check").count() == 0

    run_in_lab(rel, stored_widget_count(notebook), ARTIFACTS / f"de-{notebook.stem}.png",
               jupyter, lab, german_everywhere, run_all=RUN_ALL_DE)
