#!/usr/bin/env python3
"""Build the static web edition of the course (``make site``).

Usage: ``scripts/build_site.py [OUT] [--lab-url URL]`` (default ``site/``; with
make: ``make site ARGS="--lab-url URL"``).  Everything comes from the repository
and the stored outputs; nothing is executed, and the pages load nothing from
the network.  Two editions, each with the same pages:

- English at the root, German (``notebooks/de/``) under ``de/``; every page has
  ``<html lang>`` of its edition and a language switch to its counterpart in
  the other edition;
- ``index.html``: the course in order (``virtlab.course.TOPICS``), with links
  to every notebook page, the slide map, the glossary and the errata;
- ``notebooks/NN_name.html``: the notebook with its stored outputs, rendered by
  nbconvert's HTML exporter with the ``lab`` template (our template in
  ``scripts/virtlab_site`` only adds navigation and drops the CDN scripts);
  next to it ``NN_name.ipynb`` for "download notebook", and an "open in
  JupyterLab" link to the notebook in a running lab (``--lab-url``, default
  ``make lab``'s ``http://localhost:8888/lab/tree/``; see :func:`lab_link`);
- widgets: a stored widget output is replaced by a static snapshot built from
  the notebook's widget state — its SVG picture, its text and tables, and its
  controls with their stored values (disabled) — so the pictures show without
  a kernel and without the ipywidgets JavaScript;
- ``slides.html`` (the slide-to-section map; the German one names the German
  sections), ``glossary.html`` (in the edition's language: German meanings on the
  German page), ``errata.html`` (English text; the German page says so and marks
  it ``lang='en'``).

Links between notebooks (``12_memory_virtualization.ipynb#3.-Shadow...``)
become links between pages; nbconvert gives headings the same ids as JupyterLab.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from virtlab import course  # noqa: E402
from virtlab.coursefiles import glossary_markdown, heading_cell_ids  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
NOTEBOOK_LINK = re.compile(r"(\]\(|href=\")(\d\d_[\w-]+)\.ipynb")

CSS = """
nav.vl-nav { font-family: system-ui, sans-serif; font-size: 14px; padding: 8px 16px;
  background: #f3f5f8; border-bottom: 1px solid #d0d7de; display: flex; gap: 16px;
  flex-wrap: wrap; align-items: center; }
