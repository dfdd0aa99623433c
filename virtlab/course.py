"""The course map as data: topics, their notebooks, models and prerequisites.

Slide order is the default order; :func:`course_graph` turns the
prerequisites into a networkx DAG that notebook 00 draws, and the README's
notebook list is checked against :data:`TOPICS` by the tests.

Examples
--------
>>> TOPICS[0].notebook
'00_start_here.ipynb'
>>> g = course_graph()
>>> g.has_edge("06", "07")     # sensitive instructions before binary translation
True
>>> [t.id for t in learning_path("12")]
['00', '01', '02', '06', '08', '12']

:data:`SLIDES` maps every slide of the lecture, by its German title and in
slide order, to the notebook sections that teach it:

>>> [s.title for s in find_slides("Schattentabellen")]
['Hauptspeicherverwaltung (1)']
>>> SLIDES[0].sections[0].link
'01_what_is_virtualization.ipynb'
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import networkx as nx

from .errors import check_str
from .glossary import fold

__all__ = ["SLIDES", "Section", "Slide", "TOPICS", "Topic", "course_graph", "find_slides",
           "heading_anchor", "learning_path", "slide_map_rows", "topic"]


@dataclass(frozen=True)
class Topic:
    """One step of the course.

    Attributes
    ----------
    id : str
        Two-digit number, also the notebook prefix.
    title : str
        English title.
    slide : str
        The lecture slide title(s) it covers (German).
    notebook : str
        File name in ``notebooks/``.
    models : tuple of str
        The virtlab modules behind it.
    requires : tuple of str
        Ids of the topics to do first.
    exercise : str or None
        The graded exercise (file name in ``exercises/``), if any.
    extra_exercises : tuple of str
        Further graded exercises of the topic (CPU scheduling has three).
    """

    id: str
    title: str
    slide: str
    notebook: str
    models: tuple[str, ...]
    requires: tuple[str, ...]
    exercise: str | None = None
    extra_exercises: tuple[str, ...] = ()


TOPICS: tuple[Topic, ...] = (
    Topic("00", "Start here", "Terminologie zur Betriebssystemvirtualisierung",
          "00_start_here.ipynb", ("glossary", "course"), ()),
    Topic("01", "What is virtualization?", "Was ist Virtualisierung?",
          "01_what_is_virtualization.ipynb", ("variants", "environment"), ("00",)),
    Topic("02", "Emulation vs virtualization", "Abgrenzung zur Emulation",
          "02_emulation_vs_virtualization.ipynb", ("cpu", "hypervisor"), ("01",),
          "ex14_emulation.ipynb"),
    Topic("03", "Partitioning", "Partitionierung (CTSS, VM/CMS, z/VM)",
          "03_partitioning.ipynb", ("partitioning",), ("01",), "ex08_partitioning.ipynb"),
    Topic("04", "Benefits and drawbacks", "Nutzen / Nachteile der Betriebssystemvirtualisierung",
          "04_benefits_and_drawbacks.ipynb", ("consolidation", "migration"), ("01",),
          "ex06_live_migration.ipynb"),
    Topic("05", "Containers", "Anwendungsvirtualisierung",
          "05_containers.ipynb", ("containers",), ("01",), "ex09_containers.ipynb"),
    Topic("06", "Sensitive instructions", "Das Problem mit den sensitiven Befehlen; "
          "Virtualisierung bei x86-Prozessoren", "06_sensitive_instructions.ipynb",
          ("isa", "popek_goldberg"), ("02",), "ex01_popek_goldberg.ipynb"),
    Topic("07", "Binary translation", "Binärübersetzung / Code Patching",
          "07_binary_translation.ipynb", ("hypervisor.binary_translation",), ("06",),
          "ex02_binary_translation.ipynb"),
    Topic("08", "Hardware support", "Prozessoren mit Virtualisierungsunterstützung",
          "08_hardware_support.ipynb", ("hypervisor.vtx",), ("06",), "ex10_vtx.ipynb"),
    Topic("09", "Hypervisor types", "Typ-1, Typ-2, Paravirtualisierung, Fallbeispiel KVM",
          "09_hypervisor_types.ipynb", ("hypervisor.stacks", "hypervisor.paravirt",
                                        "hypervisor.kvm"), ("07", "08"),
          "ex11_hypervisor_types.ipynb"),
    Topic("10", "Interrupts and I/O", "Interruptverarbeitung und Gerätesteuerung",
          "10_interrupts_and_io.ipynb", ("interrupts", "devices"), ("09",),
          "ex07_interrupt_routing.ipynb"),
    Topic("11", "CPU scheduling", "CPU-Scheduling (SEDF, Credit, Co-Scheduling)",
          "11_cpu_scheduling.ipynb", ("scheduler",), ("09",), "ex04_credit_scheduler.ipynb",
          ("ex12_sedf.ipynb", "ex13_coscheduling.ipynb")),
    Topic("12", "Memory virtualization", "Hauptspeicherverwaltung (Schattentabellen, EPT)",
          "12_memory_virtualization.ipynb", ("mmu",), ("08",), "ex03_page_walks.ipynb"),
    Topic("13", "Ballooning", "Ballooning", "13_ballooning.ipynb", ("balloon",), ("12",),
          "ex05_ballooning.ipynb"),
    Topic("14", "Summary", "Zusammenfassung (Sicherheit, Cloud, Management)",
          "14_summary.ipynb", ("consolidation", "balloon", "migration"),
          ("04", "05", "10", "11", "13")),
)

_BY_ID = {t.id: t for t in TOPICS}


def topic(topic_id: str) -> Topic:
    """The topic with id ``topic_id`` (e.g. ``"11"``).

    Examples
    --------
    >>> topic("11").title
    'CPU scheduling'
    >>> topic("99")
    Traceback (most recent call last):
    ...
    ValueError: topic_id must be one of '00', '01', ..., '14'; got '99'
    """
    check_str("topic_id", topic_id)
    if topic_id not in _BY_ID:
        raise ValueError(f"topic_id must be one of '{TOPICS[0].id}', '{TOPICS[1].id}', ..., "
                         f"'{TOPICS[-1].id}'; got {topic_id!r}")
    return _BY_ID[topic_id]


def course_graph() -> nx.DiGraph:
    """The prerequisite DAG: an edge ``a → b`` means "do a before b".

    Node attributes: ``title``, ``notebook``.

    Examples
    --------
    >>> nx.is_directed_acyclic_graph(course_graph())
    True
    """
    g = nx.DiGraph()
    for t in TOPICS:
        g.add_node(t.id, title=t.title, notebook=t.notebook)
    for t in TOPICS:
        for req in t.requires:
            g.add_edge(req, t.id)
    return g


def learning_path(topic_id: str) -> list[Topic]:
    """Every topic needed before ``topic_id``, then the topic, in course order.

    Examples
    --------
    >>> [t.id for t in learning_path("03")]
    ['00', '01', '03']
    """
    target = topic(topic_id)
    needed = nx.ancestors(course_graph(), target.id) | {target.id}
    return [t for t in TOPICS if t.id in needed]


# --- The slide-to-section map -------------------------------------------------------------

_INLINE_MARKUP = re.compile(r"[*_`]")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def heading_anchor(heading: str) -> str:
    """The anchor JupyterLab (and nbconvert) give a markdown heading.

    JupyterLab renders the heading and replaces each space of its text with
    ``-``; inline markup (emphasis, code, link targets) is not part of the text.

    Examples
    --------
    >>> heading_anchor("3. Shadow paging (*Schattentabellen*)")
    '3.-Shadow-paging-(Schattentabellen)'
    """
    text = _MD_LINK.sub(r"\1", check_str("heading", heading))
    return _INLINE_MARKUP.sub("", text).strip().replace(" ", "-")


@dataclass(frozen=True)
class Section:
    """A place in a notebook: the notebook of topic ``topic_id``, and a heading in it.

    Attributes
    ----------
    topic_id : str
        The topic (and notebook) id, e.g. ``"12"``.
    heading : str or None
        The markdown heading's text without the ``#`` marks, exactly as in the
        notebook; ``None`` means the notebook as a whole.
    """

    topic_id: str
    heading: str | None = None

    @property
    def notebook(self) -> str:
        """The notebook's file name in ``notebooks/``."""
        return topic(self.topic_id).notebook

    @property
    def link(self) -> str:
        """A relative link ``notebook.ipynb#anchor`` (no anchor for the whole notebook)."""
        if self.heading is None:
            return self.notebook
        # Not percent-encoded: JupyterLab matches the fragment against the
        # heading's id literally, and the anchor has no spaces left.
        return f"{self.notebook}#{heading_anchor(self.heading)}"

    @property
    def label(self) -> str:
        """Short text for tables: ``12 § 3. Shadow paging (Schattentabellen)``."""
        if self.heading is None:
            return f"{self.topic_id} · {topic(self.topic_id).title}"
        return f"{self.topic_id} § {_INLINE_MARKUP.sub('', self.heading)}"


