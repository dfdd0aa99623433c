"""The static web edition (`make site`): built offline, every page loads in a real browser.

The site is built into a temporary folder by ``scripts/build_site.py`` and opened
from ``file://`` in headless Chromium with every non-file request blocked, so a
page that needs the network fails.  Each page must load without JavaScript
errors; every picture (figures and the widgets' stored SVGs) must decode;
every internal link must name an existing page and, with a fragment, an element
with that id; navigation follows the course order.  The German edition (``de/``)
has the same pages, in German (``<html lang='de'>``, German navigation), and every
page of either edition switches to its counterpart.  "Open in JupyterLab" points
at the notebook under the lab root that ``virtlab lab`` serves, below the base
given with ``--lab-url``.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import nbformat
import pytest

from test_browser import CHROMIUM_ARGS, chromium_path  # noqa: F401  (fixture)
import virtlab
from virtlab import course
from virtlab.glossary import TERMS
from virtlab.coursefiles import lab_root

ROOT = Path(__file__).resolve().parent.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# The site is built for a JupyterHub (the fixture's --lab-url), not the default.
HUB_LAB_URL = "https://hub.example.edu/hub/user-redirect/lab/tree/"
# Site folder -> notebooks it renders (relative to the repository and the lab root).
EDITIONS = {"": "notebooks", "de/": "notebooks/de"}
PAGES_PER_EDITION = len(course.TOPICS) + 4

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_site.py"), str(out),
                          "--lab-url", HUB_LAB_URL],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def browser(site, chromium_path):
    # chromium_path (tests/test_browser.py) skips without Chromium, and fails under CI=true.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, headless=True,
                               args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.mark.parametrize("folder", EDITIONS)
def test_site_has_a_page_per_notebook_and_the_extras(site, folder):
    for t in course.TOPICS:
        assert (site / folder / "notebooks" / f"{t.notebook[:-6]}.html").is_file()
        assert (site / folder / "notebooks" / t.notebook).read_bytes() == \
            (ROOT / EDITIONS[folder] / t.notebook).read_bytes()
    for name in ("index.html", "slides.html", "glossary.html", "errata.html"):
        assert (site / folder / name).is_file()


def test_the_german_glossary_page_has_the_german_meanings(site):
    english = (site / "glossary.html").read_text(encoding="utf-8")
    german = (site / "de" / "glossary.html").read_text(encoding="utf-8")
    term = TERMS[0]
    previous = virtlab.set_language("de")
    try:
        meaning_de = term.meaning
    finally:
        virtlab.set_language(previous)
    assert meaning_de != term.definition
    assert html.escape(meaning_de, quote=False) in german
    assert html.escape(term.definition, quote=False) not in german
    assert html.escape(term.definition, quote=False) in english
    assert "Bedeutung" in german and "meaning" in english


@pytest.mark.parametrize("folder", EDITIONS)
def test_every_stored_widget_became_a_picture(site, folder):
    for t in course.TOPICS:
        nb = nbformat.read(ROOT / EDITIONS[folder] / t.notebook, as_version=4)
        views = sum(WIDGET_VIEW in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                    for o in c.outputs)
        page = (site / folder / "notebooks" / f"{t.notebook[:-6]}.html").read_text(
            encoding="utf-8")
        assert page.count('class="vl-widget"') == views, t.notebook
        assert WIDGET_VIEW not in page


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs))


def links_of(path: Path) -> list[dict]:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.links


@pytest.mark.parametrize("folder", EDITIONS)
def test_navigation_follows_the_course_order(site, folder):
    linked = [m.group(1) for a in links_of(site / folder / "index.html")
              if (m := re.fullmatch(r"notebooks/(\d\d)_[\w-]+\.html", a.get("href", "")))]
    assert linked == [t.id for t in course.TOPICS]
    for prev, nxt in zip(course.TOPICS, course.TOPICS[1:]):
        links = links_of(site / folder / "notebooks" / f"{prev.notebook[:-6]}.html")
        assert {a["href"] for a in links if a.get("rel") == "next"} == \
            {f"../notebooks/{nxt.notebook[:-6]}.html"}
        assert any(a.get("href") == prev.notebook and "download" in a for a in links)


def _ids(path: Path, cache: dict) -> set[str]:
    if path not in cache:
        text = path.read_text(encoding="utf-8")
        found = re.findall(r"""\bid=(?:"([^"]*)"|'([^']*)')""", text)
        cache[path] = {html.unescape(a or b) for a, b in found}
    return cache[path]


def test_every_page_loads_without_errors_with_pictures_and_working_links(site, browser):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == len(EDITIONS) * PAGES_PER_EDITION
    assert len(list((site / "de").rglob("*.html"))) == PAGES_PER_EDITION
    context = browser.new_context()
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    ids: dict = {}
    pictures = 0
    for p in pages:
        errors.clear()
        page.goto(p.as_uri(), wait_until="load")
        images = page.evaluate("""() => Array.from(document.images).map(i => (
            {ok: i.complete && i.naturalWidth > 0, src: i.src.slice(0, 60)}))""")
        broken = [i["src"] for i in images if not i["ok"]]
        assert not broken, f"{p.name}: pictures that do not show: {broken[:3]}"
        pictures += len(images)
        assert not errors, f"{p.name}: {errors[:3]}"
        for href in page.evaluate("() => Array.from(document.links).map(a => a.href)"):
            url = urlparse(href)
            if url.scheme != "file":
                continue            # external references (none expected) are not followed
            target, fragment = urldefrag(href)
            path = Path(unquote(urlparse(target).path))
            assert path.is_file(), f"{p.name}: broken link {href}"
            if fragment and path.suffix == ".html":
                # Browsers match the raw fragment first, then the decoded one (nbconvert
                # percent-encodes non-ASCII heading ids, JupyterLab does not).
                assert {fragment, unquote(fragment)} & _ids(path, ids), \
                    f"{p.name}: no #{fragment} in {path.name}"
    assert not blocked, f"pages tried to load from the network: {blocked[:3]}"
    assert pictures > 3 * len(course.TOPICS)
    context.close()


