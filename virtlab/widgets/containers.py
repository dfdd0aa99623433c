"""App for notebook 05: containers vs VMs side by side.

Examples
--------
>>> app = container_lab()
>>> app.result[0].container.density > app.result[0].vm.density
True
>>> app.controls["incident"].value = "kernel bug"
>>> app.result[1].scope, app.result[2].scope
('host', 'instance')
"""

from __future__ import annotations

import html

import ipywidgets as W

from .. import containers as ct
from ..errors import check_bool, check_choice, check_int
from ..i18n import N_, _, language
from ..viz import containers as viz_ct
from .base import WidgetApp

__all__ = ["ContainerLab", "container_lab"]


#: labels of the model's incidents (the values stay the model's)
_INCIDENTS = {"app crash": N_("app crash"), "memory hog": N_("memory hog"),
              "fork bomb": N_("fork bomb"), "kernel bug": N_("kernel bug"),
              "hypervisor bug": N_("hypervisor bug")}
#: labels of the model's deployment kinds (English: the kinds themselves, as always shown)
_KINDS = {"container": N_("container"), "vm": N_("vm")}


class ContainerLab(WidgetApp):
    """Instances, app size, host memory, an incident → footprint, start-up, density, reach."""

    title = N_("Containers vs virtual machines")
    state_cache = 64   # output depends on the controls only (WidgetApp.state_cache)

    def __init__(self, instances: int = 10, app_mb: int = 200, host_memory_gb: int = 64,
                 incident: str = "fork bomb", limits: bool = True):
        check_int("instances", instances, 1, 200)
        check_int("app_mb", app_mb, 10, 4096)
        check_int("host_memory_gb", host_memory_gb, 4, 1024)
        check_choice("incident", incident, ct.INCIDENTS)
        check_bool("limits", limits)
        # The stack picture changes only with the number of boxes shown (1-4): a second
        # image, rendered once per count and cached; a redraw renders the bar chart only.
        self.diagram = W.Image(format="svg+xml", layout=W.Layout(max_width="60%"))
        self._diagram_svg: dict[tuple[str, int], bytes] = {}
        controls = {
            "instances": W.IntSlider(value=instances, min=1, max=200, description=_("instances")),
            "app_mb": W.IntSlider(value=app_mb, min=10, max=4096, step=10,
                                  description=_("app MiB")),
            "host_memory_gb": W.IntSlider(value=host_memory_gb, min=4, max=1024, step=4,
                                          description=_("host GiB")),
            "incident": W.Dropdown(options=[(_(_INCIDENTS.get(i, i)), i) for i in ct.INCIDENTS],
                                   value=incident, description=_("incident")),
            "limits": W.Checkbox(value=limits, description=_("cgroup limits")),
        }
        super().__init__(controls, extra=[W.HBox([self.diagram])])

    def compute(self, instances, app_mb, host_memory_gb, incident, limits):
        return (ct.compare(instances, app_mb, host_memory_gb),
                ct.blast_radius("container", incident, limits=limits),
                ct.blast_radius("vm", incident))

    def layer_images(self, result):
        key = (language(), max(1, min(result[0].instances, 4)))   # labels: current language
        if key not in self._diagram_svg:
            self._diagram_svg[key] = viz_ct.stacks_scene(key[1]).svg()
        return {self.diagram: self._diagram_svg[key]}

    def draw(self, result):
        return viz_ct.density_scene(result[0])

    def describe(self, result):
        comp, c, v = result
        rows = "".join(f"<tr><td>{html.escape(a)}</td><td>{b}</td><td>{d}</td></tr>"
                       for a, b, d in comp.rows())
        # scope is the model's key; its label and the model's why are in the current language
        reach = "".join(f"<tr><td>{_(_KINDS[r.kind])}</td>"
                        f"<td><b>{html.escape(ct.scope_label(r.scope))}</b></td>"
                        f"<td>{html.escape(r.why)}</td></tr>" for r in (c, v))
        incident = _(_INCIDENTS.get(c.incident, c.incident))
        reaches = _("A <b>{incident}</b> in one instance reaches:").format(
            incident=html.escape(incident))
        containers, scope, why = _("containers"), _("scope"), _("why")
        note = _("Costs are illustrative parameters, not measurements.")
        return (f"<table><tr><th></th><th>{containers}</th><th>VMs</th></tr>{rows}</table>"
                f"<p>{reaches}</p>"
                f"<table><tr><th></th><th>{scope}</th><th>{why}</th></tr>{reach}</table>"
                f"<p><i>{note}</i></p>")


def container_lab(instances: int = 10, app_mb: int = 200, host_memory_gb: int = 64,
                  incident: str = "fork bomb", limits: bool = True) -> ContainerLab:
    """The containers-vs-VMs app (notebook 05)."""
    return ContainerLab(instances, app_mb, host_memory_gb, incident, limits)


APPS = {"container_lab": container_lab}