@dataclass(frozen=True)
class Slide:
    """One slide of the lecture and the notebook sections that teach it.

    Attributes
    ----------
    title : str
        The slide's German title, umlauts restored, with the slide's own
        numbering such as ``(2)``.
    sections : tuple of Section
        Where the slide is taught, most important first.
    terms : tuple of str
        Key terms on the slide's body, so ``find_slides("Schattentabellen")``
        finds the slide that lists them.
    extracted : str or None
        The title as the lecture's text extraction spells it, where it differs
        from :attr:`title` by more than umlauts (OCR-style slips such as
        ``"liber"`` for *über*); ``None`` when folding umlauts is enough.
    """

    title: str
    sections: tuple[Section, ...]
    terms: tuple[str, ...] = ()
    extracted: str | None = None


def _s(topic_id: str, heading: str | None = None) -> Section:
    return Section(topic_id, heading)


SLIDES: tuple[Slide, ...] = (
    Slide("Was ist Virtualisierung (Wiederholung)?",
          (_s("01"), _s("01", "1. Virtual computers: server and desktop virtualization"),
           _s("01", "6. Network virtualization: VLANs")),
          ("Virtuelle Maschine", "Storage Virtualisierung", "Java Virtual Machine", "VLAN")),
    Slide("Terminologie zur Betriebssystemvirtualisierung",
          (_s("00", "Terminology (*Terminologie zur Betriebssystemvirtualisierung*)"),),
          ("Reale Maschine", "Hostbetriebssystem", "Gastbetriebssystem", "Hypervisor", "VMM")),
    Slide("Abgrenzung zur Emulation",
          (_s("02", "2. Emulation: fetch, decode, execute — every instruction"),
           _s("02", "3. Virtualization: run directly, intercept the few sensitive instructions")),
          ("Emulation",)),
    Slide("Partitionierung",
          (_s("03", "1. The firmware assigns resources"), _s("03", "4. From CTSS to z/VM")),
          ("Mainframe", "CTSS", "VM/CMS", "z/VM")),
    Slide("Nutzen der Betriebssystemvirtualisierung",
          (_s("04", "1. Consolidation"), _s("04", "3. Live migration")),
          ("Serverkonsolidierung", "Leistungsaufnahme", "Life-Migration", "Live-Migration"),
          extracted="Nutzen der Betriebssystemuvirtualisierung"),
    Slide("Nachteile der Betriebssystemvirtualisierung",
          (_s("02", "4. Is it 5-10 %?"), _s("04", "2. A host fails")),
          ("Overhead", "Ausfall", "Redundanz")),
    Slide("Abgrenzung: Anwendungsvirtualisierung (1)",
          (_s("05", "1. One kernel, many process groups"),),
          ("Container", "Laufzeitumgebung")),
    Slide("Abgrenzung: Anwendungsvirtualisierung (2)",
          (_s("05", "2. Containers vs VMs"), _s("05", "3. The lecture's examples")),
          ("Docker", "Solaris", "OpenVZ", "FreeBSD Jails", "Linux-Vserver")),
    Slide("Virtualisierungsansätze",
          (_s("09"), _s("09", "3. Paravirtualization: hypercalls instead of sensitive "
                              "instructions")),
          ("Vollvirtualisierung", "Paravirtualisierung")),
    Slide("Das Problem mit den sensitiven Befehlen (1)",
          (_s("06", "1. Privileged instructions trap"),
           _s("06", "2. Sensitive instructions, and the three classes")),
          ("privilegierte Befehle", "sensitive Befehle", "Trap", "Kernelmodus")),
    Slide("Das Problem mit den sensitiven Befehlen (2)",
          (_s("06", "3. Popek & Goldberg's theorems"),),
          ("Popek", "Goldberg", "virtualisierbar")),
    Slide("Virtualisierung bei x86-Prozessoren (1)",
          (_s("06", "4. x86's critical instructions — and the honest count"),
           _s("06", "5. The POPF problem, step by step")),
          ("kritische Befehle", "17 Befehle", "SGDT", "PUSHF", "POPF")),
    Slide("Virtualisierung bei x86-Prozessoren (2)",
          (_s("07", "3. Code patching, block by block"),
           _s("07", "4. Equivalence: BT is correct where trap-and-emulate is not")),
          ("Code Patching", "Binärübersetzung", "Binary Translation")),
    Slide("Prozessoren mit Virtualisierungsunterstützung (1)",
          (_s("08", "1. Sensitive ⊆ privileged — again"), _s("08", "2. The new instructions")),
          ("AMD-V", "Pacifica", "SVM", "VMX", "Vanderpool")),
    Slide("Prozessoren mit Virtualisierungsunterstützung (2)",
          (_s("08", "3. Ring −1: the VMX life cycle"),),
          ("Ring -1", "VMX root", "VMX non-root", "Gast-Modus")),
    Slide("Prozessoren mit Virtualisierungsunterstützung (3)",
          (_s("08", "4. The VMCS"), _s("08", "3. Ring −1: the VMX life cycle")),
          ("VMCS", "VMCALL", "Hypercall", "VM Exit", "VM Entry")),
    Slide("Das Problem mit den sensitiven Befehlen (5)",
          (_s("08", "5. Who issued the sensitive instruction?"),
           _s("08", "8. Step through a VM exit")),
          ("Ablauf", "Woher kommt der Aufruf")),
    Slide("Überblick über Konzepte und Technologien",
          (_s("09"),),
          ("Virtualisierungskonzepte",),
          extracted="Uberblick liber Konzepte und Technologien"),
    Slide("Typ-1-Hypervisor (Vollständige Virtualisierung) (1)",
          (_s("09", "1. Type 1: the hypervisor on the hardware"),),
          ("XenServer", "ESX", "Hyper-V", "Minibetriebssystem")),
    Slide("Typ-2-Hypervisor (2)",
          (_s("09", "2. Type 2: the hypervisor as a process on a host OS"),
           _s("07", "3. Code patching, block by block")),
          ("Hosted", "Binary Translation")),
    Slide("Typ-2-Hypervisor (1)",
          (_s("09", "2. Type 2: the hypervisor as a process on a host OS"),),
          ("VMware Workstation", "Overhead")),
    Slide("Paravirtualisierung (1)",
          (_s("09", "3. Paravirtualization: hypercalls instead of sensitive instructions"),),
          ("Xen", "Metabetriebssystem", "Hypervisor-API")),
    Slide("Paravirtualisierung (2)",
          (_s("09", "3. Paravirtualization: hypercalls instead of sensitive instructions"),
           _s("09", "7. Step through a paravirtualized guest")),
          ("Hypercall", "Systemcall", "Ring 1")),
    Slide("Weiterführung der Idee",
          (_s("09", "4. VMI: one guest interface, several back ends"),),
          ("VMI", "Virtual Machine Interface", "Mikrokern")),
    Slide("Fallbeispiel: KVM - Kernel Virtual Machine unter Linux",
          (_s("09", "5. Case study KVM: Linux is the hypervisor"),
           _s("09", "The QEMU run loop")),
          ("KVM", "/dev/kvm", "QEMU")),
    Slide("Interruptverarbeitung und Gerätesteuerung",
          (_s("10", "2. The hypervisor as multiplexer"),
           _s("10", "4. Xen's split driver, one request")),
          ("Interrupt", "Multiplexer", "Treiber", "IRQ")),
    Slide("CPU-Scheduling",
          (_s("11", "1. Two mappings: configuration, then scheduling"),
           _s("11", "2. The Credit scheduler"), _s("11", "3. SEDF: reservations with deadlines"),
           _s("11", "5. Co-scheduling virtual multiprocessors")),
          ("SEDF", "Credit", "Co-Scheduling", "vCPU", "pCPU")),
    Slide("Hauptspeicherverwaltung (1)",
          (_s("12", "1. The address chain (*virtuelle → reale → physikalische Adresse*)"),
           _s("12", "3. Shadow paging (*Schattentabellen*)"),
           _s("12", "4. Nested paging (EPT / NPT): the two-dimensional walk")),
          ("Schattentabellen", "Extended Page Tables", "EPT", "Nested Paging")),
    Slide("Hauptspeicherverwaltung (2)",
          (_s("13", "2. Ballooning over time"),
           _s("13", "5. The hypervisor does not need the guest's strategy")),
          ("Ballooning", "Balloon", "Seitenersetzungsstrategien")),
    Slide("Zusammenfassung / Anmerkungen Virtualisierung",
          (_s("14", "1. Security: how much must a VM trust?"), _s("14", "2. A small cloud"),
           _s("14", "3. Management: what an operator watches")),
          ("Sicherheit", "Cloud Computing", "Management")),
)


