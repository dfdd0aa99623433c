"""The step debugger's picture as a scene (viz.hypervisor.debugger_view_scene, issue 21).

What the picture must show is read from the debugger's own state: the listing
around EIP with the current line marked and highlighted, the registers, the
ring the CPU runs in (filled) and the ring the guest believes it runs in
(hollow).
"""

from __future__ import annotations

import pytest

from virtlab.viz.hypervisor import debugger_view, debugger_view_scene
from virtlab.widgets.debugger import TECHNIQUES, step_debugger


def rings_y(scene):
    """y of each ring bar's centre, by its label's position (rings -1 .. 3, top down)."""
    bars = [item for item in scene.items if item[0] == "rect" and item[9] == "#999999"]
    return [y + h / 2 for _k, _p, _pl, _z, x, y, w, h, *_rest in bars]


@pytest.mark.parametrize("technique", sorted(TECHNIQUES))
def test_listing_registers_and_rings_come_from_the_state(technique):
    app = step_debugger(technique, "popf_restore")
    app.step(3)
    s = app.state
    scene = debugger_view_scene(s)
    mono = scene.texts(family="monospace")
    current = [line for line in mono if line.startswith(">")]
    assert current == [f">{s.pc:3d}  {s.listing[s.pc]}"]
    for name, value in s.registers.items():
        assert any(line.startswith(f"{name:<4s}{value:#010x}") for line in mono), name
    # the highlight bar sits on the current line: its top is that line's top
    (bar,) = [item for item in scene.items if item[0] == "rect" and item[8] == "#fce3c7"]
    (line,) = [item for item in scene.items if item[0] == "text" and item[6] in current]
    assert bar[5] + bar[7] == pytest.approx(line[5] - 0.01)
    # the filled dot is at the CPU's ring, the hollow ring at the guest's belief
    ys = rings_y(scene)                      # rings -1, 0, 1, 2, 3
    real = -1 if (s.vmx == "root") else s.ring
    (dot,) = [item for item in scene.items if item[0] == "dots"]
    assert dot[5] == (ys[real + 1],)
    (hollow,) = [item for item in scene.items if item[0] == "polygon"]
    assert sum(hollow[5]) / len(hollow[5]) == pytest.approx(ys[s.guest_ring + 1], abs=1e-9)


def test_the_static_figure_draws_the_same_scene():
    app = step_debugger("hardware", "port_io")
    app.step(5)
    fig = debugger_view(app.state)
    scene = debugger_view_scene(app.state)
    (ax,) = fig.axes
    assert sorted(t.get_text() for t in ax.texts) == sorted(scene.texts())
    assert fig.get_size_inches().tolist() == [9.0, 3.4]


def test_a_long_program_shows_a_window_around_eip():
    app = step_debugger("native", "loop")
    app.run()
    s = app.state
    shown = [line for line in debugger_view_scene(s, window=6).texts(family="monospace")
             if line[1:4].strip().isdigit()]
    addresses = [int(line[1:4]) for line in shown]
    assert addresses == list(range(addresses[0], addresses[0] + len(addresses)))
    assert addresses[0] <= s.pc <= addresses[-1] or s.pc >= len(s.listing)


def test_bad_window_is_refused_by_name():
    app = step_debugger("native", "loop")
    with pytest.raises(ValueError, match="window"):
        debugger_view_scene(app.state, window=0)
