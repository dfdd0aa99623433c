#!/usr/bin/env python3
"""Build the static web edition of the course (``make site``).

Usage: ``scripts/build_site.py [OUT]`` (default ``site/``).  Everything comes
from the repository and the stored outputs; nothing is executed, and the pages
load nothing from the network.

- ``index.html``: the course in order (``virtlab.course.TOPICS``), with links
  to every notebook page, the slide map, the glossary and the errata;
- ``notebooks/NN_name.html``: the notebook with its stored outputs, rendered by
  nbconvert's HTML exporter with the ``lab`` template (our template in
  ``scripts/site_template`` only adds navigation and drops the CDN scripts);
  next to it ``NN_name.ipynb`` for "download notebook";
- widgets: a stored widget output is replaced by a static snapshot built from
  the notebook's widget state — its SVG picture, its text and tables, and its
  controls with their stored values (disabled) — so the pictures show without
  a kernel and without the ipywidgets JavaScript;
- ``slides.html`` (the slide-to-section map), ``glossary.html``, ``errata.html``.

Links between notebooks (``12_memory_virtualization.ipynb#3.-Shadow...``)
become links between pages; nbconvert gives headings the same ids as JupyterLab.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import quote

import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from virtlab import course  # noqa: E402
from virtlab.coursefiles import glossary_markdown  # noqa: E402

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


def freeze_widgets(nb) -> int:
    """Replace widget outputs by static snapshots; drop the widget state. Returns how many."""
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
                    "<div class='vl-widget'><div class='vl-note'>Widget as stored with the "
                    "notebook (a static picture: run the notebook in JupyterLab to use it)."
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


def relink(text: str) -> str:
    """Links to notebooks (``](12_x.ipynb#anchor)`` or ``href="12_x.ipynb#anchor"``)
    point to their pages, with the fragment encoded like nbconvert's heading ids;
    links to documents (:data:`DOC_PAGES`) point to theirs."""
    for doc, page in DOC_PAGES.items():
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


def relink_notebook(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = relink(cell.source)
        elif cell.cell_type == "code":
            for out in cell.outputs:
                for mime in ("text/markdown", "text/html"):
                    if mime in out.get("data", {}):
                        value = out["data"][mime]
                        out["data"][mime] = relink("".join(value) if isinstance(value, list)
                                                   else value)


# --- pages ---------------------------------------------------------------------------------

def nav_html(prefix: str, topic=None, prev=None, nxt=None) -> str:
    links = [f"<span class='vl-title'><a href='{prefix}index.html'>virtlab course</a></span>"]
    if prev is not None:
        links.append(f"<a rel='prev' href='{prefix}notebooks/{prev.notebook[:-6]}.html'>"
                     f"← {prev.id} {html.escape(prev.title)}</a>")
    if nxt is not None:
        links.append(f"<a rel='next' href='{prefix}notebooks/{nxt.notebook[:-6]}.html'>"
                     f"{nxt.id} {html.escape(nxt.title)} →</a>")
    links += [f"<a href='{prefix}slides.html'>Slides</a>",
              f"<a href='{prefix}glossary.html'>Glossary</a>",
              f"<a href='{prefix}errata.html'>Errata</a>"]
    if topic is not None:
        links.append(f"<a class='vl-download' href='{topic.notebook}' download>"
                     "Download notebook</a>")
        links.append(f"<span>Run it: <code>virtlab lab --notebook notebooks/{topic.notebook}"
                     "</code></span>")
    return "<nav class='vl-nav'>" + " · ".join(links) + "</nav>"


def plain_page(title: str, body_html: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1.0'>"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
            f"{nav_html('')}<main class='vl-page'>{body_html}</main></body></html>\n")


def index_body() -> str:
    rows = "".join(
        f"<tr><td>{t.id}</td><td><a href='notebooks/{t.notebook[:-6]}.html'>"
        f"{html.escape(t.title)}</a></td><td><em>{html.escape(t.slide)}</em></td>"
        f"<td>{t.exercise[:-6] if t.exercise else ''}</td></tr>" for t in course.TOPICS)
    return ("<h1>virtlab — operating-system virtualization, hands on</h1>"
            "<p>The notebooks of the course with their stored outputs. Widgets show the "
            "picture stored with the notebook; to use them, download the notebook or run "
            "<code>virtlab lab</code>.</p>"
            "<h2>Notebooks, in course order</h2><table><tr><th>#</th><th>notebook</th>"
            f"<th>slides (<em>Folien</em>)</th><th>exercise</th></tr>{rows}</table>"
            "<p>Also: <a href='slides.html'>which slide is taught where</a>, the "
            "<a href='glossary.html'>glossary</a>, the <a href='errata.html'>slide errata</a>.</p>")


def page_link(link: str) -> str:
    """``12_x.ipynb#anchor`` (relative to notebooks/) → the page's address from the site root."""
    return "notebooks/" + _page_target(link)


def slides_body() -> str:
    rows = []
    for row in course.slide_map_rows():
        links = "<br>".join(f'<a href="{html.escape(page_link(link))}">{html.escape(label)}</a>'
                            for label, link in row["sections"])
        rows.append(f"<tr><td>{row['number']}</td><td>{html.escape(row['title'])}</td>"
                    f"<td>{links}</td></tr>")
    return ("<h1>Slides → notebooks</h1><p>Every slide of the lecture, in slide order, with "
            "the notebook sections that teach it.</p><table><tr><th>#</th>"
            "<th>slide (<em>Folie</em>)</th><th>taught in</th></tr>" + "".join(rows)
            + "</table>")


def build(out: Path) -> list[Path]:
    """Write the site into ``out`` (replaced); return the pages written."""
    if out.exists():
        shutil.rmtree(out)
    (out / "notebooks").mkdir(parents=True)
    exporter = HTMLExporter(template_name="virtlab_site",
                            extra_template_basedirs=[str(ROOT / "scripts")])
    pages = []
    topics = list(course.TOPICS)
    for i, t in enumerate(topics):
        src = ROOT / "notebooks" / t.notebook
        shutil.copy2(src, out / "notebooks" / t.notebook)
        nb = nbformat.read(src, as_version=4)
        freeze_widgets(nb)
        relink_notebook(nb)
        nav = nav_html("../", t, topics[i - 1] if i else None,
                       topics[i + 1] if i + 1 < len(topics) else None)
        body, _ = exporter.from_notebook_node(
            nb, resources={"metadata": {"name": f"{t.id} · {t.title}"},
                           "vl_nav": nav, "vl_css": CSS})
        page = out / "notebooks" / f"{t.notebook[:-6]}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
    extra = {"index.html": ("virtlab course", index_body()),
             "slides.html": ("Slides → notebooks", slides_body()),
             "glossary.html": ("Glossary", markdown2html_mistune(glossary_markdown())),
             "errata.html": ("Slide errata", markdown2html_mistune(
                 (ROOT / "docs" / "errata.md").read_text(encoding="utf-8")))}
    for name, (title, body) in extra.items():
        (out / name).write_text(plain_page(title, body), encoding="utf-8")
        pages.append(out / name)
    return pages


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "site"
    pages = build(out)
    print(f"wrote {len(pages)} pages to {out} (open {out / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
