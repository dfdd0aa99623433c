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

Three things keep a redraw cheap on a slow machine (issue 21; measured by
``benchmarks/bench_browser.py``):

* sliders send their value when released (``continuous_update=False``, set
  here for every slider control): a drag is one redraw, not a queue of
  thirty that the kernel works off one by one after the hand has stopped;
* an app whose picture and text are a pure function of its control values
  sets :attr:`WidgetApp.state_cache` to keep that many rendered states
  (result, SVG, HTML): going back to a state shown before costs no model run,
  no matplotlib and no SVG serialisation.  Static layers (a second image that
  depends on a few controls) come from :meth:`WidgetApp.layer_images`, which
  runs for cached states too;
* such an app also renders, while the kernel is idle after a move in the
  browser, the states one step of the moved control away (:attr:`WidgetApp.prefetch`:
  the next slider step either way, the neighbouring options, the other
  checkbox value), so a student nudging a control is served from the cache.
  The rendering runs in the kernel's event loop, one state per turn, and is
  dropped when the next move arrives.

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

import asyncio
import gc
import time
from collections import OrderedDict, deque

from ..i18n import _, language
from ..viz.base import drop_hidden_ticks, to_svg
from ..viz.scene import Scene

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
    prefetched : int
        States rendered ahead by :meth:`prefetch_neighbours` (tests and
        benchmarks read it).
    """

    title = ""
    #: Rendered states kept per app (0: off).  Only for apps whose ``compute``,
    #: ``draw`` and ``describe`` depend on nothing but the control values.
    state_cache = 0
    #: After a move, how many states one step of the moved control away are
    #: rendered into the state cache while the kernel is idle (needs
    #: ``state_cache``; 0: off).  Two covers a slider's next step either way.
    prefetch = 2
    #: Seconds the kernel waits after a redraw before rendering ahead, so the
    #: browser decodes and paints the picture just sent without competing for
    #: the CPU with the kernel.
    prefetch_delay = 0.05

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
        self.prefetched = 0
        self._states: OrderedDict[tuple, tuple] = OrderedDict()
        self._generation = 0      # bumped by every browser move: older prefetches stop
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
        """Return the picture of ``result``: a :class:`~virtlab.viz.scene.Scene`
        (written as SVG directly), a matplotlib Figure, or None for no picture."""
        return None

    def describe(self, result: Any) -> str:
        """Return HTML shown under the figure (a table, a verdict, ...)."""
        return ""

    def layer_images(self, result: Any) -> dict[W.Image, bytes]:
        """Static layers for ``result``: extra image widgets and their SVG.

        An app whose picture has a part that depends on a few controls only
        shows it in an image of its own, rendered once per value of those
        controls (the app keeps the renders) and returned here; :meth:`draw`
        returns the changing picture only.  Called after every successful
        update, also when the state came from :attr:`state_cache`, and when a
        state is rendered ahead (then only to fill the app's own store).
        """
        return {}

    def layers(self, result: Any) -> None:
        """Adjust controls to ``result`` after an update (e.g. a slider's range).

        Called after every successful update, after the layer images are set;
        never for states rendered ahead.
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
        try:
            result, image, text = self._rendered(self.values())
        except (ValueError, TypeError) as exc:
            self.error = str(exc)
            self.message.value = error_html(self.error)
            return False
        for widget, layer in self.layer_images(result).items():
            widget.value = layer
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

    def _rendered(self, values: dict[str, Any]) -> tuple[Any, bytes | None, str]:
        """(result, SVG or None, HTML) for ``values``: from the state cache, else rendered.

        Raises the model's ``ValueError``/``TypeError``; a rendered state is
        cached when :attr:`state_cache` is on.
        """
        key = self._state_key(values)
        if key in self._states:
            self._states.move_to_end(key)
            return self._states[key]
        result = self.compute(**values)
        fig = self.draw(result)
        text = self.describe(result)
        if isinstance(fig, Scene):          # a diagram as data: SVG written directly
            image = fig.svg()
        elif fig is not None:
            drop_hidden_ticks(fig)          # the same picture, without locating unseen ticks
            image = to_svg(fig)
        else:
            image = None
        if key is not None:
            self._states[key] = (result, image, text)
            if len(self._states) > self.state_cache:
                self._states.popitem(last=False)
        return result, image, text

    # -- rendering ahead ---------------------------------------------------
    def neighbours(self, name: str, direction: int = 1) -> list[dict[str, Any]]:
        """Control values one step of control ``name`` away from now, ``direction`` first.

        A slider's next step up and down (within its range), the next and
        previous option of a selection, the other value of a checkbox or
        toggle button; other controls (text, multiple selection) have none.

        Examples
        --------
        >>> import ipywidgets as W
        >>> class Two(WidgetApp):
        ...     def __init__(self):
        ...         super().__init__({"n": W.IntSlider(value=5, min=0, max=5),
        ...                           "kind": W.Dropdown(options=["a", "b", "c"])})
        ...     def compute(self, n, kind):
        ...         return n
        >>> [v["n"] for v in Two().neighbours("n")]     # 6 is out of range
        [4]
        >>> [v["kind"] for v in Two().neighbours("kind", direction=-1)]
        ['b']
        """
        if name not in self.controls:
            raise ValueError(f"name: unknown control {name!r}; controls are "
                             f"{sorted(self.controls)}")
        control = self.controls[name]
        steps = (1, -1) if direction >= 0 else (-1, 1)
        values: list[Any] = []
        if isinstance(control, (W.IntSlider, W.FloatSlider)):
            for sign in steps:
                v = control.value + sign * control.step
                if isinstance(control, W.FloatSlider):
                    v = round(v, 12)
                if control.min <= v <= control.max:
                    values.append(v)
        elif isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons,
                                  W.SelectionSlider)) and control.index is not None:
            options = [o[1] if isinstance(o, tuple) else o for o in control.options]
            for sign in steps:
                if 0 <= control.index + sign < len(options):
                    values.append(options[control.index + sign])
        elif isinstance(control, (W.Checkbox, W.ToggleButton)):
            values.append(not control.value)
        now = self.values()
        return [{**now, name: v} for v in values]

    def prefetch_neighbours(self, name: str, direction: int = 1) -> int:
        """Render the :meth:`neighbours` of ``name`` into the state cache now; return how many.

        At most :attr:`prefetch` states; states already cached, and states
        the model refuses, are skipped (nothing is shown).  The app's
        visible state (``result``, pictures, text, ``updates``) is not touched.
        """
        return sum(self._prefetch_one(values) for values in self._ahead(name, direction))

    def _ahead(self, name: str, direction: int) -> list[dict[str, Any]]:
        """The states to render ahead for a move of ``name`` ([] when it is off)."""
        if not (self.state_cache and self.prefetch):
            return []
        return self.neighbours(name, direction)[:self.prefetch]

    def _prefetch_one(self, values: dict[str, Any]) -> bool:
        if self._state_key(values) in self._states:
            return False
        try:
            result, _image, _text = self._rendered(values)
        except (ValueError, TypeError):
            return False
        self.layer_images(result)        # the static layers of that state, into the app's store
        self.prefetched += 1
        return True

    def _schedule_prefetch(self, name: str, direction: int) -> None:
        """Render the neighbours of ``name`` in the kernel's idle time (one per loop turn)."""
        self._generation += 1
        pending = self._ahead(name, direction)
        if not pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:        # no event loop (a script, a test): nothing runs later
            return
        generation = self._generation

        def step() -> None:
            # a newer move makes these neighbours stale; its own prefetch takes over
            if generation != self._generation or not pending:
                return
            self._prefetch_one(pending.pop(0))
            if pending:
                loop.call_soon(step)

        loop.call_later(self.prefetch_delay, step)

    def _state_key(self, values: dict[str, Any]) -> tuple | None:
        """Control values as a cache key, or None (cache off, unhashable value)."""
        if not self.state_cache:
            return None
        # the language is part of the state: a picture drawn in English must not
        # be shown after set_language("de")
        key = (language(), *values.items())
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
        if not self.update():
            return
        name = next((n for n, c in self.controls.items() if c is change["owner"]), None)
        # Render ahead only for a student's move in the browser: ipywidgets holds
        # the property lock while a state received from the front end notifies
        # (Widget.set_state; "value", or "index" for a selection); a value set by
        # code (a notebook cell, a test) is not followed by another, so nothing
        # is drawn for it.
        if name is not None and getattr(change["owner"], "_property_lock", None):
            old, new = change.get("old"), change.get("new")
            numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                          for v in (old, new))
            self._schedule_prefetch(name, -1 if numbers and new < old else 1)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        # A short, stable text form instead of the full widget repr (which
        # would embed the PNG bytes): what a reader of the static page sees.
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {_(self.title) if self.title else 'virtlab app'}>"