nav.vl-nav a { color: #0b5394; text-decoration: none; }
nav.vl-nav .vl-title { font-weight: 600; }
.vl-page { max-width: 60rem; margin: 1rem auto; padding: 0 1rem;
  font-family: system-ui, sans-serif; line-height: 1.5; }
.vl-page table { border-collapse: collapse; } .vl-page td, .vl-page th {
  border: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; }
.vl-widget { border: 1px solid #d0d7de; border-radius: 4px; padding: 8px; margin: 4px 0; }
.vl-widget .vl-note { font-size: 12px; color: #57606a; margin-bottom: 6px; }
.vl-widget .vl-controls { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 4px 0;
  font-size: 13px; }
.vl-widget .vl-control output { font-family: monospace; background: #f6f8fa;
  padding: 0 4px; border-radius: 3px; }
.vl-widget img { max-width: 100%; height: auto; display: block; }
.vl-hbox { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; }
"""


# --- widget snapshots ----------------------------------------------------------------------

def _ref(value) -> str | None:
    return value[len("IPY_MODEL_"):] if isinstance(value, str) and \
        value.startswith("IPY_MODEL_") else None


def _control(label: str, value) -> str:
    label = html.escape(str(label)) if label else ""
    return (f"<span class='vl-control'>{label + ' ' if label else ''}"
            f"<output>{html.escape(str(value))}</output></span>")


def snapshot_html(state: dict, model_id: str) -> str:
    """Static HTML of the widget ``model_id`` from the notebook's widget ``state``."""
    model = state.get(model_id)
    if model is None:
        return ""
    name, s = model.get("model_name", ""), model.get("state", {})
    desc = s.get("description", "")
    if name in ("VBoxModel", "BoxModel", "HBoxModel", "GridBoxModel", "AccordionModel",
                "TabModel"):
        children = [snapshot_html(state, _ref(c)) for c in s.get("children", []) if _ref(c)]
        controls = [c for c in children if c.startswith("<span class='vl-control'")]
        others = [c for c in children if not c.startswith("<span class='vl-control'")]
        parts = []
        if controls:
            parts.append("<div class='vl-controls'>" + "".join(controls) + "</div>")
        if others:
            cls = "vl-hbox" if name == "HBoxModel" else "vl-vbox"
            parts.append(f"<div class='{cls}'>" + "".join(others) + "</div>")
        return "".join(parts)
    if name in ("HTMLModel", "HTMLMathModel", "LabelModel"):
        value = s.get("value", "")
        body = value if name != "LabelModel" else html.escape(value)
        return f"<div>{html.escape(desc) + ' ' if desc else ''}{body}</div>" if value else ""
    if name == "ImageModel":
        buffers = {tuple(b["path"]): b for b in model.get("buffers", [])}
        buf = buffers.get(("value",))
        if buf is None or buf.get("encoding") != "base64" or not buf.get("data"):
            return ""           # no picture stored (JupyterLab shows nothing either)
        fmt = s.get("format", "png")
        mime = "image/svg+xml" if fmt in ("svg", "svg+xml") else f"image/{fmt}"
        return f"<img alt='widget picture' src='data:{mime};base64,{buf['data']}'>"
    if name in ("DropdownModel", "ToggleButtonsModel", "RadioButtonsModel", "SelectModel"):
        labels, index = s.get("_options_labels", []), s.get("index")
        value = labels[index] if isinstance(index, int) and index < len(labels) else "–"
        return _control(desc, value)
    if name in ("SelectMultipleModel",):
        labels = s.get("_options_labels", [])
        chosen = [labels[i] for i in s.get("index", []) if i < len(labels)]
        return _control(desc, ", ".join(chosen) or "(none)")
    if name in ("IntRangeSliderModel", "FloatRangeSliderModel"):
        return _control(desc, "–".join(map(str, s.get("value", []))))
    if name.endswith(("SliderModel", "TextModel", "CheckboxModel", "ToggleButtonModel",
                      "TextareaModel")) or name in ("BoundedIntTextModel",
                                                   "BoundedFloatTextModel"):
        return _control(desc, s.get("value", ""))
    if name == "ButtonModel":
        return f"<span class='vl-control'><button disabled>{html.escape(desc)}</button></span>"
    if name == "OutputModel":
        parts = []
        for out in s.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data:
                parts.append("".join(data["text/html"]))
            elif "text/plain" in data or "text" in out:
                text = "".join(data.get("text/plain", out.get("text", "")))
                parts.append(f"<pre>{html.escape(text)}</pre>")
        return "".join(parts)
    return ""


WIDGET_NOTE = "Widget as stored with the notebook (a static picture: run the notebook in " \
    "JupyterLab to use it)."


def freeze_widgets(nb, note: str = WIDGET_NOTE) -> int:
    """Replace widget outputs by static snapshots; drop the widget state. Returns how many.

    ``note`` heads each snapshot (the edition's language)."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for i, out in enumerate(cell.outputs):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                continue
            body = snapshot_html(state, view["model_id"])
            cell.outputs[i] = nbformat.v4.new_output(
                "display_data", data={"text/html": (
                    f"<div class='vl-widget'><div class='vl-note'>{html.escape(note)}"
                    f"</div>{body}</div>")})
            count += 1
    nb.metadata.pop("widgets", None)
    return count


def page_fragment(anchor: str) -> str:
    """A heading's anchor as nbconvert writes its id (nbconvert.filters.strings)."""
    return quote(anchor, safe="?/:@!$&'()*+,;=")


def _page_target(target: str) -> str:
    name, _, fragment = target.partition("#")
    page = name[:-len(".ipynb")] + ".html"
    return f"{page}#{page_fragment(fragment)}" if fragment else page


#: Documents the notebooks link to (relative to notebooks/) -> their pages.
DOC_PAGES = {"../docs/errata.md": "../errata.html"}


def relink(text: str, doc_pages: dict[str, str] | None = None) -> str:
    """Links to notebooks (``](12_x.ipynb#anchor)`` or ``href="12_x.ipynb#anchor"``)
    point to their pages, with the fragment encoded like nbconvert's heading ids;
    links to documents (``doc_pages``, default :data:`DOC_PAGES`) point to theirs."""
    for doc, page in (DOC_PAGES if doc_pages is None else doc_pages).items():
        text = text.replace(f"]({doc}", f"]({page}").replace(f'href="{doc}', f'href="{page}')
    out, pos = [], 0
    for m in NOTEBOOK_LINK.finditer(text):
        if m.start() < pos:
            continue
        start = m.end(1)
        if m.group(1) == "](":              # markdown: up to the matching ")"
            depth, end = 1, start
            while end < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            end -= 1
        else:                                 # HTML attribute: up to the closing quote
            end = text.index('"', start)
        out.append(text[pos:start] + _page_target(text[start:end]))
        pos = end
    return "".join(out) + text[pos:]


def relink_notebook(nb, doc_pages: dict[str, str] | None = None) -> None:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = relink(cell.source, doc_pages)
        elif cell.cell_type == "code":
            for out in cell.outputs:
                for mime in ("text/markdown", "text/html"):
                    if mime in out.get("data", {}):
                        value = out["data"][mime]
                        out["data"][mime] = relink("".join(value) if isinstance(value, list)
                                                   else value, doc_pages)


# --- editions ------------------------------------------------------------------------------

#: ``virtlab lab`` serves the course folder (``virtlab.coursefiles.lab_root``: the
#: notebooks under ``notebooks/``, the German edition under ``notebooks/de/``) on
#: JupyterLab's default port; a student's copy and the JupyterHub image use the same
#: layout.  ``--lab-url`` changes the base (see :func:`lab_link`).
DEFAULT_LAB_URL = "http://localhost:8888/lab/tree/"


@dataclass(frozen=True)
class Edition:
    """One language of the site: where its notebooks come from and where its pages go.

    The builder's own words (navigation, headings, notes) are in :data:`WORDS`, a
    table beside the code rather than the gettext catalogue: the builder is a build
    script outside the package, it writes both languages in one run (no global
    language switch), and its ~20 strings are page chrome no one else uses.
    """

    lang: str
    folder: str            # the edition's folder in the site ("" or "de/")
    notebooks: str         # its notebooks, relative to the repository (and the lab root)
    doc_pages: dict        # documents its notebooks link to -> their pages


WORDS = {
    "en": {
        "course": "virtlab course", "slides": "Slides", "glossary": "Glossary",
        "errata": "Errata", "download": "Download notebook",
        "open": "Open in JupyterLab", "switch": "Deutsch", "switch_title": "Deutsche Fassung",
        "widget_note": WIDGET_NOTE,
        "index_h1": "virtlab — operating-system virtualization, hands on",
        "index_intro": "The notebooks of the course with their stored outputs. Widgets show "
                       "the picture stored with the notebook; to use them, open the notebook "
                       "in JupyterLab (<code>make lab</code> or <code>virtlab lab</code> "
                       "first) or download it.",
        "index_h2": "Notebooks, in course order", "col_nb": "notebook",
        "col_slides": "slides (<em>Folien</em>)", "col_ex": "exercise",
        "index_also": "Also: <a href='slides.html'>which slide is taught where</a>, the "
                      "<a href='glossary.html'>glossary</a>, the "
                      "<a href='errata.html'>slide errata</a>.",
        "slides_title": "Slides → notebooks",
        "slides_intro": "Every slide of the lecture, in slide order, with the notebook "
                        "sections that teach it.",
        "col_slide": "slide (<em>Folie</em>)", "col_where": "taught in",
        "glossary_title": "Glossary", "errata_title": "Slide errata", "only_en": "",
    },
    "de": {
        "course": "virtlab-Kurs", "slides": "Folien", "glossary": "Glossar",
        "errata": "Errata", "download": "Notebook herunterladen",
        "open": "In JupyterLab öffnen", "switch": "English", "switch_title": "English edition",
        "widget_note": "Widget, wie es mit dem Notebook gespeichert ist (ein statisches "
                       "Bild: zum Ausprobieren das Notebook in JupyterLab ausführen).",
        "index_h1": "virtlab — Betriebssystemvirtualisierung zum Anfassen",
        "index_intro": "Die Notebooks des Kurses mit ihren gespeicherten Ausgaben. Widgets "
                       "zeigen das mit dem Notebook gespeicherte Bild; zum Benutzen das "
                       "Notebook in JupyterLab öffnen (vorher <code>make lab LANG=de</code> "
                       "oder <code>virtlab lab --lang de</code>) oder herunterladen.",
        "index_h2": "Notebooks in Kursreihenfolge", "col_nb": "Notebook",
        "col_slides": "Folien", "col_ex": "Übung",
        "index_also": "Außerdem: <a href='slides.html'>welche Folie wo behandelt wird</a>, "
                      "das <a href='glossary.html'>Glossar</a>, die "
                      "<a href='errata.html'>Folien-Errata</a>.",
        "slides_title": "Folien → Notebooks",
        "slides_intro": "Jede Folie der Vorlesung in Folienreihenfolge, mit den "
                        "Notebook-Abschnitten, die sie behandeln.",
        "col_slide": "Folie", "col_where": "behandelt in",
        "glossary_title": "Glossar", "errata_title": "Folien-Errata",
        "only_en": "Diese Seite gibt es nur auf Englisch.",
    },
}

EDITIONS = (
    Edition("en", "", "notebooks", DOC_PAGES),
    Edition("de", "de/", "notebooks/de", {"../../docs/errata.md": "../errata.html"}),
)


def lab_link(lab_url: str, notebook_path: str) -> str:
    """The "open in JupyterLab" address of ``notebook_path`` (relative to the lab root).

    ``lab_url`` is a base ending in ``/lab/tree/`` (the path is appended) or a
    template with ``{path}`` (for nbgitpuller, whose ``urlpath`` is a query
    parameter; the path is then percent-encoded as a query value).

    Examples
    --------
    >>> lab_link(DEFAULT_LAB_URL, "notebooks/de/12_memory_virtualization.ipynb")
    'http://localhost:8888/lab/tree/notebooks/de/12_memory_virtualization.ipynb'
    >>> lab_link("https://hub.example.edu/hub/user-redirect/git-pull?repo=R&urlpath="
    ...          "lab%2Ftree%2Fvirtlab%2F{path}", "notebooks/01_x.ipynb")[-32:]
    'virtlab%2Fnotebooks%2F01_x.ipynb'
    """
    if "{path}" in lab_url:
        return lab_url.replace("{path}", quote(notebook_path, safe=""))
    return lab_url.rstrip("/") + "/" + quote(notebook_path)


def _up(depth: int) -> str:
    return "../" * depth


def switch_href(edition: Edition, rel: str) -> str:
    """From ``rel`` (a page's path inside ``edition``) to the other edition's counterpart."""
    depth = rel.count("/")
    if edition.folder:                       # de/... -> ...
        return _up(depth + 1) + rel
    return _up(depth) + EDITIONS[1].folder + rel


def german_title(path: Path) -> str:
    """A German notebook's title: its first heading without the ``NN ·`` prefix."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = _HEADING.search(cell.source)
            if m:
                return re.sub(r"^\d\d\s*[·—–-]\s*", "", m.group(1)).replace("*", "")
    return path.stem


_HEADING = re.compile(r"(?m)^#{1,6} +(.+?)\s*$")


def edition_titles(edition: Edition) -> dict[str, str]:
    """Topic id -> title in the edition's language."""
    if edition.lang == "en":
        return {t.id: t.title for t in course.TOPICS}
    return {t.id: german_title(ROOT / edition.notebooks / t.notebook) for t in course.TOPICS}


# --- pages ---------------------------------------------------------------------------------

def nav_html(prefix: str, edition: Edition = EDITIONS[0], rel: str = "index.html",
             topic=None, prev=None, nxt=None, titles: dict | None = None,
             lab_url: str = DEFAULT_LAB_URL) -> str:
    """The navigation bar of the page ``rel`` of ``edition`` (``prefix`` leads to its root)."""
    w, titles = WORDS[edition.lang], titles or edition_titles(edition)
    links = [f"<span class='vl-title'><a href='{prefix}index.html'>{w['course']}</a></span>"]
    if prev is not None:
        links.append(f"<a rel='prev' href='{prefix}notebooks/{prev.notebook[:-6]}.html'>"
                     f"← {prev.id} {html.escape(titles[prev.id])}</a>")
    if nxt is not None:
        links.append(f"<a rel='next' href='{prefix}notebooks/{nxt.notebook[:-6]}.html'>"
                     f"{nxt.id} {html.escape(titles[nxt.id])} →</a>")
    links += [f"<a href='{prefix}slides.html'>{w['slides']}</a>",
              f"<a href='{prefix}glossary.html'>{w['glossary']}</a>",
              f"<a href='{prefix}errata.html'>{w['errata']}</a>"]
    if topic is not None:
        path = f"{edition.notebooks}/{topic.notebook}"
        links.append(f"<a class='vl-download' href='{topic.notebook}' download>"
                     f"{w['download']}</a>")
        links.append(f"<a class='vl-open-lab' href='{html.escape(lab_link(lab_url, path))}' "
                     f"data-lab-path='{html.escape(path)}'>{w['open']}</a>")
    other = EDITIONS[1].lang if edition.lang == "en" else EDITIONS[0].lang
    links.append(f"<a class='vl-lang' hreflang='{other}' lang='{other}' "
                 f"title='{w['switch_title']}' href='{switch_href(edition, rel)}'>"
                 f"{w['switch']}</a>")
    return "<nav class='vl-nav'>" + " · ".join(links) + "</nav>"


def plain_page(edition: Edition, rel: str, title: str, body_html: str,
               lab_url: str = DEFAULT_LAB_URL) -> str:
    return (f"<!DOCTYPE html>\n<html lang='{edition.lang}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1.0'>"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
            f"{nav_html('', edition, rel, lab_url=lab_url)}"
            f"<main class='vl-page'>{body_html}</main></body></html>\n")


def index_body(edition: Edition = EDITIONS[0]) -> str:
    w, titles = WORDS[edition.lang], edition_titles(edition)
    rows = "".join(
        f"<tr><td>{t.id}</td><td><a href='notebooks/{t.notebook[:-6]}.html'>"
        f"{html.escape(titles[t.id])}</a></td><td><em>{html.escape(t.slide)}</em></td>"
        f"<td>{t.exercise[:-6] if t.exercise else ''}</td></tr>" for t in course.TOPICS)
    return (f"<h1>{w['index_h1']}</h1><p>{w['index_intro']}</p>"
            f"<h2>{w['index_h2']}</h2><table><tr><th>#</th><th>{w['col_nb']}</th>"
            f"<th>{w['col_slides']}</th><th>{w['col_ex']}</th></tr>{rows}</table>"
            f"<p>{w['index_also']}</p>")


def page_link(link: str) -> str:
    """``12_x.ipynb#anchor`` (relative to notebooks/) → the page's address from the site root."""
    return "notebooks/" + _page_target(link)


def german_headings() -> dict[tuple[str, str], str]:
    """``(topic id, cell id) -> heading`` of the German edition's markdown cells.

    The German notebooks keep the English cells' ids (scripts/german_edition.py),
    so a slide-map link that names a cell finds its German counterpart.
    """
    found = {}
    for t in course.TOPICS:
        nb = nbformat.read(ROOT / EDITIONS[1].notebooks / t.notebook, as_version=4)
        for cell in nb.cells:
            m = _HEADING.search(cell.source) if cell.cell_type == "markdown" else None
            if m and cell.get("id"):
                found[(t.id, cell.id)] = m.group(1).replace("*", "")
    return found


def slides_body(edition: Edition = EDITIONS[0]) -> str:
    w = WORDS[edition.lang]
    if edition.lang == "en":
        table = course.slide_map_rows()
    else:   # links by cell id, labels from the German cell with that id
        table, headings = course.slide_map_rows(heading_cell_ids()), german_headings()
    rows = []
    for row in table:
        sections = row["sections"]
        if edition.lang != "en":
            sections = [(_german_label(label, link, headings), link) for label, link in sections]
        links = "<br>".join(f'<a href="{html.escape(page_link(link))}">{html.escape(label)}</a>'
                            for label, link in sections)
        rows.append(f"<tr><td>{row['number']}</td><td>{html.escape(row['title'])}</td>"
                    f"<td>{links}</td></tr>")
    return (f"<h1>{w['slides_title']}</h1><p>{w['slides_intro']}</p><table><tr><th>#</th>"
            f"<th>{w['col_slide']}</th><th>{w['col_where']}</th></tr>" + "".join(rows)
            + "</table>")


def _german_label(label: str, link: str, headings: dict) -> str:
    topic_id = link[:2]
    cell = link.partition("#cell-id=")[2]
    heading = headings.get((topic_id, cell))
    if heading is None:                      # a whole notebook: its German title
        return f"{topic_id} {german_title(ROOT / EDITIONS[1].notebooks / link.partition('#')[0])}"
    return f"{topic_id} § {heading}"


def only_english(edition: Edition, title: str, body: str) -> str:
    """``body`` (English text) on a page of ``edition``: marked as English."""
    if edition.lang == "en":
        return body
    return (f"<h1>{html.escape(title)}</h1><p>{WORDS[edition.lang]['only_en']}</p>"
            f"<div lang='en'>{body}</div>")


def build_edition(edition: Edition, out: Path, exporter: HTMLExporter,
                  lab_url: str) -> list[Path]:
    """Write one edition's pages into ``out / edition.folder``; return them."""
    root = out / edition.folder
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    w, titles = WORDS[edition.lang], edition_titles(edition)
    pages = []
    topics = list(course.TOPICS)
    exporter.language_code = edition.lang
    for i, t in enumerate(topics):
        src = ROOT / edition.notebooks / t.notebook
        shutil.copy2(src, root / "notebooks" / t.notebook)
        nb = nbformat.read(src, as_version=4)
        freeze_widgets(nb, w["widget_note"])
        relink_notebook(nb, edition.doc_pages)
        rel = f"notebooks/{t.notebook[:-6]}.html"
        nav = nav_html("../", edition, rel, t, topics[i - 1] if i else None,
                       topics[i + 1] if i + 1 < len(topics) else None, titles, lab_url)
        body, _ = exporter.from_notebook_node(
            nb, resources={"metadata": {"name": f"{t.id} · {titles[t.id]}"},
                           "vl_nav": nav, "vl_css": CSS})
        page = root / rel
        page.write_text(body, encoding="utf-8")
        pages.append(page)
    glossary = markdown2html_mistune(glossary_markdown(edition.lang))   # German meanings in de/
    errata = markdown2html_mistune((ROOT / "docs" / "errata.md").read_text(encoding="utf-8"))
    extra = {"index.html": (w["course"], index_body(edition)),
             "slides.html": (w["slides_title"], slides_body(edition)),
             "glossary.html": (w["glossary_title"], glossary),
             "errata.html": (w["errata_title"],
                             only_english(edition, w["errata_title"], errata))}
    for name, (title, body) in extra.items():
        (root / name).write_text(plain_page(edition, name, title, body, lab_url),
                                 encoding="utf-8")
        pages.append(root / name)
    return pages


def build(out: Path, lab_url: str = DEFAULT_LAB_URL) -> list[Path]:
    """Write the site (both editions) into ``out`` (replaced); return the pages written."""
    if out.exists():
        shutil.rmtree(out)
    exporter = HTMLExporter(template_name="virtlab_site",
                            extra_template_basedirs=[str(ROOT / "scripts")])
    pages = []
    for edition in EDITIONS:
        pages += build_edition(edition, out, exporter, lab_url)
    return pages


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="build_site.py", description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "site"),
                        help="the site's folder (replaced; default: site/)")
    parser.add_argument("--lab-url", default=DEFAULT_LAB_URL,
                        help="where 'Open in JupyterLab' points: a base ending in /lab/tree/ "
                             "(the notebook's path is appended) or a template with {path} "
                             f"(nbgitpuller); default {DEFAULT_LAB_URL} (make lab)")
    args = parser.parse_args(argv[1:])
    if not re.match(r"https?://", args.lab_url):
        parser.error(f"--lab-url must start with http:// or https://; got {args.lab_url!r}")
    out = Path(args.out)
    pages = build(out, args.lab_url)
    print(f"wrote {len(pages)} pages to {out} (open {out / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
