"""Headless tests of the apps of notebooks 00 and 01."""

import virtlab.widgets as w


def test_glossary_search_redraws_on_typing():
    app = w.glossary_search("")
    everything = app.html.value
    app.controls["query"].value = "Schatten"
    assert [t.de for t in app.result] == ["Schattentabelle"]
    assert app.html.value != everything and "shadow page table" in app.html.value
    app.controls["query"].value = "zzzz"
    assert app.result == [] and "No term" in app.html.value


def test_course_map_highlights_the_chosen_path():
    app = w.course_map("03")
    before = app.png
    assert [t.id for t in app.result] == ["00", "01", "03"]
    app.controls["topic"].value = "13"
    assert app.result[-1].id == "13" and app.png != before
    assert "Ballooning" in app.html.value


def test_vlan_lab_redraws_and_reports_bad_text_in_the_widget():
    app = w.vlan_lab("a=1, b=1")
    first, count = app.png, app.updates
    app.controls["ports"].value = "a=1, b=2, c=2"
    assert app.result[1] == {1: ("a",), 2: ("b", "c")} and app.png != first
    good = app.png
    app.controls["ports"].value = "nonsense"
    assert app.error and "ports" in app.error and "ports" in app.message.value
    assert app.png == good and app.updates == count + 1   # last good picture kept
    app.controls["ports"].value = "a=3"
    assert app.error is None and app.message.value == ""


def test_storage_lab_changes_with_disks():
    app = w.storage_lab(disks=2, stripe_blocks=1, blocks=4)
    assert app.result[0] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    before = app.png
    app.set(disks=4)
    assert app.result[0] == [(0, 0), (1, 0), (2, 0), (3, 0)] and app.png != before


def test_registry_lists_foundation_apps_and_text_repr_is_stable():
    assert {"glossary_search", "course_map", "vlan_lab", "storage_lab"} <= set(w.apps())
    app = w.storage_lab()
    assert repr(app) == "<StorageLab: A logical volume over several disks>"
    assert app._repr_mimebundle_()["text/plain"] == repr(app)
