"""Apps for notebooks 00 and 01: glossary search, course map, variants.

Examples
--------
>>> app = glossary_search("Gast")
>>> "guest" in app.html.value
True
>>> app.controls["query"].value = "EPT"
>>> [t.de for t in app.result][:1]
['Erweiterte Seitentabelle (EPT) / Nested Paging']
"""

from __future__ import annotations

import html

import ipywidgets as W

from .. import glossary, variants
from ..course import TOPICS, learning_path
from ..errors import check_choice, check_int, check_str
from ..i18n import _, N_
from ..viz import course as course_viz
from ..viz import variants as variants_viz
from .base import WidgetApp

__all__ = ["CourseMap", "GlossarySearch", "StorageLab", "VlanLab"]


_ORIGIN = {"lecture": N_("slides"), "course": N_("course")}


class GlossarySearch(WidgetApp):
    """Search the German/English glossary as you type."""

    title = N_("Glossary / Glossar")

    def __init__(self, query: str = ""):
        check_str("query", query, nonempty=False)
        super().__init__({"query": W.Text(value=query, description=_("Search"),
                                          placeholder=_("e.g. Wirt, trap, Schattentabelle"),
                                          continuous_update=True)})

    def compute(self, query):
        return glossary.search(query)

    def describe(self, result):
        if not result:
            none = _("No term matches.")
            return f"<i>{none}</i>"
        # the two name columns are in their own language in every edition (lang= says so);
        # the meaning is in the current language
        rows = "".join(
            f"<tr><td lang='de'><b>{html.escape(t.de)}</b></td>"
            f"<td lang='en'>{html.escape(t.en)}</td>"
            f"<td>{html.escape(t.meaning)}</td><td>{t.notebook}</td>"
            f"<td>{_(_ORIGIN[t.origin])}</td></tr>" for t in result)
        head = "".join(f"<th>{h}</th>" for h in ("Deutsch", "English", _("Meaning"),
                                                  _("Notebook"), _("From")))
        return f"<table><tr>{head}</tr>{rows}</table>"


class CourseMap(WidgetApp):
    """Pick a topic: its notebook and everything to do before it light up."""

    title = N_("Course map")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, topic: str = "12"):
        check_choice("topic", topic, [t.id for t in TOPICS])
        options = [(f"{t.id} {_(t.title)}", t.id) for t in TOPICS]
        super().__init__({"topic": W.Dropdown(options=options, value=topic,
                                              description=_("Topic"))})

    def compute(self, topic):
        return learning_path(topic)

    def draw(self, result):
        return course_viz.course_map_scene(highlight=result[-1].id)

    def describe(self, result):
        steps = " → ".join(f"{t.id} {html.escape(_(t.title))}" for t in result)
        return "<p>" + _("Suggested path: {steps}").format(steps=steps) + "</p>"


class VlanLab(WidgetApp):
    """Network virtualization: VLANs split one switch into broadcast domains."""

    title = N_("VLANs: one switch, several virtual networks")

    def __init__(self, ports: str = "web=10, db=20, mail=10, dns=20, backup=30"):
        check_str("ports", ports, nonempty=False)
        super().__init__({"ports": W.Text(value=ports, description=_("host=VLAN"),
                                          layout=W.Layout(width="32em"),
                                          continuous_update=False)})

    def compute(self, ports):
        parsed = variants.parse_ports(ports)
        return parsed, variants.vlan_domains(parsed)

    def draw(self, result):
        return variants_viz.vlan_graph(result[0])

    def describe(self, result):
        items = "".join(f"<li>VLAN {v}: {', '.join(h)}</li>" for v, h in result[1].items())
        return f"<ul>{items}</ul>"


class StorageLab(WidgetApp):
    """Storage virtualization: one logical volume striped over several disks."""

    title = N_("A logical volume over several disks")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, disks: int = 3, stripe_blocks: int = 2, blocks: int = 12):
        for name, value, hi in (("disks", disks, 6), ("stripe_blocks", stripe_blocks, 4),
                                ("blocks", blocks, 24)):
            check_int(name, value, minimum=1, maximum=hi)
        super().__init__({
            "disks": W.IntSlider(value=disks, min=1, max=6, description=_("disks")),
            "stripe_blocks": W.IntSlider(value=stripe_blocks, min=1, max=4,
                                         description=_("stripe")),
            "blocks": W.IntSlider(value=blocks, min=1, max=24, description=_("blocks")),
        })

    def compute(self, disks, stripe_blocks, blocks):
        return variants.stripe_map(blocks, disks, stripe_blocks), disks

    def draw(self, result):
        return variants_viz.stripe_scene(*result)


def glossary_search(query: str = "") -> GlossarySearch:
    """The glossary search app (notebook 00)."""
    return GlossarySearch(query)


def course_map(topic: str = "12") -> CourseMap:
    """The course map app (notebook 00)."""
    return CourseMap(topic)


def vlan_lab(ports: str = "web=10, db=20, mail=10, dns=20, backup=30") -> VlanLab:
    """The VLAN app (notebook 01)."""
    return VlanLab(ports)


def storage_lab(disks: int = 3, stripe_blocks: int = 2, blocks: int = 12) -> StorageLab:
    """The striped-volume app (notebook 01)."""
    return StorageLab(disks, stripe_blocks, blocks)


APPS = {"glossary_search": glossary_search, "course_map": course_map,
        "vlan_lab": vlan_lab, "storage_lab": storage_lab}
