"""The one pattern every widget app follows.

A :class:`WidgetApp` owns a dict of ipywidgets *controls*, an
:class:`ipywidgets.Image` showing the figure (as SVG: cheaper to render than a
PNG and sharp at any zoom), an HTML area for tables and
text, and a message line for errors.  Any control change calls
:meth:`WidgetApp.update`, which

1. reads the control values,
2. calls :meth:`compute` (the model; may raise ``ValueError``/``TypeError``),
3. calls :meth:`draw` (a ``virtlab.viz`` function returning a Figure) and
   :meth:`describe` (HTML),
4. stores the rendered figure in the image widget.

Two things keep a redraw cheap on a slow machine (issue 21; measured by
``benchmarks/bench_browser.py``):

* sliders send their value when released (``continuous_update=False``, set
  here for every slider control): a drag is one redraw, not a queue of
  thirty that the kernel works off one by one after the hand has stopped;
* an app whose picture and text are a pure function of its control values
  sets :attr:`WidgetApp.state_cache` to keep that many rendered states
  (result, SVG, HTML): going back to a state shown before costs no model run,
  no matplotlib and no SVG serialisation.  Static layers (a second image that
  depends on a few controls) are set in :meth:`WidgetApp.layers`, which runs
  for cached states too.

A model error is shown in the message line and leaves the last good picture in
place — students see a sentence, never a traceback.  Because the figure is an
``Image`` widget (not an ``Output`` area with ``clear_output``), apps can be
driven headlessly: set ``app.controls[name].value`` and read ``app.result``,
``app.image_bytes`` or ``app.html.value``.

Examples
--------
>>> import ipywidgets as W
>>> from virtlab import viz
>>> class Square(WidgetApp):
...     title = "Squares"
...     def __init__(self):
...         super().__init__({"n": W.IntSlider(value=3, min=1, max=10,
...                                               description="n")})
...     def compute(self, n):
...         return [i * i for i in range(n)]
...     def draw(self, result):
...         fig = viz.new_figure(3, 2)
...         fig.add_subplot().plot(result)
...         return fig
>>> app = Square()
>>> app.result
[0, 1, 4]
>>> app.controls["n"].value = 4
>>> app.result
[0, 1, 4, 9]
>>> app.set(n=0)   # out of the slider's range: clamped by ipywidgets
>>> app.result
[0]
"""

from __future__ import annotations

import html as _html
from typing import Any

import ipywidgets as W
from traitlets import TraitError

import gc
import time
from collections import OrderedDict, deque

from ..i18n import _, language
from ..viz.base import plain_ticks, to_svg

__all__ = ["WidgetApp"]


def error_html(message: str) -> str:
    """HTML for a model error shown inside a widget."""
    return ("<div style='color:#a00000;font-weight:bold'>&#9888; "
            f"{_html.escape(message)}</div>")


_FROZEN = False
_SLIDERS = (W.IntSlider, W.FloatSlider, W.FloatLogSlider, W.IntRangeSlider,
            W.FloatRangeSlider, W.SelectionSlider, W.SelectionRangeSlider)


def _freeze_imports() -> None:
    # The widget stack (ipywidgets, matplotlib, networkx, the models) leaves
    # hundreds of thousands of long-lived objects; full garbage collections
    # walking them caused 50-120 ms pauses in redraws.  Moving what exists
    # when the first app is built out of the collector's sight (gc.freeze)
    # removes those pauses; it changes nothing else.
    global _FROZEN
    if not _FROZEN:
        gc.collect()
        gc.freeze()
        _FROZEN = True


