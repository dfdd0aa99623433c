"""Headless tests of the hypervisor widgets: debugger, hypervisor types, BT, hardware."""

import pytest

import virtlab.widgets as widgets
from virtlab.hypervisor.guests import GUESTS
from virtlab.widgets.debugger import TECHNIQUE_LABELS, TECHNIQUES, make_machine, step_debugger
from virtlab.widgets.hypervisor_types import hypervisor_types_lab


# -- debugger ------------------------------------------------------------------

def test_apps_are_registered_under_names_that_are_not_module_names():
    apps = widgets.apps()
    for name in ("step_debugger", "hypervisor_types_lab", "binary_translation_lab",
                 "hardware_lab"):
        assert name in apps
        # a factory named like its module would be shadowed by the submodule
        import importlib
        assert importlib.util.find_spec(f"virtlab.widgets.{name}") is None
    assert widgets.step_debugger is apps["step_debugger"]


def test_debugger_step_run_reset():
    app = step_debugger("native", "loop")
    png0 = app.png
    assert app.state.pc == 0 and app.state.steps == 0
    app.step()
    assert app.state.pc == 1 and app.state.registers["ECX"] == 5
    assert app.png != png0
    app.run()
    assert app.state.status == "halted"
    assert app.state.registers["EAX"] == 15  # 5+4+3+2+1
    app.reset()
    assert app.state.pc == 0 and app.state.registers["EAX"] == 0 and app.state.steps == 0


def test_debugger_popf_failure_under_trap_and_emulate_but_not_bt():
    # trap-and-emulate on X86_32: POPF in ring 1 drops the IF change (facts.md, issue 3)
    te = step_debugger("trap_and_emulate", "popf_restore")
    te.step(3)
    assert te.state.flags["IF"] == 0
    assert te.state.ring == 1 and te.state.guest_ring == 0
    bt = step_debugger("binary_translation", "popf_restore")
    bt.step(3)
    assert bt.state.flags["IF"] == 1  # BT replaced POPF with a callout


def test_debugger_hardware_shows_vmx_mode_and_exit():
    app = step_debugger("hardware", "port_io")
    assert app.state.vmx == "non-root" and app.state.ring == 0
    app.step(2)  # MOV, OUT -> exit
    assert "IO_INSTRUCTION" in app.state.last_exit
    app.run()
    assert "HLT" in app.state.last_exit


def test_debugger_control_change_rebuilds_and_redraws():
    app = step_debugger("native", "loop")
    app.run()
    n = app.updates
    app.controls["program"].value = "leak"
    assert app.updates == n + 1
    assert app.state.steps == 0 and app.state.listing[1] == "LGDT EAX"
    app.controls["technique"].value = "paravirt"
    assert app.state.technique == "paravirt"
    assert any("HYPERCALL" in line for line in app.state.listing)


@pytest.mark.parametrize("technique", list(TECHNIQUE_LABELS))
@pytest.mark.parametrize("program", list(GUESTS))
def test_every_technique_runs_every_program(technique, program):
    m = make_machine(technique, program)
    for _ in range(400):
        if m.step().status != "running":
            break
    assert m.last_event.status in ("halted", "fault")


def test_techniques_are_machines_of_the_hypervisor_package():
    from virtlab.hypervisor import MACHINES
    for technique, (_, mode, options) in TECHNIQUES.items():
        m = make_machine(technique, "loop")
        assert type(m) is MACHINES[mode]
        if mode == "hardware":
            assert m.hardware == options["hardware"]


def test_debugger_run_limit_and_bad_input():
    app = step_debugger("native", "loop")
    with pytest.raises((ValueError, TypeError), match="max_steps"):
        app.run(0)
    with pytest.raises(ValueError, match="technique"):
        make_machine("warp", "loop")
    with pytest.raises(ValueError, match="program"):
        make_machine("native", "nope")
    # bad assembler source as a program gives a line-numbered error
    with pytest.raises(ValueError, match="line 2"):
        make_machine("native", "NOP\nFROB EAX")


def test_debugger_buttons_click():
    app = step_debugger("native", "loop")
    app.step_button.click()
    assert app.state.steps == 1
    app.run_button.click()
    assert app.state.status == "halted"
    app.reset_button.click()
    assert app.state.steps == 0


# -- hypervisor types ------------------------------------------------------------

