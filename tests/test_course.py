"""The course map: every lecture topic has a topic, a notebook and a model."""

from pathlib import Path

import networkx as nx
import pytest

from virtlab import course

LECTURE_TOPICS = ["Emulation", "Partitionierung", "Nutzen", "Anwendungsvirtualisierung",
                  "sensitiven Befehlen", "Binärübersetzung", "Virtualisierungsunterstützung",
                  "Typ-1", "Paravirtualisierung", "KVM", "Interrupt", "CPU-Scheduling",
                  "Schattentabellen", "EPT", "Ballooning", "Zusammenfassung"]


def test_ids_are_sequential_and_match_notebooks():
    ids = [t.id for t in course.TOPICS]
    assert ids == [f"{i:02d}" for i in range(len(ids))]
    for t in course.TOPICS:
        assert t.notebook.startswith(t.id + "_") and t.notebook.endswith(".ipynb")


@pytest.mark.parametrize("keyword", LECTURE_TOPICS)
def test_every_lecture_topic_is_covered(keyword):
    assert any(keyword in t.slide for t in course.TOPICS), keyword


def test_graph_is_a_dag_rooted_at_start_here():
    g = course.course_graph()
    assert nx.is_directed_acyclic_graph(g)
    assert [n for n in g if g.in_degree(n) == 0] == ["00"]
    # every topic is reachable from the start
    assert nx.descendants(g, "00") | {"00"} == {t.id for t in course.TOPICS}


def test_prerequisites_come_earlier_in_slide_order():
    order = {t.id: i for i, t in enumerate(course.TOPICS)}
    for t in course.TOPICS:
        assert all(order[r] < order[t.id] for r in t.requires), t.id


def test_learning_path_includes_all_ancestors_in_order():
    path = [t.id for t in course.learning_path("13")]
    assert path[-1] == "13" and path[0] == "00"
    assert "12" in path and "08" in path and "06" in path
    assert path == sorted(path)


def test_exercises_named_consistently():
    names = [t.exercise for t in course.TOPICS if t.exercise]
    names += [n for t in course.TOPICS for n in t.extra_exercises]
    assert len(names) == len(set(names)) >= 6
    assert all(n.startswith("ex") and n.endswith(".ipynb") for n in names)


def test_every_exercise_belongs_to_a_topic_and_exists():
    root = Path(__file__).resolve().parent.parent
    names = {t.exercise for t in course.TOPICS if t.exercise}
    names |= {n for t in course.TOPICS for n in t.extra_exercises}
    assert names == {p.name for p in (root / "exercises").glob("ex*.ipynb")}


@pytest.mark.parametrize("bad", ["99", "", "1", 11, None])
def test_unknown_topic_is_refused(bad):
    with pytest.raises((ValueError, TypeError), match="topic_id"):
        course.topic(bad)