class WidgetApp:
    """Base class: controls → :meth:`compute` → :meth:`draw` → image.

    Subclasses pass their controls to ``__init__`` and implement
    :meth:`compute` and :meth:`draw` (and optionally :meth:`describe`).

    Attributes
    ----------
    controls : dict of str to ipywidgets.Widget
        The inputs, by the keyword name :meth:`compute` receives.
    result : object
        The last successful model result.
    image_bytes : bytes
        The last rendered figure (SVG); ``png`` is an older alias.
    error : str or None
        The last model error message, or None.
    updates : int
        Number of successful redraws (tests and benchmarks read it).
    timings : collections.deque of float
        Wall-clock seconds of the last (up to 256) successful updates, model
        + draw + SVG: the kernel-side share of a round trip, which the
        browser benchmark (benchmarks/bench_browser.py) reads in the kernel.
    """

    title = ""
    #: Rendered states kept per app (0: off).  Only for apps whose ``compute``,
    #: ``draw`` and ``describe`` depend on nothing but the control values.
    state_cache = 0
    #: Draw the figure's ticks as plain artists (:func:`virtlab.viz.base.plain_ticks`:
    #: the same positions and labels; a matplotlib tick is five artists and a
    #: layout pass).  For apps whose figures have fixed margins and whose
    #: figure is not reused between redraws; the static notebook figures drawn
    #: by the same viz functions keep matplotlib's ticks.
    plain_ticks = False

    def __init__(self, controls: dict[str, W.Widget], *, extra: list[W.Widget] | None = None,
                 auto_update: bool = True):
        self.controls = dict(controls)
        _freeze_imports()
        self.image = W.Image(format="svg+xml", layout=W.Layout(max_width="100%"))
        self.html = W.HTML()
        self.message = W.HTML()
        self.result: Any = None
        self.image_bytes = b""
        self.error: str | None = None
        self.updates = 0
        self.timings: deque[float] = deque(maxlen=256)
        self._states: OrderedDict[tuple, tuple] = OrderedDict()
        for control in self.controls.values():
            if isinstance(control, _SLIDERS):
                control.continuous_update = False
            control.observe(self._on_change, names="value")
        header = [W.HTML(f"<h4>{_html.escape(_(self.title))}</h4>")] if self.title else []
        self.widget = W.VBox(header + [W.HBox(list(self.controls.values()),
                                              layout=W.Layout(flex_flow="row wrap"))]
                             + list(extra or []) + [self.message, self.image, self.html])
        self.widget.add_class("virtlab-app")
        if auto_update:
            self.update()

    # -- to override -------------------------------------------------------
    def compute(self, **values: Any) -> Any:
        """Run the model for the control values; return a result."""
        raise NotImplementedError

    def draw(self, result: Any):
        """Return a matplotlib Figure for ``result`` (or None for no picture)."""
        return None

    def describe(self, result: Any) -> str:
        """Return HTML shown under the figure (a table, a verdict, ...)."""
        return ""

    def layers(self, result: Any) -> None:
        """Set static layers (extra images, cached by the app) for ``result``.

        Called after every successful update, also when the state came from
        :attr:`state_cache`; :meth:`draw` returns the changing picture only.
        """

    # -- machinery ---------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """Current control values by name."""
        return {name: control.value for name, control in self.controls.items()}

    def update(self) -> bool:
        """Recompute and redraw; return False (and show why) on bad input."""
        # Free the previous redraw's figure now: a figure is thousands of
        # objects in reference cycles; left to the automatic collector they
        # pile up until one full collection frees ten at once, a 50-90 ms
        # pause inside some redraw.  Generations 0-1 hold them (~1 ms).
        gc.collect(1)
        t0 = time.perf_counter()
        key = self._state_key()
        if key in self._states:
            self._states.move_to_end(key)
            result, image, text = self._states[key]
        else:
            try:
                result = self.compute(**self.values())
                fig = self.draw(result)
                text = self.describe(result)
            except (ValueError, TypeError) as exc:
                self.error = str(exc)
                self.message.value = error_html(self.error)
                return False
            if fig is not None and self.plain_ticks:
                plain_ticks(fig)
            image = to_svg(fig) if fig is not None else None
            if key is not None:
                self._states[key] = (result, image, text)
                if len(self._states) > self.state_cache:
                    self._states.popitem(last=False)
        self.layers(result)
        self.result = result
        self.error = None
        self.message.value = ""
        if image is not None:
            self.image_bytes = image
            self.image.value = self.image_bytes
            self.image.layout.display = None
        else:
            self.image.layout.display = "none"
        self.html.value = text
        self.updates += 1
        self.timings.append(time.perf_counter() - t0)
        return True

    def _state_key(self) -> tuple | None:
        """The control values as a cache key, or None (cache off, unhashable value)."""
        if not self.state_cache:
            return None
        # the language is part of the state: a picture drawn in English must not
        # be shown after set_language("de")
        key = (language(), *self.values().items())
        try:
            hash(key)
        except TypeError:
            return None
        return key

    @property
    def png(self) -> bytes:
        """Alias of :attr:`image_bytes` (the figure is SVG since widgets switched)."""
        return self.image_bytes

    def set(self, **values: Any) -> None:
        """Set several controls at once and redraw once.

        A value a control refuses (wrong type, not an option) raises
        ``ValueError`` naming the control, and no control is changed.
        """
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; "
                             f"controls are {sorted(self.controls)}")
        before = self.values()
        for control in self.controls.values():
            control.unobserve(self._on_change, names="value")
        try:
            for name, value in values.items():
                try:
                    self.controls[name].value = value
                except TraitError as exc:
                    for other, old in before.items():
                        self.controls[other].value = old
                    raise ValueError(f"{name}: {exc}") from None
        finally:
            for control in self.controls.values():
                control.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, change: dict) -> None:
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        # A short, stable text form instead of the full widget repr (which
        # would embed the PNG bytes): what a reader of the static page sees.
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {_(self.title) if self.title else 'virtlab app'}>"