_NUMBERING = re.compile(r"\s*\(\d+\)$")


def find_slides(query: str) -> list[Slide]:
    """The slides matching ``query``, best match first.

    Case and umlauts are ignored (``"ubersicht"`` is fine), and so are the
    slides' own numbers: ``"CPU-Scheduling"`` finds the slide of that title
    first, then slides whose title or key terms contain the query, and last
    titles and terms that are only close (a typo such as ``"Schatentabellen"``),
    when nothing contains the query.

    Examples
    --------
    >>> [s.title for s in find_slides("paravirtualisierung")][:2]
    ['Paravirtualisierung (1)', 'Paravirtualisierung (2)']
    >>> [s.title for s in find_slides("Schatentabellen")]
    ['Hauptspeicherverwaltung (1)']
    >>> find_slides("Kaffee")
    []
    """
    q = " ".join(fold(check_str("query", query)).split())
    if not q:
        raise ValueError(f"query must name a slide or a term; got {query!r}")
    ranked, close = [], []
    for index, slide in enumerate(SLIDES):
        names = [fold(slide.title), fold(_NUMBERING.sub("", slide.title))]
        terms = [fold(t) for t in slide.terms]
        if q in names:
            ranked.append((0, index, slide))
        elif any(q in n for n in names):
            ranked.append((1, index, slide))
        elif any(q in t for t in terms):
            ranked.append((2, index, slide))
        else:
            words = [w for text in names + terms for w in re.split(r"[\s/:,()]+", text) if w]
            if difflib.get_close_matches(q, names + terms + words, n=1, cutoff=0.8):
                close.append(slide)
    # Close spellings only when nothing contains the query: "Paravirtualisierung"
    # must not drag in every slide that says "Virtualisierung".
    return [slide for _, _, slide in sorted(ranked, key=lambda r: r[:2])] or close


