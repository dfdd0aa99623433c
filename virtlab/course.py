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
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from .errors import check_str

__all__ = ["TOPICS", "Topic", "course_graph", "learning_path", "topic"]


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
