"""Widget: binary translation (*Binärübersetzung*, *Code Patching*) block by block.

A guest kernel loop with critical instructions (PUSHF/POPF, SGDT) and a
privileged one (CLI) runs under binary translation.  The picture shows one
translated basic block: the original guest instructions next to what the VMM
runs instead (callouts replace the privileged and critical ones).  The table
below counts the translation cache: every block is translated once (a
*miss*); every later entry is a *hit* — more loop iterations, more hits, the
same number of translations.  The same program under trap-and-emulate on
``X86_32`` shows why BT is needed: the final guest state differs from native
exactly at the critical instructions.

Examples
--------
>>> app = binary_translation_lab(iterations=5)
>>> r = app.result
>>> r.bt.cache_misses, r.bt.cache_hits
(3, 3)
>>> r.bt_equivalent, r.te_diff
(True, ['EDX', 'if_'])
>>> app.controls["iterations"].value = 20
>>> app.result.bt.cache_misses, app.result.bt.cache_hits
(3, 18)
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as W

from ..asm import assemble
from ..errors import check_int
from ..hypervisor.binary_translation import BinaryTranslationMachine, translate
from ..hypervisor.native import NativeMachine
from ..hypervisor.trap_and_emulate import TrapAndEmulateMachine
from ..i18n import N_, _
from ..viz.hypervisor import text_panels_scene
from .base import WidgetApp

__all__ = ["APPS", "BTLabResult", "BinaryTranslationApp", "bt_program",
           "binary_translation_lab"]


def bt_program(iterations: int = 5) -> str:
    """Guest kernel source for the lab: a loop with PUSHF/CLI/POPF, then SGDT.

    Examples
    --------
    >>> "MOV ECX, 3" in bt_program(3)
    True
    """
    n = check_int("iterations", iterations, minimum=1, maximum=10_000)
    return f"""\
        MOV EAX, 0x200
        PUSH EAX
        POPF                ; critical: enable interrupts (IF=1) without a trap
        MOV ECX, {n}