def slide_map_rows(cell_ids: dict | None = None) -> list[dict]:
    """The slide map as rows for a table, in slide order.

    Each row has ``number`` (1-based slide position), ``title`` and
    ``sections`` (a list of ``(label, link)`` pairs, links relative to
    ``notebooks/``).

    Parameters
    ----------
    cell_ids : dict, optional
        ``(topic_id, heading) -> cell id`` of the markdown cell holding each
        heading (``virtlab.coursefiles.heading_cell_ids()``). With it, links
        name the cell (``#cell-id=...``), which JupyterLab 4 scrolls to when the
        link is clicked (it does not scroll to a heading anchor in another
        notebook) and which nbconvert pages carry as ids too; without it, links
        use the heading anchor.

    Examples
    --------
    >>> row = slide_map_rows()[27]
    >>> row["title"], row["sections"][1]
    ('Hauptspeicherverwaltung (1)', ('12 § 3. Shadow paging (Schattentabellen)', \
'12_memory_virtualization.ipynb#3.-Shadow-paging-(Schattentabellen)'))
    >>> slide_map_rows({("12", "3. Shadow paging (*Schattentabellen*)"): "ab12"})[27]["sections"][1][1]
    '12_memory_virtualization.ipynb#cell-id=ab12'
    """
    if cell_ids is not None and not isinstance(cell_ids, dict):
        raise TypeError(f"cell_ids must be a dict or None; got {type(cell_ids).__name__}")

    def link(sec: Section) -> str:
        cell = (cell_ids or {}).get((sec.topic_id, sec.heading)) if sec.heading else None
        return f"{sec.notebook}#cell-id={cell}" if cell else sec.link

    return [{"number": i, "title": slide.title,
             "sections": [(sec.label, link(sec)) for sec in slide.sections]}
            for i, slide in enumerate(SLIDES, start=1)]