def test_hypervisor_types_slider_changes_type2_only():
    app = hypervisor_types_lab(stack="type2")
    before = {k: c.total for k, c in app.result.costs.items()}
    png = app.png
    app.controls["world_switch"].value = 12_000
    after = {k: c.total for k, c in app.result.costs.items()}
    assert after["type2"] - before["type2"] == 2 * 6000
    assert all(after[k] == before[k] for k in before if k != "type2")
    assert app.png != png


def test_hypervisor_types_stack_choice_and_vmi():
    app = hypervisor_types_lab()
    app.controls["stack"].value = "vmi_xen"
    assert app.result.stack.kind == "vmi_xen"
    assert "VMI" in app.html.value
    app.controls["stack"].value = "kvm"
    assert "QEMU" in app.html.value and app.error is None


def test_hypervisor_types_size_scales_copies():
    app = hypervisor_types_lab(stack="native", size_kib=4)
    t4 = app.result.costs["type2"].total
    app.controls["size_kib"].value = 8
    assert app.result.costs["type2"].total - t4 == 3 * 4 * 300


# -- binary translation lab --------------------------------------------------------

from virtlab.widgets.binary_translation import binary_translation_lab  # noqa: E402


def test_bt_lab_cache_hits_grow_misses_stay():
    app = binary_translation_lab(iterations=5)
    m5, h5 = app.result.bt.cache_misses, app.result.bt.cache_hits
    png = app.png
    app.controls["iterations"].value = 12
    m12, h12 = app.result.bt.cache_misses, app.result.bt.cache_hits
    assert m12 == m5            # the same blocks are translated once
    assert h12 - h5 == 12 - 5   # one more hit per extra loop iteration
    assert app.png != png


def test_bt_lab_block_view_marks_callouts():
    app = binary_translation_lab(block=1)
    tb = app.result.selected
    patched = [o for o, t in zip(tb.original, tb.translated) if o != t]
    assert set(p.split()[0] for p in patched) == {"PUSHF", "CLI", "POPF"}
    assert tb.callouts == 3
    app.controls["block"].value = 2
    assert "SGDT EDX" in app.result.selected.original


def test_bt_lab_equivalence_and_te_divergence():
    r = binary_translation_lab().result
    assert r.bt_equivalent
    assert "if_" in r.te_diff and "EDX" in r.te_diff  # POPF dropped IF, SGDT leaked


# -- hardware lab (BT vs VT) ---------------------------------------------------------

from virtlab.widgets.hardware import bt_vs_vt, hardware_lab, winner  # noqa: E402


def test_first_generation_vt_loses_on_page_table_work():
    # Adams & Agesen 2006 (facts.md §8): expensive exits, no nested paging
    t = bt_vs_vt(vm_exit=4000, ept=False)
    for name in ("ptemod", "pgfault", "forkwait"):
        assert winner(t[name]) == "binary_translation", name
    # system calls and exceptions need no exit at all under VT
    for name in ("syscall", "divzero"):
        assert winner(t[name]) == "hardware", name


def test_cheap_exits_plus_ept_win_most_workloads():
    # Agesen et al. 2012: hardware support beats BT "for most workloads"
    t = bt_vs_vt(vm_exit=2000, ept=True)
    wins = [n for n, r in t.items() if winner(r) == "hardware"]
    assert len(wins) > len(t) / 2
    assert {"ptemod", "pgfault", "forkwait"} <= set(wins)


def test_exit_price_is_linear_for_exit_bound_benchmark():
    a, b = bt_vs_vt(1000, True)["in"]["hardware"], bt_vs_vt(2000, True)["in"]["hardware"]
    assert b - a == pytest.approx(1000)  # exactly one exit per IN


def test_hardware_lab_widget_redraws_on_slider_and_checkbox():
    app = hardware_lab(vm_exit=4000, ept=False)
    png = app.png
    assert app.result.winners["ptemod"] == "binary_translation"
    app.controls["ept"].value = True
    assert app.result.winners["ptemod"] == "hardware"
    assert app.png != png
    before = app.result.table["in"]["hardware"]
    app.controls["vm_exit"].value = 1000
    assert app.result.table["in"]["hardware"] < before


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "2000", None])
def test_bt_vs_vt_bad_exit_price(bad):
    with pytest.raises((ValueError, TypeError), match="vm_exit"):
        bt_vs_vt(bad)


def test_hypervisor_types_diagram_follows_the_stack_choice():
    app = hypervisor_types_lab(stack="type1")
    d1 = app.diagram.value
    app.controls["world_switch"].value = 9000   # costs only: diagram unchanged
    assert app.diagram.value == d1
    app.controls["stack"].value = "paravirtual"
    assert app.diagram.value != d1 and len(app.diagram.value) > 1000
