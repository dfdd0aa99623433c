"""Where the texts of a picture stand: in an SVG a scene wrote, and in matplotlib's own SVG.

Used by the scene tests (tests/test_viz_scene.py, tests/test_scene_*.py) to
compare the two renderers of a :class:`virtlab.viz.scene.Scene`: matplotlib's
numbers come from its SVG backend, not from the scene's writer.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from virtlab.viz.base import to_svg

SVG = "{http://www.w3.org/2000/svg}"


def scene_baselines(svg: bytes, *, one_line: bool = False,
                    rotated: bool = False) -> dict[str, list[float]]:
    """Baseline y of every line of text in ``svg`` (a scene's), by text.

    ``one_line``: only texts of one line; ``rotated``: rotated texts too (their
    y is in the rotated frame).
    """
    out: dict[str, list[float]] = {}
    for t in ET.fromstring(svg).iter(f"{SVG}text"):
        spans = list(t.iter(f"{SVG}tspan"))
        if (t.get("transform") and not rotated) or (one_line and len(spans) != 1):
            continue
        for span in spans:
            out.setdefault(span.text or "", []).append(float(span.get("y")))
    return out


def mpl_baselines(fig) -> dict[str, list[float]]:
    """matplotlib's own baselines of every line of text of ``fig``, by text.

    Its SVG gives a one-line text a ``y`` and each line of a multi-line text a
    ``translate(x y)``.
    """
    out: dict[str, list[float]] = {}
    for m in re.finditer(r'<text [^>]*?(?:\by="([-\d.]+)"|translate\([-\d.]+ ([-\d.]+)\))'
                         r'[^>]*>([^<]*)</text>', to_svg(fig).decode()):
        text = m.group(3).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        out.setdefault(text, []).append(float(m.group(1) or m.group(2)))
    return out