def test_slide_map_table_links_resolve_on_the_site(site):
    # Notebook 00 shows viz.course.slide_map_table() (cells inserted by the lead's script);
    # its links must survive the conversion to pages.
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_site
    from virtlab import viz

    from virtlab.coursefiles import heading_cell_ids

    ids: dict = {}
    for cell_ids in (None, heading_cell_ids()):   # heading anchors, and cell-id anchors
        text = build_site.relink(viz.course.slide_map_table(cell_ids).markdown)
        targets = re.findall(r"\]\((\d\d_[\w-]+\.html)(?:#(.*?))?\)(?=<br>| \|)", text)
        assert len(targets) == sum(len(s.sections) for s in course.SLIDES)
        for page, fragment in targets:
            path = site / "notebooks" / page
            assert path.is_file(), page
            if fragment:
                assert fragment in _ids(path, ids), (page, fragment)


def _edition_pages(site: Path, folder: str) -> list[Path]:
    root = site / folder
    return sorted(p for p in root.rglob("*.html")
                  if folder or not p.relative_to(site).as_posix().startswith("de/"))


# Navigation words the builder writes in each language (German pages must not show the
# English ones).
NAV_WORDS = {"": ("Slides", "Glossary", "Download notebook", "Open in JupyterLab"),
             "de/": ("Folien", "Glossar", "Notebook herunterladen", "In JupyterLab öffnen")}


@pytest.mark.parametrize("folder", EDITIONS)
def test_every_page_has_its_language_and_switches_to_its_counterpart(site, folder):
    lang, other = ("de", "") if folder else ("en", "de/")
    pages = _edition_pages(site, folder)
    assert len(pages) == PAGES_PER_EDITION
    for p in pages:
        text = p.read_text(encoding="utf-8")
        assert re.search(rf"<html lang=[\"']{lang}[\"']>", text), f"{p}: not lang={lang}"
        switches = [a for a in links_of(p) if "vl-lang" in (a.get("class") or "")]
        assert switches, f"{p}: no language switch"
        rel = p.relative_to(site / folder).as_posix()
        for a in switches:
            target = (p.parent / a["href"]).resolve()
            assert target == (site / other / rel).resolve(), f"{p}: switch to {a['href']}"
        nav = re.search(r"<nav class=[\"']vl-nav[\"']>(.*?)</nav>", text, re.S).group(1)
        words = NAV_WORDS[folder][:2] + (NAV_WORDS[folder][2:] if "notebooks/" in rel else ())
        for word in words:
            assert word in nav, f"{p}: navigation lacks {word!r}"
        for word in NAV_WORDS[other][:1] + NAV_WORDS[other][2:]:
            assert word not in nav, f"{p}: navigation shows {word!r}"


@pytest.mark.parametrize("folder", EDITIONS)
def test_open_in_jupyterlab_names_an_existing_notebook_under_the_lab_root(site, folder):
    served = lab_root(ROOT)          # what `virtlab lab` (make lab) serves
    for t in course.TOPICS:
        page = site / folder / "notebooks" / f"{t.notebook[:-6]}.html"
        opens = [a for a in links_of(page) if "vl-open-lab" in (a.get("class") or "")]
        assert opens, f"{page}: no 'open in JupyterLab' link"
        for a in opens:
            href = html.unescape(a["href"])
            assert href.startswith(HUB_LAB_URL), href        # the --lab-url base
            path = unquote(href[len(HUB_LAB_URL):])
            assert path == f"{EDITIONS[folder]}/{t.notebook}"
            assert (served / path).is_file(), f"{path} is not under the lab root {served}"


def test_lab_link_default_matches_virtlab_lab_and_takes_a_template():
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_site

    # `virtlab lab` runs jupyter lab on its default port with the course folder as root.
    assert build_site.DEFAULT_LAB_URL == "http://localhost:8888/lab/tree/"
    nav = build_site.nav_html("../", build_site.EDITIONS[0], "notebooks/x.html",
                              course.TOPICS[1])
    assert ("href='http://localhost:8888/lab/tree/notebooks/"
            f"{course.TOPICS[1].notebook}'") in nav
    puller = ("https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgit."
              "example.edu%2Fvirtlab&branch=main&urlpath=lab%2Ftree%2Fvirtlab%2F{path}")
    link = build_site.lab_link(puller, "notebooks/de/05_containers.ipynb")
    assert link.endswith("urlpath=lab%2Ftree%2Fvirtlab%2Fnotebooks%2Fde%2F05_containers.ipynb")
    assert unquote(link.split("urlpath=")[1]) == \
        "lab/tree/virtlab/notebooks/de/05_containers.ipynb"


def test_build_refuses_a_lab_url_that_is_not_http(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_site.py"),
                          str(tmp_path / "s"), "--lab-url", "localhost:8888"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--lab-url" in run.stderr
    assert not (tmp_path / "s").exists()
