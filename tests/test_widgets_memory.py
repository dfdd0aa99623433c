"""Headless tests of the memory-virtualization widget apps (notebook 12)."""

import virtlab.widgets as w


def test_memory_costs_winner_flips_at_crossover():
    app = w.memory_costs(pt_updates=10)
    assert app.error is None and app.png
    assert app.result["winner"] == "shadow"
    x = app.result["crossover"]
    png = app.png
    app.controls["pt_updates"].value = int(x / 1000) + 5
    assert app.result["winner"] == "nested"
    assert app.png != png
    assert "crossover" in app.html.value
    app.controls["sweep_knob"].value = "TLB misses"
    assert app.result["knob"] == "tlb_misses_per_s"


def test_memory_costs_no_crossover_message():
    app = w.memory_costs(tlb_misses=0)
    assert app.result["winner"] == "nested"
    assert app.result["crossover"] is None
    assert "no crossover" in app.html.value


def test_tlb_lab_tagging_and_size():
    app = w.tlb_lab(entries=16, pages=64, switch_every=100, tagged=False)
    small = app.result["current"].hit_rate
    app.controls["entries"].value = 128
    big = app.result["current"].hit_rate
    assert big > small
    app.controls["tagged"].value = True
    assert app.result["current"].hit_rate > big    # no flushes: entries survive the switch
    assert "hit rate" in app.html.value


def test_page_walk_steps_and_counts():
    app = w.page_walk(technique="nested", guest_levels=4, host_levels=4, step=3)
    assert len(app.result["steps"]) == 24 and app.result["upto"] == 3
    png = app.png
    app.controls["step"].value = 24
    assert app.png != png
    app.controls["technique"].value = "shadow"
    assert len(app.result["steps"]) == 4 and app.result["upto"] == 4
    app.set(technique="nested", guest_levels=5, host_levels=5, step=35)
    assert len(app.result["steps"]) == 35
    assert "5·5 + 5 + 5 = 35" in app.html.value


def test_bad_input_shows_message_not_exception():
    import ipywidgets as W
    app = w.page_walk(step=5)
    png, result = app.png, app.result
    # sliders clamp; a free-form control lets hostile values through to the model
    app.controls["step"] = W.IntText(value=-1)
    assert app.update() is False
    assert "step" in app.error and "step" in app.message.value
    assert app.png == png and app.result is result      # last good picture stays
    app.controls["step"].value = 7
    assert app.update() is True and app.error is None and app.result["upto"] == 7

    costs = w.memory_costs()
    costs.controls["pt_updates"] = W.FloatText(value=float("nan"))
    assert costs.update() is False and "pt_updates_per_s" in costs.error


def test_shadow_vs_nested_app_update_rate():
    app = w.shadow_vs_nested(update_every=0, switch_every=0)
    assert app.result.translations_agree
    quiet = app.result.stats["shadow"].pt_write_traps
    app.controls["update_every"].value = 10
    assert app.result.stats["shadow"].pt_write_traps > quiet
    assert app.result.stats["nested"].traps == 0
    assert "identical" in app.html.value


def test_page_walk_slider_ends_at_the_walks_last_reference():
    # 4 x 4 nested: n*m + n + m = 24 references; native 4: positions beyond do nothing,
    # so the track must end there (a lecturer's click on its far end must move the picture)
    app = w.page_walk(technique="nested", guest_levels=4, host_levels=4, step=3)
    step = app.controls["step"]
    assert step.max == 24
    app.controls["technique"].value = "native"
    assert step.max == 4 and step.value == 3
    app.controls["step"].value = 4
    app.controls["technique"].value = "nested"
    assert step.max == 24 and app.result["upto"] == 4
    app.set(technique="nested", guest_levels=5, host_levels=5, step=35)
    assert step.max == 35 and step.value == 35 and app.result["upto"] == 35
    app.controls["guest_levels"].value = 2         # 2*5 + 2 + 5 = 17: the value is clamped
    assert step.max == 17 and step.value == 17 and app.result["upto"] == 17