loop:   PUSHF               ; critical: save flags (shows IF)
        CLI                 ; privileged: disable interrupts
        ADD EAX, ECX        ; innocuous work in the critical section
        POPF                ; critical: restore IF
        DEC ECX
        JNZ loop
        PUSHF
        POP EBX             ; EBX = final flags: is IF still set?
        SGDT EDX            ; critical: reads GDTR (the host's in ring 1!)
        HLT
"""


@dataclass(frozen=True)
class BTLabResult:
    """What the lab computed.

    Attributes
    ----------
    blocks : tuple of TranslatedBlock
        Every translated kernel block, by start address.
    selected : TranslatedBlock
    bt, te, native : RunResult
        The runs under binary translation, trap-and-emulate and natively.
    bt_equivalent : bool
        BT's final guest state equals the native one.
    te_diff : list of str
        Fields where trap-and-emulate differs from native.

    Examples
    --------
    >>> BTLabResult.__dataclass_fields__.keys() >= {"bt", "te", "native"}
    True
    """

    blocks: tuple
    selected: Any
    bt: Any
    te: Any
    native: Any
    bt_equivalent: bool
    te_diff: list


class BinaryTranslationApp(WidgetApp):
    """Original vs translated block, translation cache, equivalence (notebook 07).

    Examples
    --------
    >>> BinaryTranslationApp.title
    'Binary translation: code patching and the translation cache'
    """

    title = N_("Binary translation: code patching and the translation cache")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, iterations: int = 5, block: int = 1):
        check_int("iterations", iterations, minimum=1, maximum=50)
        check_int("block", block, minimum=0, maximum=2)
        controls = {
            "iterations": W.IntSlider(value=iterations, min=1, max=50,
                                      description=_("iterations")),
            "block": W.IntSlider(value=block, min=0, max=2, description=_("block #")),
        }
        super().__init__(controls)

    def compute(self, iterations: int, block: int) -> BTLabResult:
        prog = assemble(bt_program(iterations))
        m = BinaryTranslationMachine(prog)
        bt = m.run()
        starts = sorted(getattr(m, "_kbc").cache) if hasattr(m, "_kbc") else [prog.entry]
        blocks = tuple(translate(prog, s) for s in starts)
        native = NativeMachine(prog).run()
        te = TrapAndEmulateMachine(prog).run()
        k = min(max(block, 0), len(blocks) - 1)
        return BTLabResult(blocks, blocks[k], bt, te, native,
                           not bt.state.diff(native.state), te.state.diff(native.state))

    def draw(self, result: BTLabResult):
        tb = result.selected
        marks = [t != o for o, t in zip(tb.original, tb.translated)]
        addr = [f"{tb.start + i:3d}  " for i in range(len(tb.original))]
        original = _("guest kernel block {first}-{last} (original)").format(
            first=tb.start, last=tb.end - 1)
        title = _("{callouts} callout(s) in this block; translation cache: {misses} misses "
                  "(blocks translated), {hits} hits").format(
                      callouts=tb.callouts, misses=result.bt.cache_misses,
                      hits=result.bt.cache_hits)
        # a Scene: written as SVG directly, no matplotlib in the redraw (issue 21)
        return text_panels_scene(
            [(original, [a + o for a, o in zip(addr, tb.original)]),
             (_("translated (what the VMM runs)"),
              [a + t.split(";")[0].rstrip() for a, t in zip(addr, tb.translated)])],
            marks=[marks, marks], width=8.0, title=title)

    def describe(self, result: BTLabResult) -> str:
        rows = []
        yes, no = _("yes"), _("no")
        for name, r in ((_("native"), result.native), (_("binary translation"), result.bt),
                        (_("trap-and-emulate (X86_32)"), result.te)):
            c = r.counters
            rows.append(
                f"<tr><td>{name}</td><td>{r.instructions}</td>"
                f"<td>{c.get('callouts', 0)}</td>"
                f"<td>{c.get('vmm_traps', 0) + c.get('guest_traps', 0)}</td>"
                f"<td>{r.cache_misses}/{r.cache_hits}</td>"
                f"<td>{r.state.registers()['EBX']:#x}</td>"
                f"<td>{yes if r.state.if_ else no}</td>"
                f"<td>{r.state.registers()['EDX']:#x}</td></tr>")
        verdict = (_("BT ends in exactly the native guest state.") if result.bt_equivalent
                   else _("BT differs from native: {diff}").format(
                       diff=", ".join(result.te_diff)))
        te = _("Trap-and-emulate differs from native in: <b>{diff}</b> — the critical "
               "POPF/PUSHF/SGDT run in ring 1 without trapping.").format(
                   diff=", ".join(result.te_diff) or _("nothing"))
        src = html.escape(result.selected.python)
        head = "".join(f"<th>{h}</th>" for h in (
            _("run"), _("instructions"), _("callouts"), _("traps"), _("cache miss/hit"),
            _("EBX (flags)"), "IF", "EDX (SGDT)"))
        summary = _("generated host code (Python) of this block")
        return (f"<table><tr>{head}</tr>{''.join(rows)}</table>"
                f"<p>{verdict} {te}</p>"
                f"<details><summary>{summary}</summary>"
                f"<pre style='font-size:10px'>{src}</pre></details>")


def binary_translation_lab(iterations: int = 5, block: int = 1) -> BinaryTranslationApp:
    """Build the binary-translation lab (notebook 07).

    Parameters
    ----------
    iterations : int
        Loop iterations of the guest kernel (1–50).
    block : int
        Which translated block to show (0 = the first one translated).

    Examples
    --------
    >>> binary_translation_lab(block=0).result.selected.start
    0
    """
    check_int("iterations", iterations, minimum=1, maximum=50)
    check_int("block", block, minimum=0, maximum=2)
    return BinaryTranslationApp(iterations=iterations, block=block)


APPS: dict[str, Any] = {"binary_translation_lab": binary_translation_lab}
