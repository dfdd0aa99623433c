"""Sensitive instructions and Popek & Goldberg: pick an ISA, make instructions privileged.

The picture shows the privileged and the sensitive set of the chosen
catalogue; the critical instructions (sensitive, not privileged) sit in the
part of the sensitive circle outside the privileged one.  Making all of them
privileged makes the machine virtualizable by Theorem 1 — a what-if (as on
``TOY``), not what VT-x did: VT-x left them unprivileged and gave the guest
kernel its own ring 0, where they act only on guest state (see ``isa.X86_VTX``).

Examples
--------
>>> app = sensitive_lab()
>>> app.result.virtualizable, len(app.result.classification.critical)
(False, 18)
>>> app.controls["make_privileged"].value = tuple(sorted(app.result.classification.critical))
>>> app.result.virtualizable
True
>>> app.controls["isa"].value = "TOY"
>>> app.result.virtualizable
True
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as W

from ..errors import check_choice, check_sequence
from ..i18n import _, N_
from ..isa import ISAS, X86_32, get_isa
from ..popek_goldberg import Classification, classify, explain, theorems
from ..viz.cpu import classification_venn
from .base import WidgetApp

__all__ = ["APPS", "SensitiveLab", "SensitiveResult", "sensitive_lab"]

CRITICAL_X86 = tuple(sorted(X86_32.critical_mnemonics()))


@dataclass(frozen=True)
class SensitiveResult:
    """Classification and verdicts for the chosen (modified) ISA."""

    isa: str
    classification: Classification
    virtualizable: bool
    hybrid: bool
    explanation: str


class SensitiveLab(WidgetApp):
    """ISA dropdown + "make privileged" selection → Venn picture + verdict."""

    title = N_("Sensitive instructions and Popek & Goldberg's Theorem 1")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, isa: str = "X86_32", make_privileged: tuple = ()):
        check_choice("isa", isa, ISAS)
        for i, mnemonic in enumerate(check_sequence("make_privileged", make_privileged, str)):
            check_choice(f"make_privileged[{i}]", mnemonic, CRITICAL_X86)
        controls = {
            "isa": W.Dropdown(options=list(ISAS), value=isa, description="ISA"),
            "make_privileged": W.SelectMultiple(options=CRITICAL_X86,
                                                value=tuple(make_privileged),
                                                description=_("make privileged"),
                                                rows=6),
        }
        super().__init__(controls)

    def compute(self, isa, make_privileged):
        base = get_isa(isa)
        chosen = [m for m in make_privileged if m in base]
        target = base.with_privileged(*chosen) if chosen else base
        t = theorems(target)
        return SensitiveResult(target.name, classify(target), t.theorem1_virtualizable,
                               t.theorem3_hybrid, explain(target))

    def draw(self, result):
        # the last figure is already rendered: redraw into it (no new axes)
        self._figure = classification_venn(result.classification,
                                           reuse=getattr(self, "_figure", None))
        return self._figure

    def describe(self, result) -> str:
        verdict = (_("<b style='color:#009E73'>virtualizable</b> (Theorem 1)")
                   if result.virtualizable else
                   _("<b style='color:#D55E00'>not virtualizable</b> by Theorem 1"))
        hybrid = _("hybrid VMM (Theorem 3): {answer}.").format(
            answer=_("yes") if result.hybrid else _("no"))
        return (f"<p>{html.escape(result.isa)}: {verdict}; {hybrid}</p>"
                f"<pre style='font-size:11px'>{html.escape(result.explanation)}</pre>")


def sensitive_lab(**kwargs: Any) -> SensitiveLab:
    """The classification widget of notebook 06 (keyword args preset the controls)."""
    return SensitiveLab(**kwargs)


APPS = {"sensitive_lab": sensitive_lab}
